import { validateContributions } from './contribution.js';
import type { Contribution } from './contribution.js';
import { divideToFloat32, scaledSum } from './scaled-sum.js';

/**
 * Mean of the (weighted) updates: `(1/n) sum_i w_i x_i`, the plain averaging
 * of synchronous SGD and of local SGD (DESIGN.md §4). Entries a sparse update
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
