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
  counters.updatesRejected[reason] = (counters.updatesRejected[reason] ?? 0) + 1;
}

export function countStaleness(counters: RunCounters, staleness: number): void {
  const bucket = Math.min(staleness, STALENESS_BUCKETS - 1);
  counters.stalenessCounts[bucket] = (counters.stalenessCounts[bucket] ?? 0) + 1;
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
