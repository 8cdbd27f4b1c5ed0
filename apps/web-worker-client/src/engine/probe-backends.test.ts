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
    initialWeights: { seed: 1, sha256: '0'.repeat(64) }, // unused: the probe times steps only
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

/** A clock under which the probe's steps take `durations` ms in turn (each step reads it twice). */
function scriptedClock(durations: readonly number[]) {
  let t = 0;
  let reads = 0;
  return () => {
    if (reads % 2 === 1) t += durations[(reads - 1) / 2] ?? 1;
    reads++;
    return t;
  };
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

  it('times three steps, then more while the share of the budget lasts, within the budget', async () => {
    // 10 ms steps. Share 20 ms each: three steps (the minimum), then the share is spent.
    const short = await measureBackends(
      assignment,
      [cpu, cpu],
      { totalMs: 40, maxSteps: 5 },
      steppingClock(),
    );
    expect(short).toEqual([
      { name: 'cpu', outcome: 'measured', msPerStep: 10, steps: 3, firstStepMs: 10 },
      { name: 'cpu', outcome: 'measured', msPerStep: 10, steps: 3, firstStepMs: 10 },
    ]);
    // Share 50 ms: up to maxSteps.
    const long = await measureBackends(
      assignment,
      [cpu, cpu],
      { totalMs: 100, maxSteps: 5 },
      steppingClock(),
    );
    expect(long[0]).toMatchObject({ outcome: 'measured', steps: 5 });
    // Steps that take the whole budget end the timing early.
    const tight = await measureBackends(
      assignment,
      [cpu],
      { totalMs: 15, maxSteps: 5 },
      steppingClock(),
    );
    expect(tight).toEqual([
      { name: 'cpu', outcome: 'measured', msPerStep: 10, steps: 2, firstStepMs: 10 },
    ]);
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

  it('times on a GPU backend whose first step was all shader compilation', async () => {
    const asGpu: BackendCandidate = { name: 'webgpu', init: cpu.init };
    // webgpu: compiles for 500 ms, then one more slow step, then 3 ms steps (the median
    // hides the slow one); cpu: a 500 ms first step is not timed on.
    const measurements = await measureBackends(
      assignment,
      [asGpu, cpu],
      { totalMs: 100, maxSteps: 5 },
      scriptedClock([500, 40, 3, 3, 3, 3, 500]),
    );
    expect(measurements).toEqual([
      { name: 'webgpu', outcome: 'measured', msPerStep: 3, steps: 5, firstStepMs: 500 },
      { name: 'cpu', outcome: 'over-budget', firstStepMs: 500 },
    ]);
    // A GPU backend slow on its second step too is over the budget.
    const slow = await measureBackends(
      assignment,
      [asGpu],
      { totalMs: 100, maxSteps: 5 },
      scriptedClock([500, 400]),
    );
    expect(slow).toEqual([{ name: 'webgpu', outcome: 'over-budget', firstStepMs: 500 }]);
  });

  it('reports a model that cannot be built as a failure of that backend', async () => {
    const measurements = await measureBackends({ ...assignment, parameterCount: 10 }, [cpu]);
    expect(measurements).toEqual([
      { name: 'cpu', outcome: 'failed', reason: expect.stringContaining('parameters') as string },
    ]);
  });
});
