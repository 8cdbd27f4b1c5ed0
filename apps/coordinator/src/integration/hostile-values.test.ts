import * as tf from '@tensorflow/tfjs';
import { useFastestNodeBackend } from '@vtrain/ml/node';
import {
  DASHBOARD_NAMESPACE,
  RunEventNoticeSchema,
  encodeSparseUpdate,
  type DashboardClientToServerEvents,
  type DashboardServerToClientEvents,
  type RunConfigInput,
  type RunEventNotice,
} from '@vtrain/protocol';
import { parseSafetensors } from '@vtrain/ml';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCoordinator, waitFor } from './harness.js';
import { HELLO, connectRawWorker, connectSocket, type RawSocket } from './raw-worker.js';
import { startSimWorker, type SimWorker } from './sim-worker.js';

/*
 * Issue #14, "safe by default": a hostile volunteer who speaks the protocol correctly, against
 * a run that leaves every safety setting at its default (aggregation, contribution cap).
 * (a) +-3e38 (finite, so the decoder takes it) on 1,000 coordinates, 4 updates before the
 *     honest workers start (the warm-up: no history yet, so at most one is taken, scaled to
 *     the model's own bounds) and 4 once they trained (all refused);
 * (b) 200 fresh identities, one empty (or all-zero) update each: no version.
 * The honest run (2 workers, asynchronous, synthetic data, MLP 784-32-10, 10% top-k) must end
 * within 1 point of the same run without the attack, with finite weights and a working export.
 * (c) non-finite weights that got in anyway are rolled back to the last checkpoint, and
 * dashboards are told.
 */

const HONEST = 2;
const VERSIONS = 800;
const EMPTY_IDENTITIES = 200;

function config(name: string, extra: Partial<RunConfigInput> = {}): RunConfigInput {
  return {
    name,
    seed: 3,
    dataset: { name: 'synthetic', shards: HONEST },
    model: { kind: 'mlp', hiddenUnits: [32] },
    training: { batchSize: 32, workerOptimizer: { kind: 'sgd', learningRate: 0.15 } },
    compression: { density: 0.1, errorFeedback: true },
    schedule: { kind: 'async' },
    evaluation: { everyVersions: 10_000, testExamples: 500 },
    stop: { maxVersions: VERSIONS, maxSeconds: 1200 },
    ...extra,
  };
}

/** The attack's payload: +-3e38 on 1,000 coordinates. */
function hugePayload(parameterCount: number): Uint8Array {
  const indices = Uint32Array.from({ length: 1000 }, (_, j) => j * 7);
  const values = Float32Array.from(indices, (_, j) => (j % 2 === 0 ? 3e38 : -3e38));
  return encodeSparseUpdate({ length: parameterCount, indices, values }, { valueFormat: 'f32' });
}

interface Hostile {
  readonly socket: RawSocket;
  readonly runId: string;
  readonly parameterCount: number;
  seq: number;
}

async function joinRaw(url: string): Promise<Hostile> {
  const socket = await connectRawWorker(url);
  const welcome = await socket.emitWithAck('hello', HELLO);
  if (welcome.type !== 'welcome' || !welcome.assignment) throw new Error('no run to join');
  return {
    socket,
    runId: welcome.assignment.runId,
    parameterCount: welcome.assignment.parameterCount,
    seq: 0,
  };
}

/** Sends one update; the coordinator's answer as `applied`, `buffered` or the reject reason. */
async function push(hostile: Hostile, baseVersion: number, payload: Uint8Array): Promise<string> {
  const reply = await hostile.socket.emitWithAck('update', {
    type: 'update',
    runId: hostile.runId,
    seq: hostile.seq++,
    baseVersion,
    steps: 1,
    samples: 32,
    trainLoss: 1,
    computeMs: 5,
    payload,
  });
  return reply.type === 'ack' ? reply.status : reply.reason;
}

function tally(outcomes: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const outcome of outcomes) counts[outcome] = (counts[outcome] ?? 0) + 1;
  return counts;
}

interface Outcome {
  readonly accuracy: number;
  readonly version: number;
  readonly huge: readonly string[];
  readonly empty: readonly string[];
}

describe('hostile values against a default-config run', () => {
  let coordinator: TestCoordinator;
  const results = new Map<string, Outcome>();
  beforeAll(async () => {
    await useFastestNodeBackend();
    coordinator = await TestCoordinator.start();
  });
  afterAll(async () => {
    await coordinator.stop();
  });

  async function honestRun(attacked: boolean): Promise<Outcome> {
    const name = attacked ? 'attacked' : 'clean';
    const id = await coordinator.createRun(config(name));
    const live = coordinator.coordinator.manager.liveRun(id);
    if (!live) throw new Error('run not live');
    const empty: string[] = [];
    const huge: string[] = [];
    let hostile: Hostile | undefined;
    if (attacked) {
      // (b) 200 fresh identities, one empty update each (every other one all zeros).
      for (let batch = 0; batch < EMPTY_IDENTITIES; batch += 20) {
        await Promise.all(
          Array.from({ length: 20 }, async (_, i) => {
            const sybil = await joinRaw(coordinator.url);
            const P = sybil.parameterCount;
            const zeros = (batch + i) % 2 === 1;
            const payload = encodeSparseUpdate(
              zeros
                ? { length: P, indices: Uint32Array.of(1, 2), values: Float32Array.of(0, 0) }
                : { length: P, indices: new Uint32Array(0), values: new Float32Array(0) },
              { valueFormat: 'f32' },
            );
            empty.push(await push(sybil, 0, payload));
            sybil.socket.disconnect();
          }),
        );
      }
      expect(live.engine.version).toBe(0);
      // (a) no history yet: the warm-up.
      hostile = await joinRaw(coordinator.url);
      for (let i = 0; i < 4; i++) {
        huge.push(await push(hostile, live.engine.version, hugePayload(hostile.parameterCount)));
      }
    }
    let startTraining = (): void => undefined;
    const start = new Promise<void>((resolve) => {
      startTraining = resolve;
    });
    const workers: SimWorker[] = await Promise.all(
      Array.from({ length: HONEST }, (_, i) =>
        startSimWorker(coordinator.url, { seed: 100 + i, start }),
      ),
    );
    startTraining();
    try {
      if (hostile) {
        // (a) again, once the honest workers trained: the window knows what they send.
        await waitFor('honest training', 300_000, () =>
          Promise.resolve(live.engine.version >= VERSIONS / 4 ? true : undefined),
        );
        for (let i = 0; i < 4; i++) {
          huge.push(await push(hostile, live.engine.version, hugePayload(hostile.parameterCount)));
        }
        hostile.socket.disconnect();
      }
      await waitFor(`${name} to end`, 600_000, async () => {
        const summary = await coordinator.run(id);
        // The run ends at its version limit (workers that fail end it early, and fail the test).
        const failed = workers.some((w) => w.failure !== undefined);
        return summary.status !== 'active' || failed ? true : undefined;
      });
      for (const worker of workers) expect(worker.failure).toBeUndefined();
      const run = await coordinator.run(id);
      expect(run.status).toBe('completed');
      const accuracy = run.fullEvaluation?.testAccuracy ?? 0;

      // The weights are finite and the export works: the tfjs model loads and predicts.
      const base = `${coordinator.url}/api/runs/${id}/export`;
      const headers = { authorization: `Bearer ${coordinator.token}` };
      const safetensors = parseSafetensors(
        new Uint8Array(await (await fetch(`${base}/model.safetensors`, { headers })).arrayBuffer()),
      );
      for (const tensor of safetensors.tensors) {
        expect(tensor.data.every((w) => Number.isFinite(w))).toBe(true);
      }
      const model = await tf.loadLayersModel(
        tf.io.http(`${base}/tfjs/model.json`, { requestInit: { headers } }),
      );
      const prediction = tf.tidy(() =>
        (model.predict(tf.zeros([1, 28, 28, 1])) as tf.Tensor).dataSync(),
      );
      expect(prediction.every((p) => Number.isFinite(p))).toBe(true);
      model.dispose();

      const outcome = { accuracy, version: run.version, huge, empty };
      console.log(
        `hostile-values: ${name}: ${(accuracy * 100).toFixed(2)}% at version ${run.version}; ` +
          `huge updates ${JSON.stringify(tally(huge))}, empty updates ${JSON.stringify(tally(empty))}; ` +
          `rejected ${JSON.stringify(run.latest?.updatesRejected ?? {})}`,
      );
      return outcome;
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
  }

  it('the clean run trains', async () => {
    results.set('clean', await honestRun(false));
    expect(results.get('clean')?.accuracy).toBeGreaterThan(0.8);
  }, 900_000);

  it('+-3e38 and 200 empty identities: refused or bounded, within 1 point of clean', async () => {
    const clean = results.get('clean');
    if (!clean) throw new Error('the clean run comes first');
    const attacked = await honestRun(true);
    expect(attacked.empty).toHaveLength(EMPTY_IDENTITIES);
    expect(attacked.empty.every((reason) => reason === 'empty-update')).toBe(true);
    // Alone in the run, the attacker's first update ends the warm-up (scaled to half the
    // model's norm); every later one is refused outright.
    expect(
      attacked.huge.filter((outcome) => outcome !== 'unsafe-update').length,
    ).toBeLessThanOrEqual(1);
    expect(attacked.huge.slice(4)).toEqual([
      'unsafe-update',
      'unsafe-update',
      'unsafe-update',
      'unsafe-update',
    ]);
    expect(Math.abs(attacked.accuracy - clean.accuracy)).toBeLessThanOrEqual(0.01);
  }, 900_000);

  it('non-finite weights that got in are rolled back to the last checkpoint, and dashboards told', async () => {
    const id = await coordinator.createRun(
      config('rollback', { checkpoint: { everyVersions: 10, everySeconds: 3600 } }),
    );
    const live = coordinator.coordinator.manager.liveRun(id);
    if (!live) throw new Error('run not live');
    const dashboard = await connectSocket<
      Socket<DashboardServerToClientEvents, DashboardClientToServerEvents>
    >(coordinator.url, DASHBOARD_NAMESPACE, {});
    const events: RunEventNotice[] = [];
    dashboard.on('run-event', (notice: unknown) => {
      events.push(RunEventNoticeSchema.parse(notice));
    });
    try {
      await dashboard.emitWithAck('subscribe', { type: 'subscribe', runId: id });
      const worker = await startSimWorker(coordinator.url, { seed: 7, maxAccepted: 20 });
      await worker.done;
      await worker.stop();
      // One worker, 20 updates, a checkpoint every 10 versions: the latest is of version 20.
      await waitFor('the checkpoint of the current version', 60_000, () =>
        Promise.resolve(
          live.engine.version === 20 &&
            live.lastCheckpoint.version === 20 &&
            live.checkpointing === undefined
            ? true
            : undefined,
        ),
      );
      const good = live.engine.snapshot();
      const checkpointVersion = live.lastCheckpoint.version;
      const found = live.engine.version;
      // Whatever way it got there: a non-finite weight in the live model.
      live.engine.weights[3] = Number.NaN;
      const event = await waitFor('the rollback event', 60_000, () =>
        Promise.resolve(events.find((e) => e.runId === id)),
      );
      expect(event).toMatchObject({
        kind: 'rollback',
        foundAtVersion: found,
        checkpointVersion,
        version: found + 1,
      });
      expect(live.engine.version).toBe(found + 1);
      expect(live.engine.weights.every((w) => Number.isFinite(w))).toBe(true);
      expect(live.engine.weights).toEqual(good.weights);
      // Training goes on from the restored weights.
      const next = await startSimWorker(coordinator.url, { seed: 8, maxAccepted: 5 });
      await next.done;
      expect(next.failure).toBeUndefined();
      await next.stop();
      expect(live.engine.version).toBeGreaterThan(found + 1);
      await coordinator.api(`/api/runs/${id}/stop`, { method: 'POST' });
    } finally {
      dashboard.disconnect();
    }
  }, 300_000);
});
