import { totalRejected, type MetricsPoint, type Phase, type RejectReason } from '@vtrain/protocol';

/*
 * Pure shaping of a run's metrics into the column arrays uPlot draws
 * (`[x, y1, y2, ...]`, nulls for gaps). No DOM, no uPlot import: every chart's
 * numbers are decided here and unit tested.
 */

/** One x column followed by y columns of the same length; `null` is a gap. */
export type Columns = [number[], ...(number | null)[][]];

/** Which clock a convergence chart is drawn against. */
export type XAxis = 'time' | 'version';

function xOf(point: MetricsPoint, axis: XAxis): number {
  return axis === 'time' ? point.elapsedSeconds : point.version;
}

/**
 * Points ordered for an x axis. uPlot needs ascending x; elapsed time already
 * is, but an evaluation point carries the version it evaluated, which can be
 * older than the point before it, so the version axis is sorted (stably).
 */
export function orderedFor(points: readonly MetricsPoint[], axis: XAxis): MetricsPoint[] {
  const ordered = [...points];
  if (axis === 'version') ordered.sort((a, b) => a.version - b.version);
  return ordered;
}

/**
 * Whether a point's test figures are of the whole test set. Periodic evaluations use the
 * run's sample; the final one and the check before `target-reached` use the whole set, a
 * different measure that is drawn as its own series. Points without `testSet` (recorded by
 * protocol 1) count as periodic.
 */
function isFullSet(point: MetricsPoint): boolean {
  return point.testSet === 'full';
}

/**
 * Against elapsed seconds or version: test accuracy on the run's sample, test accuracy on
 * the whole test set, test loss on each, and train loss.
 */
export function convergenceColumns(points: readonly MetricsPoint[], axis: XAxis): Columns {
  const ordered = orderedFor(points, axis);
  const of = (full: boolean, value: (p: MetricsPoint) => number | undefined) =>
    ordered.map((p) =>
      p.testAccuracy !== undefined && isFullSet(p) === full ? (value(p) ?? null) : null,
    );
  return [
    ordered.map((p) => xOf(p, axis)),
    of(false, (p) => p.testAccuracy),
    of(true, (p) => p.testAccuracy),
    of(false, (p) => p.testLoss),
    of(true, (p) => p.testLoss),
    ordered.map((p) => p.trainLoss ?? null),
  ];
}

/**
 * The label of a run's periodic test figures: "test accuracy (2,000 examples)" for a sample,
 * "(whole test set)" when the run evaluates on all of it.
 */
export function periodicLabel(what: string, sampleSize: number | undefined): string {
  return sampleSize === undefined
    ? `${what} (whole test set)`
    : `${what} (${sampleSize.toLocaleString('en-US')} examples)`;
}

/** The schedule over time: K (updates buffered per application), active workers N, local steps H. */
export function scheduleColumns(points: readonly MetricsPoint[]): Columns {
  return [
    points.map((p) => p.elapsedSeconds),
    points.map((p) => p.k),
    points.map((p) => p.activeWorkers),
    points.map((p) => p.localSteps),
  ];
}

/**
 * Per-second rate of a cumulative counter between consecutive points:
 * (c[i] - c[i-1]) / (t[i] - t[i-1]). The first point has no predecessor, and
 * a counter that went down (a restart that lost it) or no elapsed time gives
 * a gap rather than a spike or a negative rate.
 */
export function ratesOf(
  points: readonly MetricsPoint[],
  counter: (point: MetricsPoint) => number,
): (number | null)[] {
  return points.map((point, i) => {
    const previous = i > 0 ? points[i - 1] : undefined;
    if (previous === undefined) return null;
    const dt = point.elapsedSeconds - previous.elapsedSeconds;
    const dc = counter(point) - counter(previous);
    if (dt <= 0 || dc < 0) return null;
    return dc / dt;
  });
}

/** Updates applied and rejected per second, and samples per second, against elapsed seconds. */
export function throughputColumns(points: readonly MetricsPoint[]): Columns {
  return [
    points.map((p) => p.elapsedSeconds),
    ratesOf(points, (p) => p.updatesApplied),
    ratesOf(points, (point) => totalRejected(point.updatesRejected)),
    ratesOf(points, (p) => p.samples),
  ];
}

/** Bytes per second received from and sent to workers, against elapsed seconds. */
export function trafficColumns(points: readonly MetricsPoint[]): Columns {
  return [
    points.map((p) => p.elapsedSeconds),
    ratesOf(points, (p) => p.bytesIn),
    ratesOf(points, (p) => p.bytesOut),
  ];
}

/** A stretch of the x axis spent in one phase, for shading behind the curves. */
export interface PhaseBand {
  readonly phase: Phase;
  readonly from: number;
  readonly to: number;
}

/**
 * Consecutive points in the same phase merged into one band. A band runs from
 * its first point to the first point of the next phase, so bands tile the
 * axis without gaps; the last one ends at the last point.
 */
export function phaseBands(points: readonly MetricsPoint[], axis: XAxis): PhaseBand[] {
  const bands: { phase: Phase; from: number; to: number }[] = [];
  for (const point of orderedFor(points, axis)) {
    const x = xOf(point, axis);
    const current = bands.at(-1);
    if (current !== undefined) current.to = x;
    if (current?.phase !== point.phase) bands.push({ phase: point.phase, from: x, to: x });
  }
  return bands;
}

/**
 * Staleness histogram over the whole run. Each point's counts cover only the
 * updates applied since the previous point, so the run's distribution is
 * their bucket-wise sum; the last bucket holds everything larger.
 */
export function stalenessHistogram(points: readonly MetricsPoint[]): Columns {
  const totals: number[] = [];
  for (const point of points) {
    point.staleness.counts.forEach((count, bucket) => {
      totals[bucket] = (totals[bucket] ?? 0) + count;
    });
  }
  return [totals.map((_, bucket) => bucket), totals.map((count) => count)];
}

/** Staleness p50, p90 and max of each interval, against elapsed seconds. */
export function stalenessColumns(points: readonly MetricsPoint[]): Columns {
  return [
    points.map((p) => p.elapsedSeconds),
    points.map((p) => p.staleness.p50),
    points.map((p) => p.staleness.p90),
    points.map((p) => p.staleness.max),
  ];
}

export interface RejectedRow {
  readonly reason: RejectReason;
  readonly count: number;
}

/** Rejected updates by reason from the latest (cumulative) point, most frequent first. */
export function rejectedByReason(latest: MetricsPoint | undefined): RejectedRow[] {
  if (latest === undefined) return [];
  const rows: RejectedRow[] = [];
  for (const [reason, count] of Object.entries(latest.updatesRejected) as [
    RejectReason,
    number | undefined,
  ][]) {
    if (count !== undefined && count > 0) rows.push({ reason, count });
  }
  return rows.sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
}

/**
 * Several runs' test accuracy on one shared x column: the sorted union of
 * every run's evaluated x values, each run null where it has no evaluation at
 * that x (uPlot joins across the gaps with `spanGaps`).
 */
export function overlayAccuracy(runs: readonly (readonly MetricsPoint[])[], axis: XAxis): Columns {
  const perRun = runs.map((points) => {
    // One measure per run: its periodic evaluations (its sample), else the whole-set ones.
    const periodic = points.some((p) => p.testAccuracy !== undefined && !isFullSet(p));
    const byX = new Map<number, number>();
    for (const point of orderedFor(points, axis)) {
      if (point.testAccuracy === undefined || (periodic && isFullSet(point))) continue;
      byX.set(xOf(point, axis), point.testAccuracy);
    }
    return byX;
  });
  const xs = [...new Set(perRun.flatMap((byX) => [...byX.keys()]))].sort((a, b) => a - b);
  return [xs, ...perRun.map((byX) => xs.map((x) => byX.get(x) ?? null))];
}

/** The last point carrying test metrics, for the run header. */
export function latestEvaluation(points: readonly MetricsPoint[]): MetricsPoint | undefined {
  return points.findLast((p) => p.testAccuracy !== undefined);
}
