import { InvalidSparseVectorError, validateSparseVector } from '../sparse-vector.js';
import type { SparseVector } from '../sparse-vector.js';
import { AggregationError } from './aggregation-error.js';

/**
 * One worker's update as the aggregation rules see it.
 *
 * `weight` (default 1) multiplies the update before the rule is applied,
 * e.g. a staleness damping factor from {@link stalenessWeight}. It is a
 * scale, not a share: the mean divides by the number of contributions n, not
 * by the sum of weights, so a damped stale update moves the model less even
 * when it is alone in the buffer (Zhang et al. 2016: w -= (1/n) sum_l (eta / tau_l) g_l).
 */
export interface Contribution {
  /** The (typically top-k sparsified) update; every contribution must share `length`. */
  readonly update: SparseVector;
  /** Finite, non-negative scale (default 1). */
  readonly weight?: number;
}

/** What {@link validateContributions} establishes. */
export interface ValidatedContributions {
  /** The common dense dimension P. */
  readonly parameterCount: number;
  /** `weights[i]` is contribution i's weight, with the default 1 filled in. */
  readonly weights: Float64Array;
}

/**
 * Checks a contribution list before any rule touches it: non-empty, one common
 * dimension, every update a valid sparse vector with finite values, every
 * weight finite and >= 0. O(total nnz).
 *
 * @param contributions - the buffered updates.
 * @returns the common dimension and the weights.
 * @throws {@link AggregationError} `no-contributions`, `dimension-mismatch`,
 *   `non-finite` (a NaN or infinite value), `invalid-update` (another broken
 *   sparse invariant; the {@link InvalidSparseVectorError} is the `cause`) or `invalid-weight`.
 */
export function validateContributions(
  contributions: readonly Contribution[],
): ValidatedContributions {
  if (contributions.length === 0) {
    throw new AggregationError('no-contributions', 'cannot aggregate an empty list of updates');
  }
  const parameterCount = contributions[0].update.length;
  const weights = new Float64Array(contributions.length);
  contributions.forEach(({ update, weight = 1 }, contributionIndex) => {
    try {
      validateSparseVector(update);
    } catch (error) {
      if (!(error instanceof InvalidSparseVectorError)) throw error;
      throw new AggregationError(
        error.code === 'non-finite' ? 'non-finite' : 'invalid-update',
        `contribution ${contributionIndex}: ${error.message}`,
        { contributionIndex, cause: error },
      );
    }
    if (update.length !== parameterCount) {
      throw new AggregationError(
        'dimension-mismatch',
        `contribution ${contributionIndex} has dimension ${update.length}, contribution 0 has ${parameterCount}`,
        { contributionIndex },
      );
    }
    if (!(Number.isFinite(weight) && weight >= 0)) {
      throw new AggregationError(
        'invalid-weight',
        `contribution ${contributionIndex} has weight ${weight}; weights must be finite and >= 0`,
        { contributionIndex },
      );
    }
    weights[contributionIndex] = weight;
  });
  return { parameterCount, weights };
}

/**
 * L2 norm of a weighted contribution, `w * ||x||_2`, over its stored entries (O(nnz)).
 *
 * @param contribution - a validated contribution.
 * @returns its norm.
 */
export function contributionNorm({ update, weight = 1 }: Contribution): number {
  let sumOfSquares = 0;
  for (const value of update.values) sumOfSquares += value * value;
  return weight * Math.sqrt(sumOfSquares);
}
