/**
 * Configuration of the phase schedules. Field names are the wire names: the run-config schema
 * in `@vtrain/protocol` mirrors them, so a parsed run config is passed in unchanged.
 */

/**
 * How long a batch (a synchronous round, or a hybrid buffer) may stay open:
 * `deadline = openedAt + clamp(minMs, maxMs, slack * quantile(last window stepMs samples))`,
 * and `maxMs` before any sample (stragglers are dropped, never waited on:
 * docs/algorithms.md#synchronous-rounds-and-deadlines).
 */
export interface RoundDeadline {
  /** Multiplier on the quantile, `>= 1`, so a typical worker is never cut off. Default 2. */
  readonly slack: number;
  /** Which quantile of recent step times, in `[0, 1]`. Default 0.9. */
  readonly quantile: number;
  /** How many recent `stepMs` samples are kept, a positive integer. Default 20. */
  readonly window: number;
  /** Lower clamp in ms, `> 0`. Default 1000. */
  readonly minMs: number;
  /** Upper clamp in ms, `>= minMs`; also the deadline before any sample. Default 60000. */
  readonly maxMs: number;
}

/**
 * Staleness bound (docs/algorithms.md#asynchronous-sgd): `s_i = v - v_i > maxStaleness` is
 * rejected as `'stale'`.
 */
export interface StalenessPolicy {
  /** Largest accepted staleness, a non-negative integer. Default 32. */
  readonly maxStaleness: number;
}

/** What `s` counts in K(s): elapsed ms since the schedule started, or applied updates. */
export type ThresholdClock = 'time' | 'updates';

/**
 * Threshold functions of the Smooth Switch hybrid (arXiv 2407.00101; the shapes are open
 * choices, docs/algorithms.md#smooth-switch-hybrid) that depend only on `s`, see `thresholdK`:
 * - linear: `K = max(1, ceil(N * min(1, s / horizon)))`;
 * - exponential: `K = max(1, min(N, round(N ** min(1, s / horizon))))`, geometric growth 1 -> N;
 * - step: `K = max(1, ceil(N * floor(steps * min(1, s / horizon)) / steps))`.
 */
export type ClockThresholdConfig =
  | { readonly shape: 'linear'; readonly clock: ThresholdClock; readonly horizon: number }
  | { readonly shape: 'exponential'; readonly clock: ThresholdClock; readonly horizon: number }
  | {
      readonly shape: 'step';
      readonly clock: ThresholdClock;
      readonly horizon: number;
      readonly steps: number;
    };

/**
 * Loss-plateau threshold (ours, not the paper's): start at K = 1; after `patience` evaluations
 * in a row without the loss improving on its best by more than `minDelta`, double K (cap N).
 */
export interface PlateauThresholdConfig {
  readonly shape: 'plateau';
  /** Evaluations without improvement before K doubles, a positive integer. */
  readonly patience: number;
  /** An evaluation improves only if `loss < best - minDelta`; `>= 0`. */
  readonly minDelta: number;
}

/** Any threshold function K of the hybrid schedule. */
export type ThresholdConfig = ClockThresholdConfig | PlateauThresholdConfig;

/**
 * What a synchronous phase (K > 1) does with an update computed on a version older than the
 * current one: `'reject'` (reason `'late'`), or `'next-round'` (buffered into the open batch with
 * its staleness recorded, so the aggregator can damp it). The same holds while the open batch
 * still holds updates after K fell to 1 (its workers left): a late update would join that round.
 */
export type LateUpdateRule = 'reject' | 'next-round';

/**
 * Local-SGD period H (local steps per round), LUPA-SGD (Haddadpour et al. 2019,
 * docs/algorithms.md#local-sgd-and-lupa), see `localSteps`:
 * - fixed: `H = steps`;
 * - lupa-adaptive: `tau_i = ceil((F(x_0) / F(x_i)) ** (1/3)) * tau_0`, capped at `maxSteps`
 *   (the paper's suggested rule);
 * - lupa-linear: `tau_i = ceil((1 + i * alpha) * tau_0)` (what the paper's experiments ran).
 */
export type LocalPeriodRule =
  | { readonly rule: 'fixed'; readonly steps: number }
  | { readonly rule: 'lupa-adaptive'; readonly initialSteps: number; readonly maxSteps: number }
  | { readonly rule: 'lupa-linear'; readonly initialSteps: number; readonly alpha: number };

/**
 * Which schedule decides when updates are applied (docs/algorithms.md#the-schedule-state-machine).
 * All of them are one
 * mechanism, a batch flushed at K updates from K distinct workers or at its deadline:
 * - async: K = 1 (apply on arrival);
 * - sync: K = N (rounds with a barrier);
 * - hybrid: K(s) from `threshold`, non-decreasing from 1 to N (Smooth Switch, arXiv 2407.00101);
 * - cyclic: `syncRounds` rounds at K = N, then `asyncUpdates` updates at K = 1, repeat;
 * - local-sgd: rounds at K = N of model deltas after H local steps (LUPA-SGD); late deltas are
 *   always rejected, since averaging assumes every model left the same global point.
 */
export type ScheduleConfig =
  | { readonly kind: 'async'; readonly staleness: StalenessPolicy }
  | {
      readonly kind: 'sync';
      readonly staleness: StalenessPolicy;
      readonly deadline: RoundDeadline;
      readonly lateUpdates: LateUpdateRule;
    }
  | {
      readonly kind: 'hybrid';
      readonly staleness: StalenessPolicy;
      readonly deadline: RoundDeadline;
      readonly lateUpdates: LateUpdateRule;
      readonly threshold: ThresholdConfig;
    }
  | {
      readonly kind: 'cyclic';
      readonly staleness: StalenessPolicy;
      readonly deadline: RoundDeadline;
      readonly lateUpdates: LateUpdateRule;
      readonly syncRounds: number;
      readonly asyncUpdates: number;
    }
  | {
      readonly kind: 'local-sgd';
      readonly staleness: StalenessPolicy;
      readonly deadline: RoundDeadline;
      readonly period: LocalPeriodRule;
    };

/** Defaults of {@link RoundDeadline} (the wire schema applies the same ones). */
export const DEFAULT_ROUND_DEADLINE = {
  slack: 2,
  quantile: 0.9,
  window: 20,
  minMs: 1000,
  maxMs: 60_000,
} as const satisfies RoundDeadline;

/** Defaults of {@link StalenessPolicy} (the wire schema applies the same one). */
export const DEFAULT_STALENESS_POLICY = { maxStaleness: 32 } as const satisfies StalenessPolicy;
