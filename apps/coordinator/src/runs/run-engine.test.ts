import { RunConfigSchema, type RunConfigInput } from '@vtrain/protocol';
import { describe, expect, it } from 'vitest';
import { RunEngine, type UpdateMeta } from './run-engine.js';

function config(schedule: RunConfigInput['schedule'], extra: Partial<RunConfigInput> = {}) {
  return RunConfigSchema.parse({ name: 't', schedule, stop: { maxVersions: 100 }, ...extra });
}

function sparse(length: number, entries: Record<number, number>) {
  const indices = Object.keys(entries).map(Number);
  return {
    length,
    indices: Uint32Array.from(indices),
    values: Float32Array.from(indices.map((i) => entries[i] ?? 0)),
  };
}

function meta(workerId: string, seq: number, baseVersion: number): UpdateMeta {
  return { workerId, seq, baseVersion, computeMs: 10, samples: 32, trainLoss: 1, payloadBytes: 20 };
}

describe('RunEngine', () => {
  it('asynchronous: applies each update on arrival, w -= lr * u', () => {
    const engine = new RunEngine(config({ kind: 'async' }), new Float32Array([1, 1, 1, 1]), 0);
    engine.join('a', 0);
    const result = engine.submit(meta('a', 0, 0), sparse(4, { 1: 0.5, 3: -2 }), 1);
    expect(result.verdict).toEqual({ status: 'applied', version: 1, staleness: 0 });
    expect(result.newVersion).toBe(1);
    expect([...engine.weights]).toEqual([1, 0.5, 1, 3]); // 1 - 0.5, 1 - (-2)
    expect([...(engine.changedSince(0, 10) ?? [])]).toEqual([1, 3]);
  });

  it('synchronous: buffers until every worker reported, then applies the mean once', () => {
    const engine = new RunEngine(config({ kind: 'sync' }), new Float32Array(4), 0);
    engine.join('a', 0);
    engine.join('b', 0);
    const first = engine.submit(meta('a', 0, 0), sparse(4, { 0: 2, 1: 4 }), 1);
    expect(first.verdict).toEqual({ status: 'buffered', version: 0 });
    expect(first.wakeAt).toBeGreaterThan(1);
    const second = engine.submit(meta('b', 0, 0), sparse(4, { 1: 2, 2: 6 }), 2);
    expect(second.verdict).toEqual({ status: 'applied', version: 1, staleness: 0 });
    // mean = [2, 6, 6, 0] / 2 = [1, 3, 3, 0]; w = 0 - mean
    expect([...engine.weights]).toEqual([-1, -3, -3, 0]);
    expect(engine.counters.updatesApplied).toBe(2);
  });

  it('a sync round closes at its deadline without the straggler', () => {
    const engine = new RunEngine(config({ kind: 'sync' }), new Float32Array(2), 0);
    engine.join('a', 0);
    engine.join('slow', 0);
    const { wakeAt } = engine.submit(meta('a', 0, 0), sparse(2, { 0: 1 }), 1);
    expect(wakeAt).toBeDefined();
    expect(engine.tick(wakeAt ?? 0).newVersion).toBe(1);
    expect([...engine.weights]).toEqual([-1, 0]);
  });

  it('damps a stale asynchronous update by 1 / (1 + s)', () => {
    const engine = new RunEngine(
      config({ kind: 'async', staleness: { damping: 'inverse-plus-one' } }),
      new Float32Array(1),
      0,
    );
    engine.join('a', 0);
    engine.join('b', 0);
    engine.submit(meta('a', 0, 0), sparse(1, { 0: 1 }), 1); // v1, w = -1
    const late = engine.submit(meta('b', 0, 0), sparse(1, { 0: 4 }), 2); // s = 1: 4 / 2 = 2
    expect(late.verdict).toEqual({ status: 'applied', version: 2, staleness: 1 });
    expect(engine.weights[0]).toBe(-3);
    expect(engine.counters.stalenessCounts.slice(0, 2)).toEqual([1, 1]);
  });

  it('rejects a replayed seq and an unknown worker, and counts them', () => {
    const engine = new RunEngine(config({ kind: 'async' }), new Float32Array(2), 0);
    engine.join('a', 0);
    engine.submit(meta('a', 5, 0), sparse(2, { 0: 1 }), 1);
    const replay = engine.submit(meta('a', 5, 0), sparse(2, { 0: 1 }), 2);
    expect(replay.verdict).toEqual({ status: 'rejected', reason: 'duplicate' });
    const stranger = engine.submit(meta('z', 0, 0), sparse(2, { 1: 1 }), 3);
    expect(stranger.verdict).toEqual({ status: 'rejected', reason: 'unknown-worker' });
    expect([...engine.weights]).toEqual([-1, 0]); // applied exactly once
    expect(engine.counters.updatesRejected).toEqual({ duplicate: 1, 'unknown-worker': 1 });
  });

  it('patches: union of changed coordinates; none when everything moved', () => {
    const engine = new RunEngine(config({ kind: 'async' }), new Float32Array(6), 0);
    engine.join('a', 0);
    engine.submit(meta('a', 0, 0), sparse(6, { 4: 1 }), 1);
    engine.submit(meta('a', 1, 1), sparse(6, { 1: 1, 4: 1 }), 2);
    expect([...(engine.changedSince(0, 6) ?? [])]).toEqual([1, 4]);
    expect(engine.changedSince(0, 2)).toBeUndefined(); // not smaller than 2 entries
    expect([...(engine.changedSince(2, 6) ?? [])]).toEqual([]);

    const adam = new RunEngine(
      config(
        { kind: 'async' },
        { training: { serverOptimizer: { kind: 'adam', learningRate: 0.1 } } },
      ),
      new Float32Array(6),
      0,
    );
    adam.join('a', 0);
    adam.submit(meta('a', 0, 0), sparse(6, { 4: 1 }), 1);
    expect(adam.changedSince(0, 6)).toBeUndefined();
  });

  it('continues from a snapshot: same version, weights and seq memory; workers re-join', () => {
    const runConfig = config({ kind: 'sync' });
    const engine = new RunEngine(runConfig, new Float32Array(2), 0);
    engine.join('a', 0);
    engine.submit(meta('a', 0, 0), sparse(2, { 0: 1 }), 1); // sole worker: applied, v1
    engine.join('b', 2);
    engine.submit(meta('b', 0, 1), sparse(2, { 1: 1 }), 3); // buffered, never acknowledged applied
    const snapshot = JSON.parse(
      JSON.stringify({ ...engine.snapshot(), weights: [] }),
    ) as ReturnType<RunEngine['snapshot']>;
    const restored = new RunEngine(runConfig, engine.snapshot().weights, 10, {
      ...snapshot,
      optimizer: engine.snapshot().optimizer,
    });
    expect(restored.version).toBe(1);
    expect(restored.activeWorkers).toBe(0);
    restored.join('a', 11);
    const replay = restored.submit(meta('a', 0, 0), sparse(2, { 0: 1 }), 12);
    expect(replay.verdict).toEqual({ status: 'rejected', reason: 'duplicate' });
    expect([...restored.weights]).toEqual([-1, 0]);
  });
  it('norm-filter, asynchronous: ranks each lone update against a window of recent norms', () => {
    const engine = new RunEngine(
      config({ kind: 'async' }, { aggregation: { rule: 'norm-filter', factor: 3 } }),
      new Float32Array(2),
      0,
    );
    engine.join('honest', 0);
    engine.join('hostile', 0);
    for (let seq = 0; seq < 4; seq++) {
      engine.submit(meta('honest', seq, engine.version), sparse(2, { 0: 0.1 }), seq + 1);
    }
    const before = [...engine.weights];
    // Sign-flipped and scaled by 100: alone in its batch, but 100x the window's median.
    const attack = engine.submit(meta('hostile', 0, engine.version), sparse(2, { 0: -10 }), 9);
    expect(attack.verdict).toMatchObject({ status: 'applied' }); // taken, and filtered out
    expect([...engine.weights]).toEqual(before);
    engine.submit(meta('honest', 4, engine.version), sparse(2, { 1: 0.1 }), 10);
    expect(engine.weights[1]).toBeCloseTo(-0.1, 6);
  });

  it('contributionCap: refuses a worker over its share as rate-limited', () => {
    const engine = new RunEngine(
      config({ kind: 'async' }, { contributionCap: { window: 4, slack: 1 } }),
      new Float32Array(1),
      0,
    );
    engine.join('a', 0);
    engine.join('b', 0);
    for (let seq = 0; seq < 2; seq++) {
      expect(
        engine.submit(meta('a', seq, engine.version), sparse(1, { 0: 1 }), 1).verdict,
      ).toMatchObject({
        status: 'applied',
      });
    }
    expect(engine.submit(meta('a', 2, engine.version), sparse(1, { 0: 1 }), 2).verdict).toEqual({
      status: 'rejected',
      reason: 'rate-limited',
    });
    expect(engine.counters.updatesRejected['rate-limited']).toBe(1);
  });
});

describe('RunEngine, LUPA adaptive period', () => {
  function lupaEngine() {
    const engine = new RunEngine(
      config({
        kind: 'local-sgd',
        period: { rule: 'lupa-adaptive', initialSteps: 2, maxSteps: 64 },
      }),
      new Float32Array(4),
      0,
    );
    engine.join('a', 0);
    engine.join('b', 0);
    return engine;
  }

  /** One synchronous round: both workers report `losses`; returns the phase command, if any. */
  function round(engine: RunEngine, seq: number, losses: [number, number], at: number) {
    const base = engine.version;
    const first = engine.submit(
      { ...meta('a', seq, base), trainLoss: losses[0] },
      sparse(4, { 0: 0.1 }),
      at,
    );
    const second = engine.submit(
      { ...meta('b', seq, base), trainLoss: losses[1] },
      sparse(4, { 1: 0.1 }),
      at + 1,
    );
    expect(second.verdict.status).toBe('applied');
    return second.phase ?? first.phase;
  }

  it('sets H from the mean training loss of each round: tau = ceil((F0 / F)^(1/3)) tau_0', () => {
    const engine = lupaEngine();
    expect(engine.phase.localSteps).toBe(2);
    round(engine, 0, [8, 8], 10); // F(x_0) = 8
    expect(engine.phase.localSteps).toBe(2);
    round(engine, 1, [3, 1], 20); // mean 2: (8 / 2)^(1/3) = 1.59 -> 2 tau_0
    expect(engine.phase.localSteps).toBe(4);
    round(engine, 2, [0.1, 0.1], 30); // (8 / 0.1)^(1/3) = 4.3 -> 5 tau_0
    expect(engine.phase.localSteps).toBe(10);
  });

  it('leaves the period to the training loss: a test-set evaluation does not move it', () => {
    const engine = lupaEngine();
    round(engine, 0, [8, 8], 10);
    expect(engine.evaluated(0.001, 15)).toEqual({});
    round(engine, 1, [8, 8], 20);
    expect(engine.phase.localSteps).toBe(2);
  });
});
