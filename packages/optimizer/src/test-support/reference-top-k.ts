import type { SparseVector } from '../sparse-vector.js';

/**
 * Reference top-k by a full O(P log P) sort: order positions by |value|
 * descending, then index ascending, keep the first min(k, P), and return them
 * in increasing index order. Used by tests and the benchmark as the oracle the
 * O(P) selector must match exactly; not part of the built API.
 *
 * @param values - dense vector; not modified.
 * @param k - requested count (clamped to P).
 * @returns the selected entries, values copied verbatim.
 */
export function fullSortTopK(values: Float32Array, k: number): SparseVector {
  const count = Math.min(k, values.length);
  const order = new Uint32Array(values.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  order.sort((a, b) => Math.abs(values[b]) - Math.abs(values[a]) || a - b);
  const indices = order.slice(0, count).sort();
  const kept = new Float32Array(count);
  for (let j = 0; j < count; j++) kept[j] = values[indices[j]];
  return { length: values.length, indices, values: kept };
}
