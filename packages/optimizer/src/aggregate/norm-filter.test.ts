import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sparse, sparseVectorOf, unweighted } from '../test-support/sparse-fixtures.js';
import { aggregateMean } from './mean.js';
import { contributionNorm } from './contribution.js';
import { aggregateNormFilter } from './norm-filter.js';

describe('aggregateNormFilter', () => {
  it('drops updates longer than factor x the median norm and averages the rest', () => {
    // Norms 1, 1, 2, 500: median (1 + 2) / 2 = 1.5, limit 3 * 1.5 = 4.5, so the 500 goes.
    // Mean of the kept three: [(1 + 0 + 2) / 3, (0 + 1 + 0) / 3].
    const result = aggregateNormFilter(
      unweighted([
        sparse(2, [0], [1]),
        sparse(2, [1], [1]),
        sparse(2, [0], [2]),
        sparse(2, [0, 1], [-300, -400]),
      ]),
      3,
    );
    expect(result.dropped).toEqual([3]);
    expect(result.reference).toBe(1.5);
    expect(result.update[0]).toBeCloseTo(1, 6);
    expect(result.update[1]).toBeCloseTo(1 / 3, 6);
  });

  it('uses recent norms as the reference for a one-update batch (asynchronous)', () => {
    const hostile = unweighted([sparse(3, [2], [100])]);
    const dropped = aggregateNormFilter(hostile, 3, [1, 1.2, 0.9]);
    expect(dropped.dropped).toEqual([0]);
    expect(Array.from(dropped.update)).toEqual([0, 0, 0]);
    const honest = aggregateNormFilter(unweighted([sparse(3, [2], [1.1])]), 3, [1, 1.2, 0.9]);
    expect(honest.dropped).toEqual([]);
    expect(honest.update[2]).toBeCloseTo(1.1, 6);
  });

  it('drops exactly the updates longer than factor x the reference, and else equals the mean', () => {
    fc.assert(
      fc.property(
        fc.array(sparseVectorOf(10), { minLength: 1, maxLength: 6 }),
        fc.double({ min: 1.01, max: 1e3, noNaN: true }),
        (updates, factor) => {
          const contributions = unweighted(updates);
          const result = aggregateNormFilter(contributions, factor);
          const norms = contributions.map(contributionNorm);
          norms.forEach((norm, i) => {
            expect(result.dropped.includes(i)).toBe(norm > factor * result.reference);
          });
          if (result.dropped.length === 0) {
            expect(result.update).toEqual(aggregateMean(contributions));
          }
        },
      ),
    );
  });

  it('keeps a batch of alike norms whole', () => {
    const result = aggregateNormFilter(
      unweighted([sparse(3, [0], [1]), sparse(3, [1], [-2]), sparse(3, [2], [1.5])]),
      3,
    );
    expect(result.dropped).toEqual([]);
  });

  it('rejects a bad factor or recent norm', () => {
    const one = unweighted([sparse(1, [0], [1])]);
    for (const factor of [1, 0.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => aggregateNormFilter(one, factor)).toThrow(/factor/);
    }
    expect(() => aggregateNormFilter(one, 2, [Number.NaN])).toThrow(/recent norms/);
  });
});
