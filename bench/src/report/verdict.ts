import type { ResultGroup } from '../experiments/grid.js';

/** How one hybrid group compares with sync and async at the budget, seed by seed. */
export interface HybridVerdict {
  readonly hybrid: string;
  readonly meanGainOverSync: number;
  readonly meanGainOverAsync: number;
  /** Seeds (paired: same initial weights, shards and timings) where the hybrid beat both. */
  readonly seedsBeatingBoth: number;
  readonly seeds: number;
  readonly beatsBothOnMean: boolean;
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

export function hybridVerdict(
  hybrid: ResultGroup,
  sync: ResultGroup,
  async: ResultGroup,
): HybridVerdict {
  const bySeed = (g: ResultGroup): Map<number, number> =>
    new Map(g.runs.map((r) => [r.seed, r.finalAccuracy]));
  const s = bySeed(sync);
  const a = bySeed(async);
  let seedsBeatingBoth = 0;
  for (const run of hybrid.runs) {
    const other = Math.max(s.get(run.seed) ?? Infinity, a.get(run.seed) ?? Infinity);
    if (run.finalAccuracy > other) seedsBeatingBoth++;
  }
  const h = mean(hybrid.runs.map((r) => r.finalAccuracy));
  const ms = mean(sync.runs.map((r) => r.finalAccuracy));
  const ma = mean(async.runs.map((r) => r.finalAccuracy));
  return {
    hybrid: hybrid.label,
    meanGainOverSync: h - ms,
    meanGainOverAsync: h - ma,
    seedsBeatingBoth,
    seeds: hybrid.runs.length,
    beatsBothOnMean: h > ms && h > ma,
  };
}

export function points(delta: number): string {
  const sign = delta >= 0 ? '+' : '−';
  return `${sign}${Math.abs(delta * 100).toFixed(2)} points`;
}

export function verdictSentence(v: HybridVerdict): string {
  const head = v.beatsBothOnMean
    ? `**${v.hybrid} beats both pure modes** on the mean`
    : `**${v.hybrid} does not beat both pure modes** on the mean`;
  return `${head} (${points(v.meanGainOverSync)} over synchronous, ${points(v.meanGainOverAsync)} over asynchronous; ahead of both in ${v.seedsBeatingBoth} of ${v.seeds} paired seeds).`;
}
