import { validateContributions } from './contribution.js';
import type { Contribution } from './contribution.js';
import { RankedWithZeros } from './order-statistics.js';
import type { SparseVector } from '../sparse-vector.js';
import { reduceOverUnion } from './union-coordinates.js';

/**
 * Coordinate-wise median (Yin, Chen, Ramchandran, Bartlett 2018, "Byzantine-Robust
 * Distributed Learning", the median rule): for each coordinate j,
 * `median_i(w_i x_i[j])`; for even n, the mean of the two middle values.
 *
 * Works only on the union of the coordinates the updates store; at such a
 * coordinate, an update that does not store it counts as 0 (that is what a
 * top-k update means: the worker sends nothing there). Coordinates no update
 * stores are 0 in the result and are not listed. Weights scale the values
 * (they do not make the median weighted).
 *
 * @param contributions - non-empty, same dimension, finite (checked first).
 * @returns a sparse vector on the union of the supports.
 * @throws {@link AggregationError} from {@link validateContributions}.
 */
export function aggregateMedian(contributions: readonly Contribution[]): SparseVector {
  const { parameterCount, weights } = validateContributions(contributions);
  const ranked = new RankedWithZeros();
  return reduceOverUnion(contributions, weights, parameterCount, (touched, count, total) => {
    ranked.reset(touched, count, total);
    const middle = total >> 1;
    return total % 2 === 1 ? ranked.at(middle) : (ranked.at(middle - 1) + ranked.at(middle)) / 2;
  });
}
