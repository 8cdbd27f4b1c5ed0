import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SparseVector } from '../sparse-vector.js';
import {
  sparse,
  sparseVectorOf,
  toDenseArray,
  unweighted,
  withPermutation,
} from '../test-support/sparse-fixtures.js';
import { aggregateMedian } from './median.js';

describe('aggregateMedian', () => {
  const x1 = sparse(4, [0, 1], [1, 5]);
  const x2 = sparse(4, [1, 2], [2, -4]);
  const x3 = sparse(4, [1], [-7]);

  it('takes the middle value per coordinate, on the union of supports (odd n)', () => {
    // coordinate 0: {1, 0, 0} -> 0; 1: {5, 2, -7} -> 2; 2: {0, -4, 0} -> 0; 3: stored by nobody.
    const median = aggregateMedian(unweighted([x1, x2, x3]));
    expect(Array.from(median.indices)).toEqual([0, 1, 2]);
    expect(Array.from(median.values)).toEqual([0, 2, 0]);
    expect(median.length).toBe(4);
  });

  it('averages the two middle values (even n)', () => {
    // With x4 = [3, 10, 0, 0]: coordinate 0: {1, 0, 0, 3} -> (0 + 1) / 2 = 0.5;
    // 1: {5, 2, -7, 10} -> (2 + 5) / 2 = 3.5; 2: {0, -4, 0, 0} -> (0 + 0) / 2 = 0.
    const x4 = sparse(4, [0, 1], [3, 10]);
    const median = aggregateMedian(unweighted([x1, x2, x3, x4]));
    expect(Array.from(median.indices)).toEqual([0, 1, 2]);
    expect(Array.from(median.values)).toEqual([0.5, 3.5, 0]);
  });

  it('is unmoved by a minority of arbitrary updates when the majority agree', () => {
    fc.assert(
      fc.property(
        sparseVectorOf(10),
        fc.array(
          sparseVectorOf(
            10,
            fc.float({ min: Math.fround(-3e38), max: Math.fround(3e38), noNaN: true }),
          ),
          {
            maxLength: 4,
          },
        ),
        fc.nat(),
        (honest, attackers, extra) => {
          // attackers.length <= 4 and honest copies = attackers.length + 1 + extra: a strict majority.
          const copies = attackers.length + 1 + (extra % 3);
          const contributions = [
            ...Array.from({ length: copies }, (): SparseVector => honest),
            ...attackers,
          ];
          const median = aggregateMedian(unweighted(contributions));
          expect(toDenseArray(median).map((x) => x + 0)).toEqual(
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
        ([updates, permuted]) => {
          expect(aggregateMedian(unweighted(permuted))).toEqual(
            aggregateMedian(unweighted(updates)),
          );
        },
      ),
    );
  });

  it('lists exactly the union of the supports, in increasing order', () => {
    fc.assert(
      fc.property(fc.array(sparseVectorOf(30), { minLength: 1, maxLength: 5 }), (updates) => {
        const union = [...new Set(updates.flatMap((u) => Array.from(u.indices)))].sort(
          (a, b) => a - b,
        );
        expect(Array.from(aggregateMedian(unweighted(updates)).indices)).toEqual(union);
      }),
    );
  });
});
