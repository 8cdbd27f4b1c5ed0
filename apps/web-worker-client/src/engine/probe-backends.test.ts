import * as tf from '@tensorflow/tfjs';
import { AssignmentSchema, parseMessage } from '@vtrain/protocol';
import { describe, expect, it } from 'vitest';
import type { BackendCandidate } from './choose-backend.js';
import { measureBackends } from './probe-backends.js';

const assignment = parseMessage(
  AssignmentSchema,
  {
    runId: 'probe',
    runName: 'probe',
    model: { kind: 'mlp', hiddenUnits: [8] },
    parameterCount: 784 * 8 + 8 + 8 * 10 + 10,
    dataset: { name: 'mnist', shardUrl: '/unused', shardIndex: 0, shardCount: 1 },
    training: { batchSize: 4, workerOptimizer: { kind: 'sgd', learningRate: 0.1 } },
    compression: { density: 0.01, errorFeedback: true },
    localSteps: 1,
  },
  'probe assignment',
);

/** The real tfjs cpu backend (the only one in this test environment). */
const cpu: BackendCandidate = {
  name: 'cpu',
  init: async () => ((await tf.setBackend('cpu')) ? undefined : 'cpu failed'),
};

/** A clock that moves 10 ms per reading: step times are exactly 10 ms. */
function steppingClock() {
  let t = 0;
  return () => (t += 10);
}

describe('measureBackends', () => {
  it('times real steps on the cpu backend, reports a failing backend, and leaks no tensor', async () => {
    await tf.setBackend('cpu');
    const before = tf.memory().numTensors;
    const measurements = await measureBackends(
      assignment,
      [
        { name: 'webgpu', init: () => Promise.resolve('no WebGPU adapter is available') },
        { name: 'webgl', init: () => Promise.reject(new Error('context lost')) },
        cpu,
      ],
      { totalMs: 60_000, maxSteps: 3 },
    );
    expect(measurements[0]).toEqual({
      name: 'webgpu',
      outcome: 'failed',
      reason: 'no WebGPU adapter is available',
    });
    expect(measurements[1]).toEqual({ name: 'webgl', outcome: 'failed', reason: 'context lost' });
    const timed = measurements[2];
    expect(timed?.outcome).toBe('measured');
    if (timed?.outcome !== 'measured') return;
    expect(timed.steps).toBe(3);
    expect(timed.msPerStep).toBeGreaterThan(0);
    expect(timed.firstStepMs).toBeGreaterThan(0);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('stops timing a backend once its share of the budget is spent (at least one step)', async () => {
    const measurements = await measureBackends(
      assignment,
      [cpu, cpu],
      { totalMs: 40, maxSteps: 5 },
      steppingClock(),
    );
    // Share 20 ms each: steps of 10 ms, the loop stops once 20 ms are spent.
    expect(measurements).toEqual([
      { name: 'cpu', outcome: 'measured', msPerStep: 10, steps: 2, firstStepMs: 10 },
      { name: 'cpu', outcome: 'measured', msPerStep: 10, steps: 2, firstStepMs: 10 },
    ]);
    const tight = await measureBackends(
      assignment,
      [cpu, cpu, cpu, cpu],
      { totalMs: 12, maxSteps: 5 },
      steppingClock(),
    );
    expect(tight[0]).toMatchObject({ outcome: 'measured', steps: 1 });
  });

  it('does not time a backend whose warm-up step alone overran the whole budget', async () => {
    const measurements = await measureBackends(
      assignment,
      [cpu],
      { totalMs: 5, maxSteps: 5 },
      steppingClock(),
    );
    expect(measurements).toEqual([{ name: 'cpu', outcome: 'over-budget', firstStepMs: 10 }]);
  });

  it('reports a model that cannot be built as a failure of that backend', async () => {
    const measurements = await measureBackends({ ...assignment, parameterCount: 10 }, [cpu]);
    expect(measurements).toEqual([
      { name: 'cpu', outcome: 'failed', reason: expect.stringContaining('parameters') as string },
    ]);
  });
});
