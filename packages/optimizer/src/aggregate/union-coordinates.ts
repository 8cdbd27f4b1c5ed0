import type { SparseVector } from '../sparse-vector.js';
import type { Contribution } from './contribution.js';

/**
 * Computes one output value per coordinate of the union of the updates'
 * supports. `touched[0 .. touchedCount)` holds `factors[i] * x_i[coordinate]`
 * for the updates that store that coordinate, in increasing order of i; the
 * other `total - touchedCount` updates hold an implicit 0 there.
 */
export type CoordinateReducer = (
  touched: Float64Array,
  touchedCount: number,
  total: number,
) => number;

/**
 * Applies `reducer` to every coordinate stored by at least one update, by a
 * k-way merge of the sorted index lists with a binary min-heap: O(N log n)
 * time for N stored entries in total over n updates, O(n) scratch, and no
 * dense array of dimension P. Coordinates no update stores are left out of the
 * result (every input is 0 there, and the coordinate-wise rules map all-zero
 * input to 0). Inputs must already be validated.
 *
 * @param contributions - validated contributions, all of dimension `parameterCount`.
 * @param factors - per-contribution multiplier applied before the reducer sees a value.
 * @param parameterCount - the common dimension P.
 * @param reducer - the per-coordinate rule.
 * @returns a sparse vector on the union of the supports, values rounded to float32.
 */
export function reduceOverUnion(
  contributions: readonly Contribution[],
  factors: Float64Array,
  parameterCount: number,
  reducer: CoordinateReducer,
): SparseVector {
  const n = contributions.length;
  if (n === 1) return reduceSingle(contributions[0], factors[0], parameterCount, reducer);
  const next = new Uint32Array(n);
  const heap = new Uint32Array(n);
  let heapSize = 0;
  let storedTotal = 0;
  for (let c = 0; c < n; c++) {
    const stored = contributions[c].update.indices.length;
    storedTotal += stored;
    if (stored > 0) heap[heapSize++] = c;
  }
  const keyOf = (c: number): number => contributions[c].update.indices[next[c]];
  // Ordered by coordinate, then by contribution: a coordinate's entries leave the heap in
  // contribution order, the order the reducers (a binary64 sum, above all) must see them in.
  const before = (a: number, b: number): boolean => {
    const keyA = keyOf(a);
    const keyB = keyOf(b);
    return keyA < keyB || (keyA === keyB && a < b);
  };
  const siftDown = (start: number): void => {
    let parent = start;
    const moving = heap[parent];
    for (;;) {
      let child = 2 * parent + 1;
      if (child >= heapSize) break;
      if (child + 1 < heapSize && before(heap[child + 1], heap[child])) child++;
      if (!before(heap[child], moving)) break;
      heap[parent] = heap[child];
      parent = child;
    }
    heap[parent] = moving;
  };
  for (let start = (heapSize >> 1) - 1; start >= 0; start--) siftDown(start);

  const touched = new Float64Array(n);
  const outIndices = new Uint32Array(storedTotal);
  const outValues = new Float32Array(storedTotal);
  let out = 0;
  while (heapSize > 0) {
    const coordinate = keyOf(heap[0]);
    let touchedCount = 0;
    // Each update stores a coordinate at most once, so this drains one entry per update holding it.
    while (heapSize > 0 && keyOf(heap[0]) === coordinate) {
      const c = heap[0];
      touched[touchedCount++] = factors[c] * contributions[c].update.values[next[c]];
      next[c]++;
      if (next[c] === contributions[c].update.indices.length) heap[0] = heap[--heapSize];
      if (heapSize > 0) siftDown(0);
    }
    outIndices[out] = coordinate;
    outValues[out] = reducer(touched, touchedCount, n);
    out++;
  }
  return {
    length: parameterCount,
    indices: outIndices.slice(0, out),
    values: outValues.slice(0, out),
  };
}

/**
 * The one-update case of {@link reduceOverUnion} (an asynchronous step): the
 * union is the update's own support, already sorted, so there is nothing to
 * merge. Same values as the heap path, which would call the reducer the same
 * way on each coordinate.
 */
function reduceSingle(
  contribution: Contribution,
  factor: number,
  parameterCount: number,
  reducer: CoordinateReducer,
): SparseVector {
  const { indices, values } = contribution.update;
  const touched = new Float64Array(1);
  const outValues = new Float32Array(indices.length);
  for (let j = 0; j < indices.length; j++) {
    touched[0] = factor * values[j];
    outValues[j] = reducer(touched, 1, 1);
  }
  return { length: parameterCount, indices: indices.slice(), values: outValues };
}
