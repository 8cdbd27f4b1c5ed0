import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SparseVector } from '../sparse-vector.js';
import {
  dyadic,
  sparse,
  sparseVectorOf,
  toDenseArray,
  unweighted,
  withPermutation,
} from '../test-support/sparse-fixtures.js';
import { aggregateMean } from './mean.js';
import { aggregateTrimmedMean } from './trimmed-mean.js';

describe('aggregateTrimmedMean', () => {
  const updates = [
    sparse(3, [0, 1], [1, 10]),
    sparse(3, [0], [2]),
    sparse(3, [0, 2], [3, -6]),
    sparse(3, [0, 1], [4, 100]),
    sparse(3, [0, 1], [-50, 20]),
  ];

  it('drops floor(f n) values at each end per coordinate', () => {
    // n = 5, f = 0.2 -> b = 1.
    // coordinate 0: {1, 2, 3, 4, -50} -> sorted -50 1 2 3 4 -> (1 + 2 + 3) / 3 = 2
    // coordinate 1: {10, 0, 0, 100, 20} -> sorted 0 0 10 20 100 -> (0 + 10 + 20) / 3 = 10
    // coordinate 2: {0, 0, -6, 0, 0} -> sorted -6 0 0 0 0 -> (0 + 0 + 0) / 3 = 0
    const trimmed = aggregateTrimmedMean(unweighted(updates), 0.2);
    expect(Array.from(trimmed.indices)).toEqual([0, 1, 2]);
    expect(Array.from(trimmed.values)).toEqual([2, 10, 0]);
    // f = 0.39 -> b = floor(1.95) = 1, same result.
    expect(Array.from(aggregateTrimmedMean(unweighted(updates), 0.39).values)).toEqual([2, 10, 0]);
    // f = 0.4 -> b = 2: only the middle value is left: [2, 10, 0].
    expect(Array.from(aggregateTrimmedMean(unweighted(updates), 0.4).values)).toEqual([2, 10, 0]);
  });

  it('with f = 0 is the mean on the union of supports', () => {
    // coordinate 0: (1 + 2 + 3 + 4 - 50) / 5 = -8; 1: 130 / 5 = 26; 2: -6 / 5 = -1.2.
    const trimmed = aggregateTrimmedMean(unweighted(updates), 0);
    expect(Array.from(trimmed.values)).toEqual([-8, 26, Math.fround(-1.2)]);
    fc.assert(
      fc.property(fc.array(sparseVectorOf(8, dyadic), { minLength: 1, maxLength: 6 }), (list) => {
        expect(toDenseArray(aggregateTrimmedMean(unweighted(list), 0))).toEqual(
          Array.from(aggregateMean(unweighted(list))),
        );
      }),
    );
  });

  it('ignores up to b updates with huge values when the rest agree', () => {
    const huge = fc.oneof(
      fc.float({ min: Math.fround(1e30), max: Math.fround(3e38), noNaN: true }),
      fc.float({ min: Math.fround(-3e38), max: Math.fround(-1e30), noNaN: true }),
    );
    fc.assert(
      fc.property(
        sparseVectorOf(10),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 0, max: 4 }),
        fc.array(huge, { minLength: 10, maxLength: 10 }),
        (honest, attackerCount, extraHonest, hugeValues) => {
          // Attackers store every coordinate with |value| >= 1e30 > 1000 >= |honest|, so they sort to
          // the ends; b = floor(f n) >= attackers trims all of them whichever side they land on.
          const attacker = sparse(10, [...Array(10).keys()], hugeValues);
          const n = 2 * attackerCount + 1 + extraHonest;
          const contributions = [
            ...Array.from({ length: n - attackerCount }, (): SparseVector => honest),
            ...Array.from({ length: attackerCount }, (): SparseVector => attacker),
          ];
          const trimFraction = Math.min(0.49, (attackerCount + 0.5) / n);
          expect(Math.floor(trimFraction * n)).toBeGreaterThanOrEqual(attackerCount);
          const trimmed = aggregateTrimmedMean(unweighted(contributions), trimFraction);
          expect(toDenseArray(trimmed).map((x) => x + 0)).toEqual(
            toDenseArray(honest).map((x) => x + 0),
          );
        },
      ),
    );
  });

  it('is invariant to the order of contributions, bit for bit', () => {
    fc.assert(
      fc.property(
        withPermutation(fc.array(sparseVectorOf(8), { minLength: 1, maxLength: 7 })),
        fc.double({ min: 0, max: 0.49, noNaN: true }),
        ([list, permuted], f) => {
          // Values are sorted per coordinate before summing, so the input order cannot leak in.
          expect(aggregateTrimmedMean(unweighted(permuted), f)).toEqual(
            aggregateTrimmedMean(unweighted(list), f),
          );
        },
      ),
    );
  });

  it.each([-0.1, 0.5, 0.7, Number.NaN])('rejects trimFraction = %s', (f) => {
    expect(() => aggregateTrimmedMean(unweighted(updates), f)).toThrow(
      expect.objectContaining({ code: 'invalid-option' }),
    );
  });
});
