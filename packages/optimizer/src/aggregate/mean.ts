import type { SparseVector } from '../sparse-vector.js';
import { validateContributions } from './contribution.js';
import type { Contribution } from './contribution.js';
import { divideToFloat32, scaledSum } from './scaled-sum.js';
import { reduceOverUnion } from './union-coordinates.js';

/**
 * Mean of the (weighted) updates: `(1/n) sum_i w_i x_i`, the plain averaging
 * of synchronous SGD and of local SGD (docs/algorithms.md#mean). Entries a sparse update
 * does not store count as 0. Scatter-adds into one binary64 dense accumulator,
 * rounds once to float32.
 *
 * @param contributions - non-empty, same dimension, finite (checked first).
 * @returns the dense mean, length P.
 * @throws {@link AggregationError} from {@link validateContributions}.
 */
export function aggregateMean(contributions: readonly Contribution[]): Float32Array {
  const { parameterCount, weights } = validateContributions(contributions);
  return divideToFloat32(scaledSum(contributions, weights, parameterCount), contributions.length);
}

/**
 * The same mean as {@link aggregateMean}, bit for bit on every coordinate, as a
 * sparse vector on the union of the supports (zero elsewhere, as there):
 * O(N log n) for N stored entries over n updates instead of O(P). This is what
 * lets an asynchronous server apply one 1%-dense update to a model of a million
 * parameters without touching the other 99% (docs/algorithms.md#asynchronous-sgd).
 * Each coordinate is summed in binary64 in contribution order, as the dense
 * scatter-add does, and rounded once to float32.
 *
 * @param contributions - non-empty, same dimension, finite (checked first).
 * @returns the mean on the union of the inputs' stored coordinates.
 * @throws {@link AggregationError} from {@link validateContributions}.
 */
export function aggregateMeanSparse(contributions: readonly Contribution[]): SparseVector {
  const { parameterCount, weights } = validateContributions(contributions);
  return reduceOverUnion(contributions, weights, parameterCount, (touched, count, total) => {
    let sum = 0;
    for (let j = 0; j < count; j++) sum += touched[j];
    return sum / total;
  });
}
