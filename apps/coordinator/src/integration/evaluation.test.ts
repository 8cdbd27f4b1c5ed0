import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import {
  DATASET_INFO,
  buildModel,
  evaluate,
  selectExamples,
  writeFlatWeights,
  type DatasetSplits,
  parseSafetensors,
} from '@vtrain/ml';
import { loadDataset, useFastestNodeBackend } from '@vtrain/ml/node';
import {
  DASHBOARD_NAMESPACE,
  HealthSchema,
  RunStatusNoticeSchema,
  RunSummarySchema,
  type DashboardClientToServerEvents,
  type DashboardServerToClientEvents,
  type MetricsPoint,
  type ModelSpec,
  type RunConfigInput,
  type RunSummary,
} from '@vtrain/protocol';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_RUN } from '../demo-run.js';
import { evaluationSample } from '../evaluation/evaluation-sample.js';
import type { ExportManifest } from '../export/manifest.js';
import { COORDINATOR_MAIN, freePort, killHard } from './coordinator-process.js';
import { TestCoordinator, waitFor } from './harness.js';
import { connectSocket } from './raw-worker.js';
import { startSimWorker } from './sim-worker.js';

/*
 * Every figure the coordinator shows is what it says: periodic evaluations use a
 * seeded random sample whose size travels with the figures, `target-reached`
 * needs the whole test set, the manifest's accuracy is that of the exported
 * weights, an accuracy of 0 stays 0, and `/api/health` answers once the demo
 * run exists. Real coordinator on port 0, real SQLite, real evaluation thread;
 * the expected figures are computed here with the same tfjs code.
 */

const SPEC: ModelSpec = { kind: 'mlp', hiddenUnits: [16] };

function syntheticRun(
  seed: number,
  testExamples: number,
  stop: RunConfigInput['stop'] = { maxSeconds: 3600 },
): RunConfigInput {
  return {
    name: `evaluation seed ${seed}`,
    seed,
    dataset: { name: 'synthetic', shards: 2 },
    model: SPEC,
    schedule: { kind: 'async' },
    // One evaluation when the run opens (version 0), none periodic after it.
    evaluation: { everyVersions: 1_000_000, testExamples },
    stop,
  };
}

let synthetic: DatasetSplits;
const models = new Map<number, tf.LayersModel>();

/** The model a run of this seed starts with: the coordinator builds the same one. */
async function initialModel(seed: number): Promise<tf.LayersModel> {
  let model = models.get(seed);
  if (!model) {
    model = await buildModel(SPEC, DATASET_INFO.synthetic, seed);
    models.set(seed, model);
  }
  return model;
}

/** Accuracy and loss of a run's initial weights on its evaluation sample and on the whole test set. */
async function expectedFigures(seed: number, sampleSize: number) {
  const model = await initialModel(seed);
  const indices = evaluationSample(synthetic.test.count, sampleSize, seed);
  const batchSize = 500;
  return {
    sample: await evaluate(model, selectExamples(synthetic.test, indices), { batchSize }),
    firstN: await evaluate(model, synthetic.test, { batchSize, limit: sampleSize }),
    full: await evaluate(model, synthetic.test, { batchSize }),
  };
}

function evaluated(points: readonly MetricsPoint[]): MetricsPoint[] {
  return points.filter((p) => p.testAccuracy !== undefined);
}

describe('evaluation figures', () => {
  let coordinator: TestCoordinator;
  beforeAll(async () => {
    await useFastestNodeBackend();
    synthetic = await loadDataset('synthetic');
    coordinator = await TestCoordinator.start();
  });
  afterAll(async () => {
    for (const model of models.values()) model.dispose();
    await coordinator.stop();
  });

  const stop = (id: string) => coordinator.api(`/api/runs/${id}/stop`, { method: 'POST' });
  const summary = async (id: string): Promise<RunSummary> =>
    RunSummarySchema.parse((await coordinator.api(`/api/runs/${id}`)).body);

  it('evaluates on a seeded random sample, not the first examples, and says how many', async () => {
    const seed = 11;
    const size = 200;
    const expected = await expectedFigures(seed, size);
    // The first 200 examples would give other figures: the check below can tell them apart.
    expect(Math.abs(expected.firstN.loss - expected.sample.loss)).toBeGreaterThan(1e-3);

    const id = await coordinator.createRun(syntheticRun(seed, size));
    const [first] = await waitFor('the version-0 evaluation', 60_000, async () => {
      const points = evaluated(await coordinator.metrics(id));
      return points.length > 0 ? points : undefined;
    });
    expect(first).toMatchObject({ version: 0, testExamples: size, testSet: 'sample' });
    expect(first?.testAccuracy).toBe(expected.sample.accuracy);
    expect(first?.testLoss).toBeCloseTo(expected.sample.loss, 4);

    // The summary carries the figures with the version and sample size they belong to.
    expect((await summary(id)).evaluation).toEqual({
      version: 0,
      at: first?.at,
      testLoss: first?.testLoss,
      testAccuracy: first?.testAccuracy,
      testExamples: size,
      testSet: 'sample',
    });

    // After a restart the resumed run evaluates version 0 again: on the same examples.
    await coordinator.restart();
    const again = await waitFor('the evaluation after the restart', 60_000, async () => {
      const points = evaluated(await coordinator.metrics(id));
      return points.length > 1 ? points[1] : undefined;
    });
    expect(again).toMatchObject({
      version: 0,
      testExamples: size,
      testSet: 'sample',
      testAccuracy: first?.testAccuracy,
      testLoss: first?.testLoss,
    });
    await stop(id);
  });

  it('ends a run at its target only when the whole test set reaches it', async () => {
    const size = 20;
    // A seed whose initial model does better on its 20-example sample than on the whole set.
    let found: { seed: number; sample: number; full: number } | undefined;
    for (let seed = 1; seed <= 60 && !found; seed++) {
      const { sample, full } = await expectedFigures(seed, size);
      if (sample.accuracy > full.accuracy + 0.02) {
        found = { seed, sample: sample.accuracy, full: full.accuracy };
      }
    }
    if (!found) throw new Error('no seed with a sample above the whole set among 60');
    const { seed } = found;

    // Target between the two: the sample passes it, the whole set does not.
    const missed = await coordinator.createRun(
      syntheticRun(seed, size, { targetAccuracy: found.sample, maxSeconds: 3600 }),
    );
    const check = await waitFor('the whole-set check', 60_000, async () =>
      evaluated(await coordinator.metrics(missed)).find((p) => p.testSet === 'full'),
    );
    expect(check).toMatchObject({ version: 0, testExamples: synthetic.test.count });
    expect(check.testAccuracy).toBeCloseTo(found.full, 10);
    const points = evaluated(await coordinator.metrics(missed));
    expect(points[0]).toMatchObject({ testSet: 'sample', testExamples: size });
    expect(points[0]?.testAccuracy).toBeGreaterThanOrEqual(found.sample);
    // Not ended by the target: a researcher's stop is what ends it.
    await stop(missed);
    expect((await summary(missed)).status).toBe('stopped');
    expect(coordinator.coordinator.manager.storedRun(missed)?.endedReason).toBe('stopped');

    // Target at the whole set's figure: the same check passes and the run ends as target-reached.
    const reached = await coordinator.createRun(
      syntheticRun(seed, size, { targetAccuracy: found.full, maxSeconds: 3600 }),
    );
    const ended = await waitFor('the run to reach its target', 60_000, async () => {
      const run = await summary(reached);
      return run.status === 'active' ? undefined : run;
    });
    expect(ended.status).toBe('completed');
    expect(coordinator.coordinator.manager.storedRun(reached)?.endedReason).toBe('target-reached');
    expect(ended.fullEvaluation).toMatchObject({
      version: 0,
      testSet: 'full',
      testExamples: synthetic.test.count,
    });
    expect(ended.fullEvaluation?.testAccuracy).toBeGreaterThanOrEqual(found.full);
  });

  it('shows an accuracy of 0 as 0', async () => {
    // A one-example sample the initial model gets wrong.
    let seed = 1;
    while ((await expectedFigures(seed, 1)).sample.accuracy !== 0) seed++;
    const id = await coordinator.createRun(syntheticRun(seed, 1));
    const run = await waitFor('the version-0 evaluation', 60_000, async () => {
      const current = await summary(id);
      return current.evaluation ? current : undefined;
    });
    expect(run.evaluation).toMatchObject({
      version: 0,
      testAccuracy: 0,
      testExamples: 1,
      testSet: 'sample',
    });
    const points = evaluated(await coordinator.metrics(id));
    expect(points[0]).toMatchObject({ version: 0, testAccuracy: 0, testExamples: 1 });
    await stop(id);
  });

  it('tells every dashboard the run summary with each point, so run lists move with the charts', async () => {
    const dashboard = await connectSocket<
      Socket<DashboardServerToClientEvents, DashboardClientToServerEvents>
    >(coordinator.url, DASHBOARD_NAMESPACE, {});
    const notices: RunSummary[] = [];
    dashboard.on('run-status', (notice: unknown) => {
      notices.push(RunStatusNoticeSchema.parse(notice).run);
    });
    try {
      // Not subscribed to the run: run lists follow every run.
      const id = await coordinator.createRun(syntheticRun(21, 100));
      const withEvaluation = await waitFor('a notice with the first evaluation', 60_000, () =>
        Promise.resolve(notices.find((run) => run.id === id && run.evaluation !== undefined)),
      );
      const points = await coordinator.metrics(id);
      const evaluatedPoint = evaluated(points)[0];
      expect(withEvaluation.evaluation).toMatchObject({
        version: 0,
        at: evaluatedPoint?.at,
        testAccuracy: evaluatedPoint?.testAccuracy,
        testExamples: 100,
      });
      expect(withEvaluation.latest).toEqual(evaluatedPoint);
      // The periodic points (every 2 s) come with their notices too.
      await waitFor('a notice with a later point', 60_000, () =>
        Promise.resolve(
          notices.find((run) => run.id === id && (run.latest?.at ?? 0) > (evaluatedPoint?.at ?? 0)),
        ),
      );
      await stop(id);
    } finally {
      dashboard.disconnect();
    }
  });

  it("states the accuracy of the exported weights' version in the manifest", async () => {
    const seed = 5;
    const id = await coordinator.createRun(syntheticRun(seed, 200));
    await waitFor('the version-0 evaluation', 60_000, async () =>
      (await summary(id)).evaluation ? true : undefined,
    );
    // Move the model on: the run's latest evaluation (version 0) is now older than its weights.
    const worker = await startSimWorker(coordinator.url, { seed: 3, maxAccepted: 6 });
    await worker.done;
    await worker.stop();
    const live = await summary(id);
    expect(live.version).toBeGreaterThan(0);
    expect(live.evaluation?.version).toBe(0);

    const manifestOf = async (): Promise<ExportManifest> =>
      (await coordinator.api(`/api/runs/${id}/export/manifest.json`)).body as ExportManifest;
    const manifest = await manifestOf();
    expect(manifest.formatVersion).toBe(3);
    expect(manifest.run.version).toBe(live.version);
    expect(manifest.evaluation).toMatchObject({
      version: live.version,
      testSet: 'full',
      testExamples: synthetic.test.count,
    });
    // ... and the figures are those of the exported weights themselves.
    const response = await fetch(`${coordinator.url}/api/runs/${id}/export/model.safetensors`, {
      headers: { authorization: `Bearer ${coordinator.token}` },
    });
    const tensors = parseSafetensors(new Uint8Array(await response.arrayBuffer())).tensors;
    const weights = new Float32Array(tensors.reduce((sum, t) => sum + t.data.length, 0));
    let offset = 0;
    for (const tensor of tensors) {
      weights.set(tensor.data, offset);
      offset += tensor.data.length;
    }
    const model = await buildModel(SPEC, DATASET_INFO.synthetic, seed);
    writeFlatWeights(model, weights);
    const exported = await evaluate(model, synthetic.test, { batchSize: 500 });
    model.dispose();
    expect(manifest.evaluation?.testAccuracy).toBe(exported.accuracy);
    expect(manifest.evaluation?.testLoss).toBeCloseTo(exported.loss, 4);

    // Once stopped, the manifest's figures are the run's final evaluation of its final version.
    await stop(id);
    const ended = await summary(id);
    const final = await manifestOf();
    expect(final.run.status).toBe('stopped');
    expect(final.run.version).toBe(ended.version);
    expect(final.evaluation).toEqual(ended.fullEvaluation);
    expect(final.evaluation?.version).toBe(ended.version);
  });
});

describe('/api/health on a first start', () => {
  it('answers only once the demo run exists', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'vtrain-health-'));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const child = spawn(process.execPath, [COORDINATOR_MAIN], {
      env: {
        ...process.env,
        PORT: String(port),
        DATA_DIR: dataDir,
        COORDINATOR_TOKEN: 'evaluation-researcher-token',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    try {
      // What a start-up script does: poll health (here as often as it can, to catch any
      // moment it answers too early), then list the runs at once.
      const deadline = Date.now() + 120_000;
      let health: { status: number; body: unknown } | undefined;
      while (!health && Date.now() < deadline) {
        const response = await fetch(`${url}/api/health`).catch(() => undefined);
        if (response) health = { status: response.status, body: await response.json() };
        else await new Promise((resolve) => setTimeout(resolve, 5));
      }
      if (!health) throw new Error('the coordinator never answered /api/health');
      const runs = (await (await fetch(`${url}/api/runs`)).json()) as RunSummary[];
      expect(health.status).toBe(200);
      expect(HealthSchema.parse(health.body)).toMatchObject({ ok: true, ready: true });
      expect(runs.map((run) => run.name)).toEqual([DEMO_RUN.name]);
    } finally {
      await killHard(child);
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 180_000);
});
