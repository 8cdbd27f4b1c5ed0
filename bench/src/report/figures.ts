import type { ResultGroup } from '../experiments/grid.js';
import { lineChart, type Series } from './svg-chart.js';

/**
 * Mean test accuracy over seeds against virtual time, with the min-max band
 * over seeds. Seeds of one group evaluate on the same virtual schedule, so
 * their samples line up point by point.
 */
export function accuracySeries(group: ResultGroup, name = group.label): Series {
  const curves = group.runs.map((r) => r.curve);
  const length = Math.min(...curves.map((c) => c.length));
  const points: [number, number][] = [];
  const band: [number, number, number][] = [];
  for (let i = 0; i < length; i++) {
    const t = curves[0][i].t / 1000;
    const values = curves.map((c) => c[i].accuracy);
    points.push([t, values.reduce((a, b) => a + b, 0) / values.length]);
    band.push([t, Math.min(...values), Math.max(...values)]);
  }
  return { name, points, ...(group.runs.length > 1 ? { band } : {}) };
}

export function accuracyChart(
  groups: readonly ResultGroup[],
  title: string,
  yMin: number,
  names?: (group: ResultGroup) => string,
): string {
  return lineChart(
    groups.map((g) => accuracySeries(g, names ? names(g) : g.label)),
    { title, xLabel: 'virtual time (s)', yLabel: 'test accuracy (mean over seeds)', yMin, yMax: 1 },
  );
}

/** Mean over seeds of a per-evaluation quantity against virtual time (seconds). */
function meanSeries(
  group: ResultGroup,
  value: (sample: ResultGroup['runs'][number]['curve'][number]) => number,
  name: string,
): Series {
  const curves = group.runs.map((r) => r.curve);
  const length = Math.min(...curves.map((c) => c.length));
  const points: [number, number][] = [];
  for (let i = 0; i < length; i++) {
    const values = curves.map((c) => value(c[i]));
    points.push([curves[0][i].t / 1000, values.reduce((a, b) => a + b, 0) / values.length]);
  }
  return { name, points };
}

/** The schedule's threshold K (updates per aggregation) at each evaluation, mean over seeds. */
export function thresholdChart(groups: readonly ResultGroup[], title: string): string {
  return lineChart(
    groups.map((g) => meanSeries(g, (s) => s.k, g.label)),
    { title, xLabel: 'virtual time (s)', yLabel: 'K: updates per model step', yMin: 0 },
  );
}

/** Bytes on the wire so far (up + down, MB), mean over seeds. */
export function bytesChart(groups: readonly ResultGroup[], title: string): string {
  return lineChart(
    groups.map((g) => meanSeries(g, (s) => (s.bytesUp + s.bytesDown) / 1e6, g.label)),
    { title, xLabel: 'virtual time (s)', yLabel: 'MB sent, up + down (cumulative)', yMin: 0 },
  );
}
