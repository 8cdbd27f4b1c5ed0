import { RunConfigSchema, type RunConfigInput } from '@vtrain/protocol';
import { describe, expect, it } from 'vitest';
import { RunEngine, WEIGHT_LIMIT, type UpdateMeta } from './run-engine.js';

/** Plain mean unless `extra` says otherwise: these tests are about the schedules' mechanics. */
function config(schedule: RunConfigInput['schedule'], extra: Partial<RunConfigInput> = {}) {
  return RunConfigSchema.parse({
    name: 't',
    schedule,
    stop: { maxVersions: 100 },
    aggregation: { rule: 'mean' },
    ...extra,
  });
}

/** The defaults of a run config, as a researcher who sets nothing gets them. */
function defaultConfig(schedule: RunConfigInput['schedule'], extra: Partial<RunConfigInput> = {}) {
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

/** An asynchronous norm-filter run (factor 3) of 2 weights, workers "honest" and "hostile", after 4 honest updates of 0.1. */
function normFilterAfterFourHonestUpdates(): RunEngine {
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
  return engine;
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
    const engine = normFilterAfterFourHonestUpdates();
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

/** An honest-looking update: `count` entries of +-0.01 from `offset` on. */
function honest(length: number, offset: number, count = 50) {
  const entries: Record<number, number> = {};
  for (let j = 0; j < count; j++) entries[(offset + j * 3) % length] = j % 2 === 0 ? 0.01 : -0.01;
  return sparse(length, entries);
}

/** Issue #14's attack: +-3e38 (finite, so the decoder takes it) on 1,000 coordinates. */
function huge(length: number) {
  const entries: Record<number, number> = {};
  for (let j = 0; j < 1000; j++) entries[j * 2] = j % 2 === 0 ? 3e38 : -3e38;
  return sparse(length, entries);
}

/** A glorot-like model: 0.05 everywhere. */
function model(length: number) {
  return new Float32Array(length).fill(0.05);
}

describe('RunEngine, safe by default', () => {
  const P = 4000;

  it('defaults to the guarded mean: after the warm-up, +-3e38 is refused, no version, model bit-identical', () => {
    const engine = new RunEngine(defaultConfig({ kind: 'async' }), model(P), 0);
    engine.join('honest', 0);
    engine.join('hostile', 0);
    for (let seq = 0; seq < 8; seq++) {
      const result = engine.submit(meta('honest', seq, engine.version), honest(P, seq), seq + 1);
      expect(result.verdict.status).toBe('applied');
    }
    const before = engine.weights.slice();
    const version = engine.version;
    for (let seq = 0; seq < 4; seq++) {
      const attack = engine.submit(meta('hostile', seq, version), huge(P), 20 + seq);
      expect(attack.verdict).toEqual({ status: 'rejected', reason: 'unsafe-update' });
      expect(attack.newVersion).toBeUndefined();
    }
    expect(engine.version).toBe(version);
    expect(engine.weights).toEqual(before);
    expect(engine.counters.updatesRejected['unsafe-update']).toBe(4);
    // Sign-flipped x100: refused as well.
    const flipped = honest(P, 1);
    flipped.values.forEach((v, j) => (flipped.values[j] = -100 * v));
    expect(engine.submit(meta('hostile', 4, version), flipped, 30).verdict).toEqual({
      status: 'rejected',
      reason: 'unsafe-update',
    });
    // The honest worker goes on.
    expect(engine.submit(meta('honest', 8, version), honest(P, 8), 31).verdict.status).toBe(
      'applied',
    );
  });

  it('in the warm-up, a huge update is scaled onto the model own bounds; alone, the next ones are refused', () => {
    const engine = new RunEngine(defaultConfig({ kind: 'async' }), model(P), 0);
    engine.join('hostile', 0);
    const attack = engine.submit(meta('hostile', 0, 0), huge(P), 1);
    expect(attack.verdict.status).toBe('applied');
    // One active worker: its first update ends the warm-up, the window then judges.
    expect(engine.submit(meta('hostile', 1, 1), huge(P), 2).verdict).toEqual({
      status: 'rejected',
      reason: 'unsafe-update',
    });
    let moved = 0;
    let largest = 0;
    engine.weights.forEach((w) => {
      expect(Number.isFinite(w)).toBe(true);
      largest = Math.max(largest, Math.abs(w - 0.05));
      moved += (w - 0.05) ** 2;
    });
    // ||w||_2 / 2 = 0.05 sqrt(4000) / 2 = 1.58 bounds the step's norm; 8 x 0.1 (the floor) its entries.
    expect(Math.sqrt(moved)).toBeLessThanOrEqual((0.05 * Math.sqrt(P) * 1.0001) / 2);
    expect(largest).toBeLessThanOrEqual(0.8 * 1.0001);
  });

  it.each([
    ['guarded-mean', {}],
    ['mean', { aggregation: { rule: 'mean' } }],
  ] as const)('%s: empty and all-zero updates make no version', (_, extra) => {
    const engine = new RunEngine(defaultConfig({ kind: 'async' }, extra), model(P), 0);
    for (let i = 0; i < 200; i++) {
      engine.join(`w${i}`, i);
      const update = i % 2 === 0 ? sparse(P, {}) : sparse(P, { 3: 0, 7: -0 });
      const result = engine.submit(meta(`w${i}`, 0, 0), update, i);
      expect(result.verdict).toEqual({ status: 'rejected', reason: 'empty-update' });
      expect(result.newVersion).toBeUndefined();
    }
    expect(engine.version).toBe(0);
    expect(engine.counters.updatesRejected['empty-update']).toBe(200);
  });

  it('mean (the opt-out), server SGD: a step past the weight limit is refused before the schedule', () => {
    const engine = new RunEngine(config({ kind: 'async' }), model(P), 0);
    engine.join('hostile', 0);
    const before = engine.weights.slice();
    const attack = engine.submit(meta('hostile', 0, 0), huge(P), 1);
    expect(attack.verdict).toEqual({ status: 'rejected', reason: 'unsafe-update' });
    expect(engine.version).toBe(0);
    expect(engine.weights).toEqual(before);
    // Up to the limit is still a step like any other.
    const edge = engine.submit(meta('hostile', 1, 0), sparse(P, { 0: 0.05 - WEIGHT_LIMIT }), 2);
    expect(edge.verdict.status).toBe('applied');
  });

  it('mean, momentum: a step that would break the model is refused after it, bit-identical, state too', () => {
    const momentum = {
      training: { serverOptimizer: { kind: 'momentum', learningRate: 1, momentum: 0.9 } },
    } as const;
    const engine = new RunEngine(config({ kind: 'async' }, momentum), model(P), 0);
    const twin = new RunEngine(config({ kind: 'async' }, momentum), model(P), 0);
    engine.join('a', 0);
    twin.join('a', 0);
    engine.submit(meta('a', 0, 0), honest(P, 0), 1);
    twin.submit(meta('a', 0, 0), honest(P, 0), 1);
    const before = engine.weights.slice();
    const attack = engine.submit(meta('a', 1, 1), huge(P), 2);
    expect(attack.verdict).toEqual({ status: 'rejected', reason: 'unsafe-update' });
    expect(engine.weights).toEqual(before);
    // The momentum buffer was restored too: the next step is the twin's, bit for bit.
    engine.submit(meta('a', 2, engine.version), honest(P, 5), 3);
    twin.submit(meta('a', 1, twin.version), honest(P, 5), 3);
    expect(engine.weights).toEqual(twin.weights);
  });

  it('norm-filter: dropped updates stay out of the window, so a long attack never gets in', () => {
    const engine = normFilterAfterFourHonestUpdates();
    const before = [...engine.weights];
    // With dropped norms in the window, the median reached 10 after 17 attacks and the rest got in.
    for (let seq = 0; seq < 40; seq++) {
      engine.submit(meta('hostile', seq, engine.version), sparse(2, { 1: -10 }), 10 + seq);
    }
    expect([...engine.weights]).toEqual(before);
  });

  it('rolls back to given weights as a new version; workers get the whole model', () => {
    const engine = new RunEngine(config({ kind: 'async' }), model(8), 0);
    engine.join('a', 0);
    engine.submit(meta('a', 0, 0), sparse(8, { 1: 1 }), 1);
    const good = engine.snapshot();
    engine.submit(meta('a', 1, 1), sparse(8, { 2: 1 }), 2);
    const effects = engine.rollBack(good.weights, good.optimizer);
    expect(effects.newVersion).toBe(3);
    expect(engine.version).toBe(3);
    expect(engine.weights).toEqual(good.weights);
    expect(engine.changedSince(2, 8)).toBeUndefined();
  });

  it('caps each worker by default in an asynchronous run (window 64, slack 2), not with 2 workers', () => {
    const engine = new RunEngine(defaultConfig({ kind: 'async' }), model(P), 0);
    for (const id of ['a', 'b', 'c']) engine.join(id, 0);
    const seqs: Record<string, number> = { a: 0, b: 0 };
    const offer = (id: 'a' | 'b') => {
      const seq = seqs[id] ?? 0;
      seqs[id] = seq + 1;
      return engine.submit(meta(id, seq, engine.version), honest(P, seq), seq).verdict.status;
    };
    for (let i = 0; i < 10; i++) {
      expect(offer('a')).toBe('applied');
      expect(offer('b')).toBe('applied');
    }
    // a and b train (c is idle): N = 3, so a may hold ceil(64 x 2 / 3) = 43 of the window.
    let more = 0;
    while (more < 100 && offer('a') === 'applied') more += 1;
    expect(10 + more).toBe(43);
    // Two workers (or one training among idle ones) are never limited.
    const two = new RunEngine(defaultConfig({ kind: 'async' }), model(P), 0);
    two.join('a', 0);
    two.join('b', 0);
    for (let i = 0; i < 200; i++) {
      expect(two.submit(meta('a', i, two.version), honest(P, i), i).verdict.status).toBe('applied');
    }
  });
});
