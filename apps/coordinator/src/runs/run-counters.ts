import type { RejectReason } from '@vtrain/protocol';

/** Staleness buckets kept per metrics point: 0..30 exactly, the last one for 31 and more. */
export const STALENESS_BUCKETS = 32;

/**
 * Cumulative counters of a run, checkpointed with it so the dashboard's
 * series continue across a coordinator restart.
 */
export interface RunCounters {
  updatesApplied: number;
  updatesRejected: Partial<Record<RejectReason, number>>;
  samples: number;
  bytesIn: number;
  bytesOut: number;
  /** Exponentially weighted train loss reported by workers; undefined before the first. */
  trainLoss: number | undefined;
  /** Staleness of updates applied since the last metrics point. */
  stalenessCounts: number[];
}

export function emptyCounters(): RunCounters {
  return {
    updatesApplied: 0,
    updatesRejected: {},
    samples: 0,
    bytesIn: 0,
    bytesOut: 0,
    trainLoss: undefined,
    stalenessCounts: new Array<number>(STALENESS_BUCKETS).fill(0),
  };
}

export function countRejection(counters: RunCounters, reason: RejectReason): void {
  counters.updatesRejected[reason] = addCount(counters.updatesRejected[reason] ?? 0, 1);
}

export function countStaleness(counters: RunCounters, staleness: number): void {
  const bucket = Math.min(staleness, STALENESS_BUCKETS - 1);
  counters.stalenessCounts[bucket] = addCount(counters.stalenessCounts[bucket] ?? 0, 1);
}

/** Smoothing of the reported train loss: about the last 20 updates. */
const TRAIN_LOSS_SMOOTHING = 0.05;

export function countTrainLoss(counters: RunCounters, loss: number): void {
  counters.trainLoss =
    counters.trainLoss === undefined
      ? loss
      : counters.trainLoss + TRAIN_LOSS_SMOOTHING * (loss - counters.trainLoss);
}

/** p50, p90 and max of a staleness histogram (bucket values). */
export function summariseStaleness(counts: readonly number[]): {
  p50: number;
  p90: number;
  max: number;
  counts: number[];
} {
  const total = counts.reduce((sum, c) => sum + c, 0);
  const at = (q: number): number => {
    if (total === 0) return 0;
    let seen = 0;
    for (const [bucket, count] of counts.entries()) {
      seen += count;
      if (seen >= q * total) return bucket;
    }
    return counts.length - 1;
  };
  let max = 0;
  for (const [bucket, count] of counts.entries()) if (count > 0) max = bucket;
  return { p50: at(0.5), p90: at(0.9), max, counts: [...counts] };
}

/**
 * Counters stop at 2^53 - 1 (`Number.MAX_SAFE_INTEGER`) instead of passing it: beyond it a
 * JS number no longer counts by one and the protocol's integer schemas refuse the value, so
 * a counter pushed that far (a worker may report up to 1e9 samples an update) would make
 * every metrics point invalid. Saturating keeps the series valid; the figure then reads
 * "at least 2^53 - 1".
 */
export function addCount(total: number, increment: number): number {
  const sum = total + increment;
  return sum > Number.MAX_SAFE_INTEGER ? Number.MAX_SAFE_INTEGER : sum;
}

/**
 * Brings checkpointed counters back within {@link addCount}'s bound (a checkpoint written
 * before counters saturated may hold larger values; it must not stop the run resuming).
 */
export function clampCounters(counters: RunCounters): RunCounters {
  const clamp = (value: number): number =>
    Number.isFinite(value) ? Math.min(Math.max(0, Math.floor(value)), Number.MAX_SAFE_INTEGER) : 0;
  const rejected: Partial<Record<RejectReason, number>> = {};
  for (const [reason, count] of Object.entries(counters.updatesRejected)) {
    rejected[reason as RejectReason] = clamp(count);
  }
  return {
    ...counters,
    updatesApplied: clamp(counters.updatesApplied),
    updatesRejected: rejected,
    samples: clamp(counters.samples),
    bytesIn: clamp(counters.bytesIn),
    bytesOut: clamp(counters.bytesOut),
    stalenessCounts: counters.stalenessCounts.map(clamp),
  };
}
