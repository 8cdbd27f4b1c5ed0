import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { densify } from '../sparse-vector.js';
import {
  dyadic,
  sparse,
  sparseVectorOf,
  unweighted,
  withPermutation,
} from '../test-support/sparse-fixtures.js';
import { aggregate } from './aggregate.js';
import { aggregateMean, aggregateMeanSparse } from './mean.js';

describe('aggregateMean', () => {
  it('averages sparse updates, untouched entries counting as 0', () => {
    // x1 = [1, 0, 3, 0], x2 = [0, 0, 5, -2]; (x1 + x2) / 2 = [0.5, 0, 4, -1].
    const mean = aggregateMean([
      { update: sparse(4, [0, 2], [1, 3]) },
      { update: sparse(4, [2, 3], [5, -2]) },
    ]);
    expect(Array.from(mean)).toEqual([0.5, 0, 4, -1]);
  });

  it('scales by weights and divides by the count, not the weight sum', () => {
    // (1 * [1, 0, 3, 0] + 0.5 * [0, 0, 5, -2]) / 2 = [1, 0, 5.5, -1] / 2 = [0.5, 0, 2.75, -0.5].
    const mean = aggregateMean([
      { update: sparse(4, [0, 2], [1, 3]), weight: 1 },
      { update: sparse(4, [2, 3], [5, -2]), weight: 0.5 },
    ]);
    expect(Array.from(mean)).toEqual([0.5, 0, 2.75, -0.5]);
    // A lone damped update moves the model less: (0.25 * [8]) / 1 = [2].
    expect(Array.from(aggregateMean([{ update: sparse(1, [0], [8]), weight: 0.25 }]))).toEqual([2]);
  });

  it('of n copies of one update is that update', () => {
    fc.assert(
      fc.property(sparseVectorOf(10), fc.integer({ min: 1, max: 9 }), (update, n) => {
        const mean = aggregateMean(Array.from({ length: n }, () => ({ update })));
        // n * x / n rounds back to x; compare as numbers (the zero-filled accumulator turns -0 into 0).
        expect(Array.from(mean, (x) => x + 0)).toEqual(Array.from(densify(update), (x) => x + 0));
      }),
    );
  });

  it('is invariant to the order of contributions', () => {
    fc.assert(
      fc.property(
        withPermutation(fc.array(sparseVectorOf(8, dyadic), { minLength: 1, maxLength: 6 })),
        ([updates, permuted]) => {
          // Dyadic values (j/8, |j| <= 8000) sum exactly in binary64, so order cannot matter at all.
          expect(aggregateMean(unweighted(permuted))).toEqual(aggregateMean(unweighted(updates)));
        },
      ),
    );
  });
});

describe('aggregateMeanSparse', () => {
  it('stores the mean on the union of the supports only', () => {
    const mean = aggregateMeanSparse([
      { update: sparse(6, [0, 2], [1, 3]) },
      { update: sparse(6, [2, 3], [5, -2]) },
    ]);
    expect(Array.from(mean.indices)).toEqual([0, 2, 3]);
    expect(Array.from(mean.values)).toEqual([0.5, 4, -1]);
  });

  it('sums a shared coordinate in contribution order, as the dense mean does', () => {
    // In binary64, (1 + 1e30) - 1e30 is 0 while (-1e30 + 1e30) + 1 is 1: the order shows.
    const contributions = [1, 1e30, -1e30].map((value) => ({ update: sparse(4, [2], [value]) }));
    expect(Array.from(aggregateMeanSparse(contributions).values)).toEqual([
      aggregateMean(contributions)[2],
    ]);
    expect(aggregateMean(contributions)[2]).toBe(0);
  });

  it('equals the dense mean bit for bit, weights and rounding included', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            update: sparseVectorOf(12),
            weight: fc.double({ min: 0.01, max: 1, noNaN: true }),
          }),
          { minLength: 1, maxLength: 7 },
        ),
        (contributions) => {
          const dense = aggregateMean(contributions);
          const sparseMean = aggregateMeanSparse(contributions);
          const densified = new Float32Array(dense.length);
          sparseMean.indices.forEach((index, j) => {
            densified[index] = sparseMean.values[j];
          });
          // Compare bit patterns (the dense zero-filled accumulator turns -0 into 0; so does 0 + x).
          const bits = (x: Float32Array) => Array.from(new Uint32Array(x.map((v) => v + 0).buffer));
          expect(bits(densified)).toEqual(bits(dense));
        },
      ),
    );
  });

  it('is what aggregate() returns for a mean of inputs storing under a quarter of P', () => {
    const few = [{ update: sparse(100, [3, 50], [1, 2]) }];
    expect(aggregate({ rule: 'mean' }, few)).not.toBeInstanceOf(Float32Array);
    const many = [{ update: sparse(4, [0, 1, 2], [1, 2, 3]) }];
    expect(aggregate({ rule: 'mean' }, many)).toBeInstanceOf(Float32Array);
  });
});
