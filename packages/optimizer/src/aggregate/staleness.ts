import { AggregationError } from './aggregation-error.js';

/** The staleness damping rules, as they appear in a run configuration. */
export const STALENESS_DAMPINGS = ['none', 'inverse', 'inverse-plus-one'] as const;

/**
 * How an update's weight shrinks with its staleness s = v - v_i
 * (docs/algorithms.md#asynchronous-sgd; Zhang, Gupta, Lian, Liu 2016, "Staleness-aware Async-SGD").
 */
export type StalenessDamping = (typeof STALENESS_DAMPINGS)[number];

/**
 * Learning-rate multiplier for an update of staleness s:
 * - `none`: 1 (plain asynchronous SGD, the baseline that sparsification is compared against);
 * - `inverse`: 1 / max(1, s) (eta / tau of Zhang et al. 2016; a fresh update, s = 0, is not amplified);
 * - `inverse-plus-one`: 1 / (1 + s).
 *
 * @param staleness - s >= 0, finite (versions between the worker's base model and now).
 * @param damping - the rule.
 * @returns a weight in (0, 1], for {@link Contribution.weight}.
 * @throws {@link AggregationError} `invalid-option` if s is negative or not finite.
 */
export function stalenessWeight(staleness: number, damping: StalenessDamping): number {
  if (!(Number.isFinite(staleness) && staleness >= 0)) {
    throw new AggregationError(
      'invalid-option',
      `staleness must be finite and >= 0, got ${staleness}`,
    );
  }
  switch (damping) {
    case 'none':
      return 1;
    case 'inverse':
      return 1 / Math.max(1, staleness);
    case 'inverse-plus-one':
      return 1 / (1 + staleness);
  }
}
