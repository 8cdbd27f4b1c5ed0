import type { ResultGroup } from '../experiments/grid.js';
import {
  intervalSign,
  meanInterval95,
  pairedDifferences,
  type BySeed,
  type MeanInterval,
} from '../stats.js';

/** One schedule against another at the budget: paired by seed (same initial weights, shards and timings). */
export interface PairedComparison {
  /** Final test accuracy of the first minus the second, mean over paired seeds with its 95% t-interval. */
  readonly difference: MeanInterval;
  /** Seeds where the first ended strictly ahead. */
  readonly ahead: number;
  readonly seeds: number;
  readonly sign: 'above' | 'below' | 'spans';
}

/** How one hybrid group compares with sync and async at the budget, seed by seed. */
export interface HybridVerdict {
  readonly hybrid: string;
  readonly overSync: PairedComparison;
  readonly overAsync: PairedComparison;
  readonly meanGainOverSync: number;
  readonly meanGainOverAsync: number;
  /** Seeds where the hybrid beat both. */
  readonly seedsBeatingBoth: number;
  readonly seeds: number;
  readonly beatsBothOnMean: boolean;
  /** Both 95% intervals of the paired differences above 0. */
  readonly beatsBothClearly: boolean;
}

function bySeed(g: ResultGroup): BySeed {
  return new Map(g.runs.map((r) => [r.seed, r.finalAccuracy]));
}

export function pairedComparison(a: ResultGroup, b: ResultGroup): PairedComparison {
  const differences = pairedDifferences(bySeed(a), bySeed(b));
  const difference = meanInterval95(differences);
  return {
    difference,
    ahead: differences.filter((d) => d > 0).length,
    seeds: differences.length,
    sign: intervalSign(difference),
  };
}

export function hybridVerdict(
  hybrid: ResultGroup,
  sync: ResultGroup,
  async: ResultGroup,
): HybridVerdict {
  const s = bySeed(sync);
  const a = bySeed(async);
  let seedsBeatingBoth = 0;
  let paired = 0;
  for (const run of hybrid.runs) {
    const other = Math.max(s.get(run.seed) ?? Infinity, a.get(run.seed) ?? Infinity);
    if (!Number.isFinite(other)) continue;
    paired++;
    if (run.finalAccuracy > other) seedsBeatingBoth++;
  }
  const overSync = pairedComparison(hybrid, sync);
  const overAsync = pairedComparison(hybrid, async);
  return {
    hybrid: hybrid.label,
    overSync,
    overAsync,
    meanGainOverSync: overSync.difference.mean,
    meanGainOverAsync: overAsync.difference.mean,
    seedsBeatingBoth,
    seeds: paired,
    beatsBothOnMean: overSync.difference.mean > 0 && overAsync.difference.mean > 0,
    beatsBothClearly: overSync.sign === 'above' && overAsync.sign === 'above',
  };
}

export function points(delta: number): string {
  const sign = delta >= 0 ? '+' : '−';
  return `${sign}${Math.abs(delta * 100).toFixed(2)} points`;
}

function signed(delta: number): string {
  return `${delta >= 0 ? '+' : '−'}${Math.abs(delta * 100).toFixed(2)}`;
}

/** "+0.52 points (95% CI −0.10 to +1.14)". */
export function intervalText(c: PairedComparison): string {
  const d = c.difference;
  if (!Number.isFinite(d.low)) return `${points(d.mean)} (one seed, no interval)`;
  return `${points(d.mean)} (95% CI ${signed(d.low)} to ${signed(d.high)})`;
}

/** "wins", "loses" or "no clear difference", from where the interval lies. */
export function outcome(c: PairedComparison): string {
  if (c.sign === 'above') return 'wins';
  if (c.sign === 'below') return 'loses';
  return 'no clear difference';
}

export function verdictSentence(v: HybridVerdict): string {
  const head = v.beatsBothClearly
    ? `**${v.hybrid} beats both pure modes**`
    : `**${v.hybrid} does not beat both pure modes**`;
  const part = (name: string, c: PairedComparison): string =>
    `against ${name} it ${outcome(c) === 'no clear difference' ? 'shows no clear difference' : outcome(c)}, ${intervalText(c)}, ahead in ${c.ahead} of ${c.seeds} paired seeds`;
  return `${head}: ${part('synchronous', v.overSync)}; ${part('asynchronous', v.overAsync)}.`;
}
