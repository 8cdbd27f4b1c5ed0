import fc from 'fast-check';
import type { SparseVector } from '../sparse-vector.js';

/**
 * A sparse vector from plain arrays, for hand-written test cases.
 *
 * @param length - dense dimension.
 * @param indices - positions (not checked: tests of validation pass bad ones on purpose).
 * @param values - entries at those positions.
 */
export function sparse(
  length: number,
  indices: readonly number[],
  values: readonly number[],
): SparseVector {
  return { length, indices: Uint32Array.from(indices), values: Float32Array.from(values) };
}

/** Dyadic rationals j/8 with |j| <= 8000: sums of a few of them are exact in binary64 and float32. */
export const dyadic = fc.integer({ min: -8000, max: 8000 }).map((j) => j / 8);

/** Float32 values in [-1000, 1000], -0 included, no NaN. */
export const float32Value = fc.float({ min: -1000, max: 1000, noNaN: true });

/**
 * A valid sparse vector of dimension `length` with values drawn from `value`.
 *
 * @param length - dense dimension, >= 1.
 * @param value - arbitrary for the stored values.
 */
export function sparseVectorOf(
  length: number,
  value: fc.Arbitrary<number> = float32Value,
): fc.Arbitrary<SparseVector> {
  return fc
    .uniqueArray(fc.record({ index: fc.nat({ max: length - 1 }), value }), {
      selector: (entry) => entry.index,
      maxLength: length,
    })
    .map((entries) => {
      entries.sort((a, b) => a.index - b.index);
      return sparse(
        length,
        entries.map((entry) => entry.index),
        entries.map((entry) => entry.value),
      );
    });
}

/**
 * Dense contents of a sparse vector as a plain array (for `toEqual` comparisons).
 *
 * @param vector - the vector; indices are trusted.
 */
export function toDenseArray(vector: SparseVector): number[] {
  const dense = new Array<number>(vector.length).fill(0);
  vector.indices.forEach((index, j) => {
    dense[index] = vector.values[j];
  });
  return dense;
}

/**
 * A list together with a random permutation of it, for order-invariance properties.
 *
 * @param items - arbitrary for the list.
 */
export function withPermutation<T>(items: fc.Arbitrary<T[]>): fc.Arbitrary<[T[], T[]]> {
  return items.chain((list) =>
    fc
      .shuffledSubarray(list, { minLength: list.length, maxLength: list.length })
      .map((permuted): [T[], T[]] => [list, permuted]),
  );
}

/**
 * Contributions (unit weight) from a list of updates.
 *
 * @param updates - the updates.
 */
export function unweighted(updates: readonly SparseVector[]): { update: SparseVector }[] {
  return updates.map((update) => ({ update }));
}
