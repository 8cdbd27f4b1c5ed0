import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  sparse,
  sparseVectorOf,
  unweighted,
  withPermutation,
} from '../test-support/sparse-fixtures.js';
import { aggregateMean } from './mean.js';
import { aggregateNormClip } from './norm-clip.js';

const norm = (values: Float32Array): number => Math.sqrt(values.reduce((s, x) => s + x * x, 0));

describe('aggregateNormClip', () => {
  it('clips long updates to maxNorm before averaging', () => {
    // x1 = [3, 4] (norm 5) -> 2/5 * x1 = [1.2, 1.6]; x2 = [0, 1] (norm 1) is kept.
    // Mean: [(1.2 + 0) / 2, (1.6 + 1) / 2] = [0.6, 1.3].
    const clipped = aggregateNormClip(
      [{ update: sparse(2, [0, 1], [3, 4]) }, { update: sparse(2, [1], [1]) }],
      2,
    );
    expect(clipped[0]).toBeCloseTo(0.6, 6);
    expect(clipped[1]).toBeCloseTo(1.3, 6);
  });

  it('applies the weight before clipping', () => {
    // 0.25 * [3, 4] = [0.75, 1] (norm 1.25 <= 2, kept); mean with [0, 1]: [0.375, 1].
    const clipped = aggregateNormClip(
      [{ update: sparse(2, [0, 1], [3, 4]), weight: 0.25 }, { update: sparse(2, [1], [1]) }],
      2,
    );
    expect(Array.from(clipped)).toEqual([0.375, 1]);
  });

  it('keeps the output norm within maxNorm (up to float32 rounding)', () => {
    fc.assert(
      fc.property(
        fc.array(sparseVectorOf(12), { minLength: 1, maxLength: 6 }),
        fc.double({ min: 1e-3, max: 1e4, noNaN: true }),
        (updates, maxNorm) => {
          expect(norm(aggregateNormClip(unweighted(updates), maxNorm))).toBeLessThanOrEqual(
            maxNorm * (1 + 1e-6),
          );
        },
      ),
    );
  });

  it('equals the mean when every update is already short enough', () => {
    fc.assert(
      fc.property(fc.array(sparseVectorOf(12), { minLength: 1, maxLength: 6 }), (updates) => {
        // Every |value| <= 1000 and at most 12 entries: norm <= 1000 * sqrt(12) < 4000.
        expect(aggregateNormClip(unweighted(updates), 4000)).toEqual(
          aggregateMean(unweighted(updates)),
        );
      }),
    );
  });

  it('is invariant to the order of contributions', () => {
    fc.assert(
      fc.property(
        withPermutation(fc.array(sparseVectorOf(8), { minLength: 1, maxLength: 6 })),
        ([updates, permuted]) => {
          const a = aggregateNormClip(unweighted(updates), 50);
          const b = aggregateNormClip(unweighted(permuted), 50);
          // Binary64 sums in another order may differ in the last bits before rounding to float32.
          a.forEach((x, i) => {
            expect(b[i]).toBeCloseTo(x, 4);
          });
        },
      ),
    );
  });

  it.each([0, -1, Number.NaN, Infinity])('rejects maxNorm = %s', (maxNorm) => {
    expect(() => aggregateNormClip([{ update: sparse(1, [0], [1]) }], maxNorm)).toThrow(
      expect.objectContaining({ code: 'invalid-option' }),
    );
  });
});
