/** Summary statistics over seeds: what every table of the report prints. */

export interface Spread {
  readonly mean: number;
  /** Sample standard deviation (n - 1); 0 for a single value. */
  readonly std: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

export function spread(values: readonly number[]): Spread {
  const n = values.length;
  if (n === 0) return { mean: Number.NaN, std: Number.NaN, min: Number.NaN, max: Number.NaN, n };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : 0;
  return { mean, std: Math.sqrt(variance), min: Math.min(...values), max: Math.max(...values), n };
}

export interface CurvePoint {
  readonly t: number;
  readonly accuracy: number;
}

/**
 * First time the curve reaches `target`, linearly interpolated between the two
 * evaluations around the crossing (evaluations are periodic, so the raw sample
 * time would round every schedule up to the next evaluation); null if never.
 */
export function timeToTarget(curve: readonly CurvePoint[], target: number): number | null {
  for (let i = 0; i < curve.length; i++) {
    const point = curve[i];
    if (point.accuracy < target) continue;
    if (i === 0 || curve[i - 1].accuracy >= target) return point.t;
    const previous = curve[i - 1];
    const fraction = (target - previous.accuracy) / (point.accuracy - previous.accuracy);
    return previous.t + fraction * (point.t - previous.t);
  }
  return null;
}

/**
 * Mean over seeds of curves sampled at the same times (every run evaluates on
 * the same virtual schedule); curves are cut to the shortest one.
 */
export function meanCurve(curves: readonly (readonly CurvePoint[])[]): CurvePoint[] {
  if (curves.length === 0) return [];
  const length = Math.min(...curves.map((c) => c.length));
  const out: CurvePoint[] = [];
  for (let i = 0; i < length; i++) {
    const t = curves[0][i].t;
    const accuracy = curves.reduce((sum, c) => sum + c[i].accuracy, 0) / curves.length;
    out.push({ t, accuracy });
  }
  return out;
}
