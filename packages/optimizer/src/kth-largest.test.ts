import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { kthLargest } from './kth-largest.js';
import { mulberry32 } from './random.js';

describe('kthLargest', () => {
  it('finds ranks in a small hand case with ties', () => {
    // Descending: 9, 7, 7, 3, 3, 3, -1 -> rank 1 = 9, rank 3 = 7, rank 4 = 3, rank 7 = -1.
    const values = [3, 7, -1, 3, 9, 7, 3];
    const expected = [9, 7, 7, 3, 3, 3, -1];
    expected.forEach((value, position) => {
      expect(kthLargest(Float32Array.from(values), values.length, position + 1, () => 0.5)).toBe(
        value,
      );
    });
  });

  it('agrees with a descending sort for any pivot source, ties and all', () => {
    const pivotSource = fc.oneof(
      fc.integer().map((seed) => mulberry32(seed)),
      fc.constant(() => 0),
      fc.constant(() => 0.999999),
    );
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -5, max: 5 }), { minLength: 1, maxLength: 200 }),
        fc.nat(),
        pivotSource,
        (values, rankSeed, random) => {
          const rank = 1 + (rankSeed % values.length);
          const sortedDescending = [...values].sort((a, b) => b - a);
          const scratch = Float32Array.from(values);
          expect(kthLargest(scratch, values.length, rank, random)).toBe(sortedDescending[rank - 1]);
          // Only permuted: the multiset is unchanged.
          expect(Array.from(scratch).sort((a, b) => a - b)).toEqual(
            [...values].sort((a, b) => a - b),
          );
        },
      ),
    );
  });

  it('only looks at the first count entries', () => {
    // Among [1, 8, 2] the largest is 8; the 100 past count must be ignored.
    expect(kthLargest(Float32Array.from([1, 8, 2, 100]), 3, 1, () => 0.3)).toBe(8);
  });
});
