import type { AggregationRule } from '@vtrain/optimizer';
import type { RunConfigInput } from '@vtrain/protocol';
import { useFastestNodeBackend } from '@vtrain/ml/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCoordinator, waitFor } from './harness.js';
import { startSimWorker, type Attack } from './sim-worker.js';

/*
 * Hostile volunteers: 2 of 8 workers compute the honest update and send it
 * sign-flipped and scaled by 100, or send Gaussian noise of norm 100 instead.
 * Plain mean is wrecked; the robust rule (norm-filter: drop updates longer than
 * 3x the median norm) ends within 1 point of the clean run, and on a clean run
 * within 0.5 points of plain mean. Each run: synthetic data, MLP 784-32-10,
 * 10% top-k with error feedback, 200 synchronous rounds; the accuracy is the
 * final evaluation on the whole test set.
 */

const WORKERS = 8;
const ATTACKERS = 2;
const ROUNDS = 200;
const DEFENCE: AggregationRule = { rule: 'norm-filter', factor: 3 };
const MEAN: AggregationRule = { rule: 'mean' };
const SIGN_FLIP: Attack = { kind: 'sign-flip', scale: 100 };
const NOISE: Attack = { kind: 'noise', norm: 100 };
const CLEAN: Attack = { kind: 'none' };

function config(name: string, aggregation: AggregationRule): RunConfigInput {
  return {
    name,
    seed: 3,
    dataset: { name: 'synthetic', shards: WORKERS },
    model: { kind: 'mlp', hiddenUnits: [32] },
    training: { batchSize: 32, workerOptimizer: { kind: 'sgd', learningRate: 0.15 } },
    compression: { density: 0.1, errorFeedback: true },
    // Rounds close when all 8 reported (the deadline is never the reason): runs are comparable.
    schedule: { kind: 'sync', deadline: { minMs: 60_000, maxMs: 60_000 } },
    aggregation,
    evaluation: { everyVersions: 10_000, testExamples: 500 },
    stop: { maxVersions: ROUNDS, maxSeconds: 1200 },
  };
}

/**
 * Trains a run with 8 in-process workers, the first two attacking; the final test accuracy.
 * (Asynchronous robust aggregation, where the rule ranks each update against a window of
 * recent norms, is covered at the engine level in run-engine.test.ts.)
 */
async function finalAccuracy(
  coordinator: TestCoordinator,
  aggregation: AggregationRule,
  attack: Attack,
): Promise<number> {
  const name = `${aggregation.rule} ${attack.kind}`;
  const id = await coordinator.createRun(config(name, aggregation));
  // All eight join before any trains: every round then holds all of them, so neither the
  // join order nor a first round of two (where one attacker is half the batch) decides the result.
  let startTraining = (): void => undefined;
  const start = new Promise<void>((resolve) => {
    startTraining = resolve;
  });
  const workers = await Promise.all(
    Array.from({ length: WORKERS }, (_, i) =>
      startSimWorker(coordinator.url, {
        seed: 100 + i,
        attack: i < ATTACKERS ? attack : CLEAN,
        start,
      }),
    ),
  );
  startTraining();
  try {
    // The run ends at its version limit, or every worker gave up on a diverged model.
    await waitFor(`${name} to end`, 600_000, async () => {
      const summary = await coordinator.run(id);
      return summary.status !== 'active' || workers.every((w) => !w.running) ? true : undefined;
    });
    if ((await coordinator.run(id)).status === 'active') {
      await coordinator.api(`/api/runs/${id}/stop`, { method: 'POST' });
    }
    const run = await coordinator.run(id);
    // The final evaluation: the final weights on the whole test set.
    const accuracy = run.fullEvaluation?.testAccuracy ?? 0;
    const diverged = workers.filter((w) => w.failure !== undefined).length;
    console.log(
      `hostile: ${name}: ${(accuracy * 100).toFixed(2)}% at version ${run.version}` +
        (diverged > 0 ? ` (${diverged} workers saw the model diverge)` : ''),
    );
    return accuracy;
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
}

describe('hostile volunteers (2 of 8 attack)', () => {
  let coordinator: TestCoordinator;
  const clean = new Map<string, number>();
  beforeAll(async () => {
    await useFastestNodeBackend();
    coordinator = await TestCoordinator.start();
  });
  afterAll(async () => {
    await coordinator.stop();
  });

  it('on a clean run, the robust rule stays within 0.5 points of plain mean', async () => {
    clean.set('mean', await finalAccuracy(coordinator, MEAN, CLEAN));
    clean.set('robust', await finalAccuracy(coordinator, DEFENCE, CLEAN));
    expect(clean.get('mean')).toBeGreaterThan(0.9);
    expect(Math.abs((clean.get('robust') ?? 0) - (clean.get('mean') ?? 0))).toBeLessThanOrEqual(
      0.005,
    );
  }, 600_000);

  it.each([
    { label: 'sign-flip x100', attack: SIGN_FLIP },
    { label: 'noise of norm 100', attack: NOISE },
  ])(
    '$label: plain mean degrades, the robust rule stays within 1 point of clean',
    async ({ attack }) => {
      const cleanRobust = clean.get('robust');
      if (cleanRobust === undefined) throw new Error('the clean runs come first');
      const attackedMean = await finalAccuracy(coordinator, MEAN, attack);
      const defended = await finalAccuracy(coordinator, DEFENCE, attack);
      expect(attackedMean).toBeLessThan(cleanRobust - 0.2);
      expect(Math.abs(defended - cleanRobust)).toBeLessThanOrEqual(0.01);
    },
    600_000,
  );
});
