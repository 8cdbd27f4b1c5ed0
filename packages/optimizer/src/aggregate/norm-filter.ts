import { AggregationError } from './aggregation-error.js';
import { contributionNorm, validateContributions, type Contribution } from './contribution.js';
import { medianOf as median } from './order-statistics.js';
import { divideToFloat32, scaledSum } from './scaled-sum.js';

/** What {@link aggregateNormFilter} computed, besides the update. */
export interface NormFilterResult {
  /** The mean of the kept contributions (zeros when none was kept), length P. */
  readonly update: Float32Array;
  /** Indices of the contributions dropped as too long. */
  readonly dropped: readonly number[];
  /** The reference norm: the median of the batch's norms and `recentNorms`. */
  readonly reference: number;
}

/**
 * Norm filtering, then mean: with `m` the median of the contributions' norms
 * `||w_i x_i||_2` (together with `recentNorms`, norms of recently accepted
 * updates, which give an asynchronous schedule's one-update batches a
 * reference: a sliding window), drop every contribution longer than
 * `factor * m`, and average the rest, `(1/|kept|) sum_{i kept} w_i x_i`.
 *
 * Our rule, in the family of norm-based defences (norm thresholding in Sun et
 * al. 2019, "Can you really backdoor federated learning?"): unlike norm
 * clipping, a scaled (e.g. sign-flipped x100) or high-norm noise update is
 * removed, not shortened, so it cannot bias the mean at all; and a clean batch,
 * whose norms are alike, is averaged exactly like {@link aggregateMean}. It
 * assumes fewer than half the norms it ranks are hostile, and does not see
 * attacks of honest-looking norm. With one-update batches (asynchronous) it is
 * only as good as its window: the first updates of a run, ranked against few
 * or no others, cannot be judged. Works on sparse updates: O(total nnz + P).
 *
 * @param contributions - non-empty, same dimension, finite (checked first).
 * @param factor - finite, > 1: how many times the median norm is still accepted.
 * @param recentNorms - finite, non-negative norms of recent updates (may be empty).
 * @returns the mean of the kept contributions and which were dropped.
 * @throws {@link AggregationError} `invalid-option` for a bad factor or recent norm, or from
 *   {@link validateContributions}.
 */
export function aggregateNormFilter(
  contributions: readonly Contribution[],
  factor: number,
  recentNorms: readonly number[] = [],
): NormFilterResult {
  if (!(Number.isFinite(factor) && factor > 1)) {
    throw new AggregationError('invalid-option', `factor must be finite and > 1, got ${factor}`);
  }
  if (!recentNorms.every((n) => Number.isFinite(n) && n >= 0)) {
    throw new AggregationError('invalid-option', 'recent norms must be finite and >= 0');
  }
  const { parameterCount, weights } = validateContributions(contributions);
  const norms = contributions.map(contributionNorm);
  const reference = median([...norms, ...recentNorms]);
  const factors = new Float64Array(contributions.length);
  const dropped: number[] = [];
  norms.forEach((norm, c) => {
    if (norm > factor * reference) dropped.push(c);
    else factors[c] = weights[c] ?? 1;
  });
  const kept = contributions.length - dropped.length;
  const update =
    kept === 0
      ? new Float32Array(parameterCount)
      : divideToFloat32(scaledSum(contributions, factors, parameterCount), kept);
  return { update, dropped, reference };
}
