import type { SparseVector } from '../sparse-vector.js';
import { AggregationError } from './aggregation-error.js';
import { validateContributions, type Contribution } from './contribution.js';
import { aggregateMean } from './mean.js';
import { medianOf as median } from './order-statistics.js';

/**
 * Parameters of the guarded mean, the default rule of a run
 * (docs/algorithms.md#guarded-mean-the-default). Mirrors the wire schema one for one.
 */
export interface GuardedMeanParameters {
  /** c_2 > 1: an update may be at most c_2 times the median L2 norm of the window. */
  readonly normFactor: number;
  /** c_inf > 1: no entry may exceed c_inf times the median largest |entry| of the window. */
  readonly magnitudeFactor: number;
  /** R >= 1: accepted updates the window remembers. */
  readonly window: number;
  /** W >= 1, <= R: accepted updates needed before the window alone sets the bounds. */
  readonly warmup: number;
}

/** What the rule remembers of one accepted update (or measures of a model). */
export interface UpdateStats {
  /** L2 norm, `||w x||_2`. */
  readonly norm: number;
  /** Largest magnitude of an entry, `||w x||_inf`. */
  readonly maxAbs: number;
}

/** The bounds an update is held to. */
export interface GuardBounds {
  /** Largest accepted L2 norm. */
  readonly maxNorm: number;
  /** Largest accepted entry magnitude. */
  readonly maxAbs: number;
  /**
   * `window`: set by the accepted updates (over a bound: dropped). `model`: fewer than W
   * accepted updates yet, set by the model's own scale (over a bound: scaled down, so a run
   * can never stall in its warm-up).
   */
  readonly source: 'window' | 'model';
}

/** What {@link screenUpdate} decided for one update. */
export type GuardVerdict =
  /** Taken, multiplied by `scale` (1, or < 1 when clipped to the warm-up bounds). */
  | {
      readonly kind: 'accept';
      readonly scale: number;
      readonly stats: UpdateStats;
      readonly bounds: GuardBounds;
    }
  /** Refused: longer, or with a larger entry, than the window's bounds allow. */
  | {
      readonly kind: 'drop';
      readonly cause: 'norm' | 'magnitude';
      readonly stats: UpdateStats;
      readonly bounds: GuardBounds;
    }
  /** Refused: stores no entry, or only zeros; it would move nothing. */
  | { readonly kind: 'empty' };

/**
 * Floors of the warm-up bounds, for a model whose weights are (nearly) all zero: a norm of
 * 1 and an entry of 0.1 before the factor. Without them a zero-initialised model could take
 * no update at all.
 */
export const WARMUP_NORM_FLOOR = 1;
/**
 * rho: in the warm-up an update may be at most rho ||w||_2 long. 1/2 takes the first update
 * of the MNIST demo (50 Adam steps: ||x|| / ||w|| = 0.33) whole, and bounds what a first,
 * hostile update can do to half the model's norm.
 */
export const WARMUP_NORM_FRACTION = 0.5;
/** See {@link WARMUP_NORM_FLOOR}. */
export const WARMUP_MAX_ABS_FLOOR = 0.1;

/**
 * Norm and largest magnitude of a vector's stored entries, times `weight`: O(nnz).
 *
 * @param values - the stored entries (or a dense vector).
 * @param weight - scale (default 1).
 * @returns `{ norm: w ||x||_2, maxAbs: w ||x||_inf }`; non-finite when an entry is.
 */
export function vectorStats(values: Iterable<number>, weight = 1): UpdateStats {
  let sumOfSquares = 0;
  let maxAbs = 0;
  for (const value of values) {
    sumOfSquares += value * value;
    const magnitude = Math.abs(value);
    // NaN never compares greater: keep it visible.
    if (magnitude > maxAbs || Number.isNaN(magnitude)) maxAbs = magnitude;
  }
  return { norm: weight * Math.sqrt(sumOfSquares), maxAbs: weight * maxAbs };
}

/**
 * Checks the parameters of the rule.
 *
 * @throws {@link AggregationError} `invalid-option` when one is out of range.
 */
export function validateGuardedMeanParameters(parameters: GuardedMeanParameters): void {
  const { normFactor, magnitudeFactor, window, warmup } = parameters;
  if (!(Number.isFinite(normFactor) && normFactor > 1)) {
    throw new AggregationError(
      'invalid-option',
      `normFactor must be finite and > 1, got ${normFactor}`,
    );
  }
  if (!(Number.isFinite(magnitudeFactor) && magnitudeFactor > 1)) {
    throw new AggregationError(
      'invalid-option',
      `magnitudeFactor must be finite and > 1, got ${magnitudeFactor}`,
    );
  }
  if (!(Number.isInteger(window) && window >= 1)) {
    throw new AggregationError('invalid-option', `window must be an integer >= 1, got ${window}`);
  }
  if (!(Number.isInteger(warmup) && warmup >= 1 && warmup <= window)) {
    throw new AggregationError(
      'invalid-option',
      `warmup must be an integer in [1, window = ${window}], got ${warmup}`,
    );
  }
}

/**
 * The bounds of the guarded mean. With `a_1..a_m` the stats of the last accepted updates
 * (m <= R, dropped updates never enter) and m >= W:
 *
 *   maxNorm = c_2 * median_j ||a_j||_2,   maxAbs = c_inf * median_j ||a_j||_inf
 *
 * With m < min(W, N) (the warm-up, no trustworthy history yet; N the active workers, so a
 * run of one or two workers is warm after their first updates), from the model w itself:
 *
 *   maxNorm = rho * max(||w||_2, 1),   maxAbs = c_inf * max(||w||_inf, 0.1),   rho = 1/2
 *
 * The median is the robust statistic: fewer than half of the remembered updates can move it
 * no further than the honest ones span.
 *
 * @param parameters - the rule's parameters (validated).
 * @param accepted - stats of recently accepted updates, any order.
 * @param model - `norm` and `maxAbs` of the current weights (used only in the warm-up).
 * @param activeWorkers - N; the warm-up ends after min(W, N) accepted updates.
 * @returns the bounds.
 */
export function guardBounds(
  parameters: GuardedMeanParameters,
  accepted: readonly UpdateStats[],
  model: () => UpdateStats,
  activeWorkers = Number.POSITIVE_INFINITY,
): GuardBounds {
  const recent = accepted.slice(-parameters.window);
  if (recent.length >= Math.min(parameters.warmup, Math.max(1, activeWorkers))) {
    return {
      maxNorm: parameters.normFactor * median(recent.map((s) => s.norm)),
      maxAbs: parameters.magnitudeFactor * median(recent.map((s) => s.maxAbs)),
      source: 'window',
    };
  }
  const scale = model();
  return {
    maxNorm: WARMUP_NORM_FRACTION * Math.max(finiteOr(scale.norm, 0), WARMUP_NORM_FLOOR),
    maxAbs: parameters.magnitudeFactor * Math.max(finiteOr(scale.maxAbs, 0), WARMUP_MAX_ABS_FLOOR),
    source: 'model',
  };
}

function finiteOr(value: number, fallback: number): number {
  return Number.isFinite(value) ? value : fallback;
}

/**
 * The guarded mean's decision for one update x (weight w), against the bounds of
 * {@link guardBounds}: an update with no non-zero entry is `empty`; one within both bounds is
 * accepted whole; one over a bound is dropped when the bounds come from the window, and
 * scaled by `s = min(maxNorm / ||wx||_2, maxAbs / ||wx||_inf)` when they come from the model
 * (the warm-up). This is what an asynchronous schedule applies to every lone update, and what
 * the coordinator applies to each update of a round as it arrives.
 *
 * @param parameters - the rule's parameters (validated).
 * @param contribution - one validated update (finite).
 * @param accepted - stats of recently accepted updates.
 * @param model - the model's own stats, computed only when needed (O(P)).
 * @param activeWorkers - N, see {@link guardBounds}.
 * @returns the verdict; the caller records `stats` (times `scale`) of an accepted update.
 */
export function screenUpdate(
  parameters: GuardedMeanParameters,
  contribution: Contribution,
  accepted: readonly UpdateStats[],
  model: () => UpdateStats,
  activeWorkers = Number.POSITIVE_INFINITY,
): GuardVerdict {
  const stats = vectorStats(contribution.update.values, contribution.weight ?? 1);
  if (stats.maxAbs === 0) return { kind: 'empty' };
  const bounds = guardBounds(parameters, accepted, model, activeWorkers);
  const overNorm = stats.norm > bounds.maxNorm;
  const overMagnitude = stats.maxAbs > bounds.maxAbs;
  if (!overNorm && !overMagnitude) return { kind: 'accept', scale: 1, stats, bounds };
  if (bounds.source === 'window') {
    return { kind: 'drop', cause: overNorm ? 'norm' : 'magnitude', stats, bounds };
  }
  const scale = Math.min(1, bounds.maxNorm / stats.norm, bounds.maxAbs / stats.maxAbs);
  return {
    kind: 'accept',
    scale,
    stats: { norm: stats.norm * scale, maxAbs: stats.maxAbs * scale },
    bounds,
  };
}

/**
 * The accepted-update window of the guarded mean: the stats of the last R accepted updates,
 * a ring. Dropped updates are never recorded, so an attacker's refused norms cannot pull the
 * median towards its own.
 */
export class AcceptedWindow {
  private readonly entries: UpdateStats[] = [];
  private next = 0;

  /** @param size - R, an integer >= 1. */
  constructor(readonly size: number) {
    if (!(Number.isInteger(size) && size >= 1)) {
      throw new AggregationError('invalid-option', `window must be an integer >= 1, got ${size}`);
    }
  }

  /** Remembers an accepted update, forgetting the oldest beyond R. */
  record(stats: UpdateStats): void {
    if (this.entries.length < this.size) this.entries.push(stats);
    else this.entries[this.next] = stats;
    this.next = (this.next + 1) % this.size;
  }

  /** The remembered stats (order not meaningful). */
  get stats(): readonly UpdateStats[] {
    return this.entries;
  }
}

/** What {@link aggregateGuardedMean} computed, besides the update. */
export interface GuardedMeanResult {
  /** The mean of the kept (possibly warm-up-scaled) contributions, over the kept ones. */
  readonly update: Float32Array | SparseVector;
  /** Indices of the contributions refused (dropped or empty). */
  readonly dropped: readonly number[];
  /** Stats of the kept contributions, in order: what the window must record. */
  readonly kept: readonly UpdateStats[];
}

/**
 * The guarded mean of a batch: each contribution, in order, is screened by
 * {@link screenUpdate} against `accepted` plus the batch's kept ones so far, and the kept
 * (scaled) contributions are averaged, `(1/|kept|) sum_{i kept} s_i w_i x_i`. With every
 * contribution kept at scale 1 this is exactly {@link aggregateMean}. All refused: zeros.
 *
 * @param contributions - non-empty, same dimension, finite (checked first).
 * @param parameters - the rule's parameters.
 * @param accepted - stats of recently accepted updates (not modified).
 * @param model - the model's stats, for the warm-up bounds.
 * @returns the aggregate, which contributions were refused, and the kept ones' stats.
 * @throws {@link AggregationError} `invalid-option` for bad parameters, or from {@link validateContributions}.
 */
export function aggregateGuardedMean(
  contributions: readonly Contribution[],
  parameters: GuardedMeanParameters,
  accepted: readonly UpdateStats[],
  model: () => UpdateStats,
): GuardedMeanResult {
  validateGuardedMeanParameters(parameters);
  const { parameterCount, weights } = validateContributions(contributions);
  const window = [...accepted];
  const keptContributions: Contribution[] = [];
  const kept: UpdateStats[] = [];
  const dropped: number[] = [];
  contributions.forEach((contribution, c) => {
    const verdict = screenUpdate(parameters, contribution, window, model);
    if (verdict.kind !== 'accept') {
      dropped.push(c);
      return;
    }
    window.push(verdict.stats);
    kept.push(verdict.stats);
    keptContributions.push({ update: contribution.update, weight: weights[c] * verdict.scale });
  });
  const update =
    keptContributions.length === 0
      ? new Float32Array(parameterCount)
      : aggregateMean(keptContributions);
  return { update, dropped, kept };
}
