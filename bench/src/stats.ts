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

/** Two-sided 95% quantiles t(0.975, df) of Student's t for df = 1..30. */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145,
  2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048,
  2.045, 2.042,
];

/**
 * t(0.975, df): the table to df 30, beyond it the Cornish-Fisher expansion
 * around the normal quantile (within 0.001 of the exact value for df > 30).
 */
export function tQuantile975(df: number): number {
  if (!Number.isInteger(df) || df < 1)
    throw new RangeError(`degrees of freedom must be >= 1, got ${df}`);
  if (df <= T975.length) return T975[df - 1];
  const z = 1.959963985;
  return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2);
}

/** A mean with its two-sided 95% t-interval. */
export interface MeanInterval {
  readonly mean: number;
  readonly low: number;
  readonly high: number;
  readonly n: number;
}

/** Mean and 95% t-interval (mean ± t(0.975, n-1) · s / √n); NaN bounds under two values. */
export function meanInterval95(values: readonly number[]): MeanInterval {
  const s = spread(values);
  if (s.n < 2) return { mean: s.mean, low: Number.NaN, high: Number.NaN, n: s.n };
  const half = (tQuantile975(s.n - 1) * s.std) / Math.sqrt(s.n);
  return { mean: s.mean, low: s.mean - half, high: s.mean + half, n: s.n };
}

/** One value per seed. */
export type BySeed = ReadonlyMap<number, number>;

/** a − b on the seeds both have (paired: same seed, same initial weights, shards and timings), in a's order. */
export function pairedDifferences(a: BySeed, b: BySeed): number[] {
  const out: number[] = [];
  for (const [seed, value] of a) {
    const other = b.get(seed);
    if (other !== undefined) out.push(value - other);
  }
  return out;
}

/** Where a 95% interval of a difference lies: above 0, below 0, or across it. */
export function intervalSign(interval: MeanInterval): 'above' | 'below' | 'spans' {
  if (interval.low > 0) return 'above';
  if (interval.high < 0) return 'below';
  return 'spans';
}
