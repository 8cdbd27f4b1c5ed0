import type { SparseVector } from '../sparse-vector.js';
import { aggregateCenteredClip } from './centered-clip.js';
import type { Contribution } from './contribution.js';
import { aggregateGuardedMean, type UpdateStats } from './guarded-mean.js';
import { aggregateMean, aggregateMeanSparse } from './mean.js';
import { aggregateMedian } from './median.js';
import { aggregateNormClip } from './norm-clip.js';
import { aggregateNormFilter } from './norm-filter.js';
import { aggregateTrimmedMean } from './trimmed-mean.js';

/**
 * The aggregation rule of a run, as named in the wire run-config schema
 * (docs/algorithms.md#robust-aggregation). Discriminated on `rule`.
 */
export type AggregationRule =
  | { readonly rule: 'mean' }
  | { readonly rule: 'norm-clip'; readonly maxNorm: number }
  | { readonly rule: 'trimmed-mean'; readonly trimFraction: number }
  | { readonly rule: 'median' }
  | { readonly rule: 'centered-clip'; readonly radius: number; readonly iterations: number }
  | { readonly rule: 'norm-filter'; readonly factor: number }
  | {
      readonly rule: 'guarded-mean';
      readonly normFactor: number;
      readonly magnitudeFactor: number;
      readonly window: number;
      readonly warmup: number;
    };

/** The names of {@link AggregationRule}, in the order the schema lists them. */
export const AGGREGATION_RULE_NAMES = [
  'mean',
  'norm-clip',
  'trimmed-mean',
  'median',
  'centered-clip',
  'norm-filter',
  'guarded-mean',
] as const satisfies readonly AggregationRule['rule'][];

/**
 * An aggregated update: dense (norm-clip, centered-clip, a mean of dense-ish
 * inputs) or sparse on the union of the inputs' supports (median, trimmed-mean,
 * a mean of inputs storing under a quarter of P). Tell them apart with
 * `instanceof Float32Array`; server optimizers accept both.
 */
export type AggregatedUpdate = Float32Array | SparseVector;

/** Run state some rules need besides the contributions. */
export interface AggregateOptions {
  /** Starting centre for `centered-clip` (e.g. the previous aggregate); zeros when absent. */
  readonly center?: Float32Array;
  /**
   * `norm-filter`: norms of recently accepted updates, ranked with the batch's own
   * (the sliding window that gives an asynchronous, one-update batch a reference).
   */
  readonly recentNorms?: readonly number[];
  /** `guarded-mean`: stats of recently accepted updates (its window); empty when absent. */
  readonly accepted?: readonly UpdateStats[];
  /**
   * `guarded-mean`: norm and largest |entry| of the current weights, for the warm-up bounds;
   * asked only while the window holds fewer than `warmup` updates. Absent: zero (the floors).
   */
  readonly modelScale?: () => UpdateStats;
}

/**
 * Whether the inputs store fewer entries than a quarter of P in total: then a
 * merge over their supports beats allocating and scanning a dense vector of P.
 */
function storesFewerThanAQuarter(contributions: readonly Contribution[]): boolean {
  const parameterCount = contributions[0]?.update.length ?? 0;
  let stored = 0;
  for (const { update } of contributions) stored += update.indices.length;
  return stored * 4 < parameterCount;
}

/**
 * Applies `rule` to the buffered contributions. Every rule validates its
 * parameters and all contributions (dimension, sparse invariants, finiteness,
 * weights) before computing anything.
 *
 * @param rule - which rule, with its parameters.
 * @param contributions - the buffered updates.
 * @param options - state for rules that need it.
 * @returns the aggregated update, in the rule's natural form.
 * @throws {@link AggregationError} on bad input.
 */
export function aggregate(
  rule: AggregationRule,
  contributions: readonly Contribution[],
  options: AggregateOptions = {},
): AggregatedUpdate {
  switch (rule.rule) {
    case 'mean':
      return storesFewerThanAQuarter(contributions)
        ? aggregateMeanSparse(contributions)
        : aggregateMean(contributions);
    case 'norm-clip':
      return aggregateNormClip(contributions, rule.maxNorm);
    case 'trimmed-mean':
      return aggregateTrimmedMean(contributions, rule.trimFraction);
    case 'median':
      return aggregateMedian(contributions);
    case 'centered-clip':
      return aggregateCenteredClip(contributions, {
        radius: rule.radius,
        iterations: rule.iterations,
        center: options.center,
      });
    case 'norm-filter':
      return aggregateNormFilter(contributions, rule.factor, options.recentNorms).update;
    case 'guarded-mean':
      return aggregateGuardedMean(
        contributions,
        rule,
        options.accepted ?? [],
        options.modelScale ?? (() => ({ norm: 0, maxAbs: 0 })),
      ).update;
  }
}
