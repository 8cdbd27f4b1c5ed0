/**
 * Sorts `values[0 .. count)` ascending in place: insertion sort for the short
 * runs a coordinate usually has (one value per worker), the native sort above that.
 *
 * @param values - scratch array; entries past `count` are not touched.
 * @param count - how many leading entries to sort.
 */
export function sortPrefixAscending(values: Float64Array, count: number): void {
  if (count > 32) {
    values.subarray(0, count).sort();
    return;
  }
  for (let i = 1; i < count; i++) {
    const x = values[i];
    let j = i - 1;
    while (j >= 0 && values[j] > x) {
      values[j + 1] = values[j];
      j--;
    }
    values[j + 1] = x;
  }
}

/**
 * The multiset "the sorted stored values plus `total - count` zeros" of one
 * coordinate, indexed by rank without materialising the zeros: ranks below the
 * number of negatives read the negatives, the next `total - count` ranks are
 * the implicit zeros, the rest read the stored values shifted past them.
 */
export class RankedWithZeros {
  private sorted: Float64Array = new Float64Array(0);
  private negatives = 0;
  private implicitZeros = 0;

  /**
   * Sorts `values[0 .. count)` in place and remembers it as the stored part.
   *
   * @param values - the stored values of the coordinate (scratch; reordered).
   * @param count - how many are stored.
   * @param total - number of updates n, so `total - count` implicit zeros.
   */
  reset(values: Float64Array, count: number, total: number): void {
    sortPrefixAscending(values, count);
    let negatives = 0;
    while (negatives < count && values[negatives] < 0) negatives++;
    this.sorted = values;
    this.negatives = negatives;
    this.implicitZeros = total - count;
  }

  /**
   * @param rank - 0-based rank in ascending order, in [0, total).
   * @returns the value a full ascending sort of the n values would put at `rank`.
   */
  at(rank: number): number {
    if (rank < this.negatives) return this.sorted[rank];
    if (rank < this.negatives + this.implicitZeros) return 0;
    return this.sorted[rank - this.implicitZeros];
  }
}

/**
 * The median of a list of numbers (the mean of the two middle ones for an even count; 0 for
 * none). Copies before sorting; O(n log n).
 *
 * @param values - finite numbers.
 * @returns their median.
 */
export function medianOf(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  const upper = sorted[middle] ?? 0;
  return sorted.length % 2 === 1 ? upper : ((sorted[middle - 1] ?? 0) + upper) / 2;
}
