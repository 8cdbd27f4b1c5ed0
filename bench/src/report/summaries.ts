import type { ResultGroup } from '../experiments/grid.js';
import type { SimulationResult } from '../sim/simulate.js';
import { spread, timeToTarget, type Spread } from '../stats.js';

/** What the tables print per group: seed statistics of one configuration. */
export interface GroupSummary {
  readonly key: string;
  readonly label: string;
  readonly accuracy: Spread;
  /** Time to each target over the seeds that reached it, and how many did. */
  readonly timeTo: Readonly<Record<string, { readonly time: Spread; readonly reached: number }>>;
  readonly seeds: number;
  readonly updatesApplied: Spread;
  readonly versions: Spread;
  readonly bytesUp: Spread;
  readonly bytesDown: Spread;
  readonly bytesUpPerUpdate: number;
  readonly bytesDownPerReply: number;
  readonly denseUpdateBytes: number;
  readonly rejected: number;
  readonly stalenessP50: number;
  readonly stalenessP90: number;
}

export const TARGETS = [0.9, 0.95, 0.97] as const;

function stalenessQuantile(runs: readonly SimulationResult[], q: number): number {
  const counts: number[] = [];
  for (const run of runs) {
    run.stalenessCounts.forEach((c, i) => (counts[i] = (counts[i] ?? 0) + c));
  }
  const total = counts.reduce((a, b) => a + b, 0);
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i] ?? 0;
    if (total > 0 && seen >= q * total) return i;
  }
  return 0;
}

export function summarise(group: ResultGroup): GroupSummary {
  const runs = group.runs;
  const timeTo: Record<string, { time: Spread; reached: number }> = {};
  for (const target of TARGETS) {
    const times = runs
      .map((r) => timeToTarget(r.curve, target))
      .filter((t): t is number => t !== null);
    timeTo[String(target)] = { time: spread(times), reached: times.length };
  }
  const sum = (f: (r: SimulationResult) => number): number => runs.reduce((a, r) => a + f(r), 0);
  return {
    key: group.key,
    label: group.label,
    accuracy: spread(runs.map((r) => r.finalAccuracy)),
    timeTo,
    seeds: runs.length,
    updatesApplied: spread(runs.map((r) => r.updatesApplied)),
    versions: spread(runs.map((r) => r.versions)),
    bytesUp: spread(runs.map((r) => r.bytesUp)),
    bytesDown: spread(runs.map((r) => r.bytesDown)),
    bytesUpPerUpdate: sum((r) => r.bytesUp) / sum((r) => r.updatesSent),
    bytesDownPerReply: sum((r) => r.bytesDown) / sum((r) => r.patchReplies + r.denseReplies),
    denseUpdateBytes: runs[0]?.denseUpdateBytes ?? Number.NaN,
    rejected: sum((r) => Object.values(r.rejected).reduce((a, b) => a + b, 0)),
    stalenessP50: stalenessQuantile(runs, 0.5),
    stalenessP90: stalenessQuantile(runs, 0.9),
  };
}
