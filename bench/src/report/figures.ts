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
