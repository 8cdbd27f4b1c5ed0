import { deriveSeed, seededPermutation } from '@vtrain/ml';

/**
 * Salt of the evaluation sample's stream (ASCII "eval"): the sample must not share a
 * sequence with the run's other seeded draws (shards, batches, initial weights).
 */
const SALT_EVALUATION_SAMPLE = 0x6576616c;

/**
 * The held-out examples a run's periodic evaluations use: the first `size` entries of a
 * seeded uniformly random permutation of the test set (Fisher-Yates from
 * `deriveSeed(seed, "eval")`), sorted ascending for locality. A uniform sample without
 * replacement, where the first `size` examples of the set would be a biased one (the first
 * half of the MNIST test set is the easier half). A pure function of (test set size, size,
 * seed): every evaluation of a run, before and after a restart, sees the same examples.
 *
 * @param testCount - examples in the test set.
 * @param size - examples wanted; capped at `testCount` (then the sample is the whole set).
 * @param seed - the run's seed, an integer in [0, 2^32).
 * @throws RangeError when `testCount` or `size` is not a positive integer; SeedError
 *   (`@vtrain/ml`) for a seed out of range.
 */
export function evaluationSample(testCount: number, size: number, seed: number): Uint32Array {
  if (!Number.isInteger(testCount) || testCount < 1) {
    throw new RangeError(`test set size must be a positive integer, got ${testCount}`);
  }
  if (!Number.isInteger(size) || size < 1) {
    throw new RangeError(`sample size must be a positive integer, got ${size}`);
  }
  const permutation = seededPermutation(testCount, deriveSeed(seed, SALT_EVALUATION_SAMPLE));
  return permutation.slice(0, Math.min(size, testCount)).sort();
}
