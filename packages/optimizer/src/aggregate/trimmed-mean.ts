import { AggregationError } from './aggregation-error.js';
import { validateContributions } from './contribution.js';
import type { Contribution } from './contribution.js';
import { RankedWithZeros } from './order-statistics.js';
import type { SparseVector } from '../sparse-vector.js';
import { reduceOverUnion } from './union-coordinates.js';

/**
 * Coordinate-wise trimmed mean (Yin, Chen, Ramchandran, Bartlett 2018): with
 * b = floor(trimFraction * n), for each coordinate sort the n values
 * `w_i x_i[j]`, drop the b largest and the b smallest, and average the other
 * n - 2b (in ascending order, in binary64, rounded once to float32). Tolerates
 * up to b arbitrary (Byzantine) updates per coordinate.
 *
 * Works only on the union of the coordinates the updates store; at such a
 * coordinate, an update that does not store it counts as 0. Coordinates no
 * update stores are 0 in the result and are not listed. With trimFraction 0
 * it equals the mean on that support.
 *
 * @param contributions - non-empty, same dimension, finite (checked first).
 * @param trimFraction - f in [0, 0.5), so that n - 2b >= 1.
 * @returns a sparse vector on the union of the supports.
 * @throws {@link AggregationError} `invalid-option` for a bad f, or from {@link validateContributions}.
 */
export function aggregateTrimmedMean(
  contributions: readonly Contribution[],
  trimFraction: number,
): SparseVector {
  if (!(trimFraction >= 0 && trimFraction < 0.5)) {
    throw new AggregationError(
      'invalid-option',
      `trimFraction must be in [0, 0.5), got ${trimFraction}`,
    );
  }
  const { parameterCount, weights } = validateContributions(contributions);
  const trimmed = Math.floor(trimFraction * contributions.length);
  const ranked = new RankedWithZeros();
  return reduceOverUnion(contributions, weights, parameterCount, (touched, count, total) => {
    ranked.reset(touched, count, total);
    let sum = 0;
    for (let rank = trimmed; rank < total - trimmed; rank++) sum += ranked.at(rank);
    return sum / (total - 2 * trimmed);
  });
}
