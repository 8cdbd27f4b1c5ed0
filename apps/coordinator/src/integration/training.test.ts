import * as tf from '@tensorflow/tfjs';
import { loadDataset, useFastestNodeBackend } from '@vtrain/ml/node';
import { parseSafetensors, type DatasetSplits } from '@vtrain/ml';
import type { RunConfigInput } from '@vtrain/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCoordinator, spawnWorkers, stopWorkers, waitFor } from './harness.js';

/*
 * Acceptance of the coordinator: 3 headless workers (separate processes) train
 * the MNIST MLP with 1% top-k and error feedback under each schedule until the
 * run stops itself at its accuracy target; the final evaluation (whole test
 * set) must be >= 90%, and the exported files must hold that same model.
 */

const WORKERS = 3;
const TIME_LIMIT_MS = 300_000;
const TARGET = 0.91;

function mnistRun(
  name: string,
  schedule: RunConfigInput['schedule'],
  everyVersions: number,
): RunConfigInput {
  return {
    name,
    dataset: { name: 'mnist', shards: WORKERS },
    model: { kind: 'mlp', hiddenUnits: [128] },
    training: {
      batchSize: 32,
      workerOptimizer: { kind: 'sgd', learningRate: 0.1 },
      serverOptimizer: { kind: 'sgd', learningRate: 1 },
    },
    compression: { density: 0.01, errorFeedback: true },
    schedule,
    // Periodic evaluations on 2000 examples decide the stop; the final one uses all 10,000.
    evaluation: { everyVersions, testExamples: 2000 },
    stop: { targetAccuracy: TARGET, maxSeconds: TIME_LIMIT_MS / 1000 },
  };
}

const algorithms: [string, RunConfigInput][] = [
  ['synchronous', mnistRun('sync', { kind: 'sync', deadline: { minMs: 200, maxMs: 5000 } }, 10)],
  ['asynchronous', mnistRun('async', { kind: 'async' }, 30)],
  [
    'hybrid (linear K over 300 updates)',
    mnistRun(
      'hybrid',
      { kind: 'hybrid', threshold: { shape: 'linear', clock: 'updates', horizon: 300 } },
      20,
    ),
  ],
  [
    'local SGD (H = 4)',
    mnistRun('local-sgd', { kind: 'local-sgd', period: { rule: 'fixed', steps: 4 } }, 5),
  ],
];

/** Accuracy of a plain tfjs model on the whole MNIST test set (it outputs logits). */
function accuracyOf(model: tf.LayersModel, test: DatasetSplits['test']): number {
  let correct = 0;
  const batch = 1000;
  for (let start = 0; start < test.count; start += batch) {
    const size = Math.min(batch, test.count - start);
    correct += tf.tidy(() => {
      const pixels = test.images.subarray(start * 784, (start + size) * 784);
      const xs = tf.tensor4d(
        Float32Array.from(pixels, (p) => p / 255),
        [size, 28, 28, 1],
      );
      const predicted = (model.predict(xs) as tf.Tensor).argMax(-1);
      const labels = tf.tensor1d(
        Int32Array.from(test.labels.subarray(start, start + size)),
        'int32',
      );
      return predicted.equal(labels).sum().dataSync()[0] ?? 0;
    });
  }
  return correct / test.count;
}

describe('training with 3 headless workers on MNIST, 1% top-k with error feedback', () => {
  let coordinator: TestCoordinator;
  let mnist: DatasetSplits;
  const report: string[] = [];

  beforeAll(async () => {
    await useFastestNodeBackend();
    [coordinator, mnist] = await Promise.all([TestCoordinator.start(), loadDataset('mnist')]);
  });

  afterAll(async () => {
    console.log(`\n${report.join('\n')}\n`);
    await coordinator.stop();
  });

  it.each(algorithms.map(([label, config]) => ({ label, config })))(
    '$label reaches 90% and exports the model it reports',
    async ({ label, config }) => {
      const id = await coordinator.createRun(config);
      const workers = spawnWorkers(coordinator.url, WORKERS);
      try {
        const run = await waitFor(
          `${label} to reach its target`,
          TIME_LIMIT_MS + 30_000,
          async () => {
            const summary = await coordinator.run(id);
            return summary.status === 'active' ? undefined : summary;
          },
        );
        expect(run.status).toBe('completed');
        // The final figures are of the final weights, on the whole test set.
        expect(run.fullEvaluation?.version).toBe(run.version);
        const accuracy = run.fullEvaluation?.testAccuracy ?? 0;
        expect(accuracy).toBeGreaterThanOrEqual(0.9);
        // A run that ended at its target ends with weights that reach it on the whole test set.
        const ended = coordinator.coordinator.manager.storedRun(id)?.endedReason;
        if (ended === 'target-reached') expect(accuracy).toBeGreaterThanOrEqual(TARGET);

        const points = await coordinator.metrics(id);
        const first = points.find((p) => (p.testAccuracy ?? 0) >= 0.9);
        const last = points.at(-1);
        const updates = last?.updatesApplied ?? 0;
        const bytesPerUpdate = (last?.bytesIn ?? 0) / Math.max(1, updates);
        const dense = run.parameterCount * 4;
        report.push(
          `${label}: 90% after ${first?.elapsedSeconds.toFixed(1)} s (version ${first?.version}), ` +
            `final ${(accuracy * 100).toFixed(2)}% at version ${run.version} (${ended ?? '?'}); ` +
            `${updates} updates, ${bytesPerUpdate.toFixed(0)} bytes/update up vs ${dense} dense ` +
            `(${((bytesPerUpdate / dense) * 100).toFixed(2)}%), ${((last?.bytesOut ?? 0) / 1e6).toFixed(1)} MB down`,
        );

        const base = `${coordinator.url}/api/runs/${id}/export`;
        // Exports need the researcher token, as every researcher action does.
        const headers = { authorization: `Bearer ${coordinator.coordinator.token}` };
        const model = await tf.loadLayersModel(
          tf.io.http(`${base}/tfjs/model.json`, { requestInit: { headers } }),
        );
        expect(Math.abs(accuracyOf(model, mnist.test) - accuracy)).toBeLessThanOrEqual(0.005);

        const safetensors = parseSafetensors(
          new Uint8Array(
            await (await fetch(`${base}/model.safetensors`, { headers })).arrayBuffer(),
          ),
        );
        expect(safetensors.tensors.map((t) => t.name)).toEqual(
          model.trainableWeights.map((w) => w.originalName),
        );
        for (const [i, weight] of model.trainableWeights.entries()) {
          const stored = safetensors.tensors[i];
          expect(stored?.shape).toEqual(weight.shape);
          expect(stored?.data).toEqual(await weight.read().data()); // bit-exact
        }
        model.dispose();
      } finally {
        await stopWorkers(workers);
      }
    },
    TIME_LIMIT_MS + 120_000,
  );
});
