import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  sparse,
  sparseVectorOf,
  toDenseArray,
  unweighted,
} from '../test-support/sparse-fixtures.js';
import { AggregationError } from './aggregation-error.js';
import {
  AcceptedWindow,
  aggregateGuardedMean,
  guardBounds,
  screenUpdate,
  validateGuardedMeanParameters,
  vectorStats,
  type GuardedMeanParameters,
  type UpdateStats,
} from './guarded-mean.js';
import { aggregateMean } from './mean.js';

const DEFAULTS: GuardedMeanParameters = {
  normFactor: 4,
  magnitudeFactor: 8,
  window: 64,
  warmup: 8,
};

/** An MLP-like model: ||w||_2 = 15, largest |w| = 0.2. */
const model = (): UpdateStats => ({ norm: 15, maxAbs: 0.2 });

/** Honest-looking updates: 100 entries of +-0.05 (norm 0.5, largest 0.05). */
function honest(length: number, offset: number) {
  const indices = Array.from({ length: 100 }, (_, j) => (offset + j * 7) % length).sort(
    (a, b) => a - b,
  );
  return sparse(
    length,
    [...new Set(indices)],
    [...new Set(indices)].map((_, j) => (j % 2 === 0 ? 0.05 : -0.05)),
  );
}

/** The hostile volunteer of issue #14: +-3e38 (finite) on 1,000 coordinates. */
function huge(length: number) {
  const indices = Array.from({ length: 1000 }, (_, j) => j * 3);
  return sparse(
    length,
    indices,
    indices.map((_, j) => (j % 2 === 0 ? 3e38 : -3e38)),
  );
}

/** Serves updates one at a time as an asynchronous coordinator does; the window learns from accepted ones only. */
function serve(window: AcceptedWindow, update: ReturnType<typeof sparse>) {
  const verdict = screenUpdate(DEFAULTS, { update }, window.stats, model);
  if (verdict.kind === 'accept') window.record(verdict.stats);
  return verdict;
}

describe('guarded mean', () => {
  it('bounds: c x median of the accepted window once it holds W updates', () => {
    const accepted = [1, 2, 3, 4, 100, 6, 7, 8].map((n) => ({ norm: n, maxAbs: n / 10 }));
    // median of 1..8 with 5 replaced by 100: (4 + 6) / 2 = 5.
    expect(guardBounds(DEFAULTS, accepted, model)).toEqual({
      maxNorm: 4 * 5,
      maxAbs: 8 * 0.5,
      source: 'window',
    });
  });

  it('bounds in the warm-up come from the model: ||w||_2 / 2, c_inf ||w||_inf, with floors', () => {
    expect(guardBounds(DEFAULTS, [{ norm: 1, maxAbs: 1 }], model)).toEqual({
      maxNorm: 7.5,
      maxAbs: 8 * 0.2,
      source: 'model',
    });
    // A zero model: the floors 1 and 0.1, so its first updates are still taken.
    expect(guardBounds(DEFAULTS, [], () => ({ norm: 0, maxAbs: 0 }))).toEqual({
      maxNorm: 0.5,
      maxAbs: 8 * 0.1,
      source: 'model',
    });
    // With N = 2 active workers the warm-up ends after 2 accepted updates, not W = 8.
    const two = [
      { norm: 1, maxAbs: 1 },
      { norm: 3, maxAbs: 1 },
    ];
    expect(guardBounds(DEFAULTS, two, model, 2)).toEqual({
      maxNorm: 8,
      maxAbs: 8,
      source: 'window',
    });
    expect(guardBounds(DEFAULTS, two, model, 3).source).toBe('model');
  });

  it('refuses updates with no entry or only zeros as empty', () => {
    const window = new AcceptedWindow(64);
    expect(serve(window, sparse(10, [], []))).toEqual({ kind: 'empty' });
    expect(serve(window, sparse(10, [1, 4], [0, -0]))).toEqual({ kind: 'empty' });
    expect(window.stats).toHaveLength(0);
  });

  it('drops +-3e38 on 1,000 coordinates after the warm-up, and clips it to the model in the warm-up', () => {
    const P = 5000;
    const warming = new AcceptedWindow(64);
    const early = serve(warming, huge(P));
    // Alone, with no history: scaled onto the model's bounds, never left at 3e38.
    expect(early.kind).toBe('accept');
    if (early.kind !== 'accept') return;
    expect(early.stats.norm).toBeLessThanOrEqual(7.5 * (1 + 1e-12));
    expect(early.stats.maxAbs).toBeLessThanOrEqual(1.6 * (1 + 1e-12));
    expect(early.scale).toBeLessThan(1e-37);

    const window = new AcceptedWindow(64);
    for (let i = 0; i < DEFAULTS.warmup; i++)
      expect(serve(window, honest(P, i)).kind).toBe('accept');
    const late = serve(window, huge(P));
    expect(late).toMatchObject({ kind: 'drop', cause: 'norm' });
    // A sign-flipped x100 honest update: dropped too (norm 50 against 4 x 0.5).
    const flipped = honest(P, 3);
    flipped.values.forEach((v, j) => (flipped.values[j] = -100 * v));
    expect(serve(window, flipped)).toMatchObject({ kind: 'drop', cause: 'norm' });
    // Honest norm, one large entry: dropped by the magnitude bound.
    expect(serve(window, sparse(P, [0, 1], [0.01, 0.45]))).toMatchObject({
      kind: 'drop',
      cause: 'magnitude',
    });
    expect(serve(window, honest(P, 9)).kind).toBe('accept');
  });

  it('keeps dropped updates out of the window: 1,000 refused attacks do not move the bounds', () => {
    // Without this, an attacker's own refused norms fill the window, the median climbs to
    // them, and its next attack is taken (the norm-filter window of issue #14).
    const P = 5000;
    const window = new AcceptedWindow(16);
    for (let i = 0; i < DEFAULTS.warmup; i++) serve(window, honest(P, i));
    const before = guardBounds(DEFAULTS, window.stats, model);
    for (let attack = 0; attack < 1000; attack++) {
      expect(serve(window, huge(P)).kind).toBe('drop');
    }
    expect(guardBounds(DEFAULTS, window.stats, model)).toEqual(before);
    expect(window.stats).toHaveLength(DEFAULTS.warmup);
  });

  it('a batch: each update is screened against the window and the batch kept so far', () => {
    const P = 5000;
    const accepted = Array.from({ length: 8 }, () => vectorStats(honest(P, 0).values));
    const batch = unweighted([honest(P, 1), huge(P), honest(P, 2), sparse(P, [], [])]);
    const result = aggregateGuardedMean(batch, DEFAULTS, accepted, model);
    expect(result.dropped).toEqual([1, 3]);
    expect(result.kept).toHaveLength(2);
    const expected = aggregateMean(unweighted([honest(P, 1), honest(P, 2)]));
    const got = result.update instanceof Float32Array ? result.update : toDenseArray(result.update);
    expect(Array.from(got)).toEqual(Array.from(expected));
  });

  it('equals the mean when every update is within the bounds', () => {
    fc.assert(
      fc.property(
        fc.array(sparseVectorOf(8, fc.float({ min: -1, max: 1, noNaN: true })), {
          minLength: 1,
          maxLength: 6,
        }),
        (updates) => {
          const nonEmpty = updates.filter((u) => u.values.some((v) => v !== 0));
          if (nonEmpty.length === 0) return;
          // A wide window: every update of norm <= sqrt(8) and entries <= 1 is inside.
          const accepted = Array.from({ length: 8 }, () => ({ norm: 3, maxAbs: 1 }));
          const result = aggregateGuardedMean(unweighted(nonEmpty), DEFAULTS, accepted, model);
          expect(result.dropped).toEqual([]);
          expect(result.update).toEqual(aggregateMean(unweighted(nonEmpty)));
        },
      ),
    );
  });

  it('validates its parameters', () => {
    for (const bad of [
      { ...DEFAULTS, normFactor: 1 },
      { ...DEFAULTS, magnitudeFactor: Number.NaN },
      { ...DEFAULTS, window: 0 },
      { ...DEFAULTS, warmup: 65 },
    ]) {
      expect(() => {
        validateGuardedMeanParameters(bad);
      }).toThrow(AggregationError);
    }
    expect(() => new AcceptedWindow(0)).toThrow(AggregationError);
  });

  it('the window forgets the oldest beyond R', () => {
    const window = new AcceptedWindow(3);
    for (const norm of [1, 2, 3, 4, 5]) window.record({ norm, maxAbs: norm });
    expect(window.stats.map((s) => s.norm).sort()).toEqual([3, 4, 5]);
  });
});
