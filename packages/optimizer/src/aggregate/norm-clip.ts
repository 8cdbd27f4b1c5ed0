import { AggregationError } from './aggregation-error.js';
import { contributionNorm, validateContributions } from './contribution.js';
import type { Contribution } from './contribution.js';
import { divideToFloat32, scaledSum } from './scaled-sum.js';

/**
 * Norm clipping, then mean: `(1/n) sum_i clip(w_i x_i)` with
 * `clip(y) = y * min(1, maxNorm / ||y||_2)`, so no single volunteer can move
 * the model by more than maxNorm / n, and the output norm is <= maxNorm
 * (a mean of vectors in the ball stays in the ball). Norms over stored entries, O(total nnz).
 *
 * @param contributions - non-empty, same dimension, finite (checked first).
 * @param maxNorm - clipping radius, finite and > 0.
 * @returns the dense clipped mean, length P.
 * @throws {@link AggregationError} `invalid-option` for a bad maxNorm, or from {@link validateContributions}.
 */
export function aggregateNormClip(
  contributions: readonly Contribution[],
  maxNorm: number,
): Float32Array {
  if (!(Number.isFinite(maxNorm) && maxNorm > 0)) {
    throw new AggregationError('invalid-option', `maxNorm must be finite and > 0, got ${maxNorm}`);
  }
  const { parameterCount, weights } = validateContributions(contributions);
  const factors = new Float64Array(contributions.length);
  contributions.forEach((contribution, c) => {
    const norm = contributionNorm(contribution);
    factors[c] = norm > maxNorm ? (weights[c] * maxNorm) / norm : weights[c];
  });
  return divideToFloat32(scaledSum(contributions, factors, parameterCount), contributions.length);
}
