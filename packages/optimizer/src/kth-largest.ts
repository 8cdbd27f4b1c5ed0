import { randomIndex } from './random.js';
import type { RandomSource } from './random.js';

/**
 * The `rank`-th largest of `values[0 .. count)` (rank 1 is the maximum), by
 * quickselect (Hoare's FIND) with a random pivot and a three-way partition.
 *
 * Expected O(count) comparisons for any input: the random pivot defeats
 * adversarial orderings, and the three-way split (greater / equal / less)
 * stops as soon as the rank falls in the band equal to the pivot, so arrays
 * full of ties (a gradient that is mostly zeros) cost no more than distinct ones.
 *
 * The first `count` entries of `values` are permuted in place (scratch use);
 * NaN must not be present (callers check finiteness first).
 *
 * @param values - scratch array holding the candidates in its first `count` slots.
 * @param count - how many leading entries take part, >= 1.
 * @param rank - 1-based rank from the top, in [1, count].
 * @param random - pivot source, uniform in [0, 1).
 * @returns the value that a descending sort would put at position `rank - 1`.
 * @throws {@link RandomSourceError} `out-of-range` if `random` returns a value outside [0, 1).
 */
export function kthLargest(
  values: Float32Array,
  count: number,
  rank: number,
  random: RandomSource,
): number {
  const target = rank - 1;
  let lo = 0;
  let hi = count - 1;
  for (;;) {
    if (lo >= hi) return values[lo];
    const pivot = values[lo + randomIndex(random, hi - lo + 1)];
    // Invariant after the loop: [lo, greaterEnd) > pivot, [greaterEnd, lessStart) == pivot, [lessStart, hi] < pivot.
    let greaterEnd = lo;
    let i = lo;
    let lessStart = hi + 1;
    while (i < lessStart) {
      const x = values[i];
      if (x > pivot) {
        values[i] = values[greaterEnd];
        values[greaterEnd] = x;
        greaterEnd++;
        i++;
      } else if (x < pivot) {
        lessStart--;
        values[i] = values[lessStart];
        values[lessStart] = x;
      } else {
        i++;
      }
    }
    if (target < greaterEnd) hi = greaterEnd - 1;
    else if (target >= lessStart) lo = lessStart;
    else return pivot;
  }
}
