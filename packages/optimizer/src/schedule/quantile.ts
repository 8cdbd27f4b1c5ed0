import { ScheduleError } from './errors.js';

/**
 * The q-quantile of `samples` by linear interpolation between order statistics (Hyndman and
 * Fan type 7, the default of R and NumPy): with `x` sorted ascending and `h = (n - 1) * q`,
 * `quantile = x[floor(h)] + (h - floor(h)) * (x[floor(h) + 1] - x[floor(h)])`.
 * So q = 0 is the minimum, q = 1 the maximum, q = 0.5 the median.
 *
 * @param samples - at least one finite number; not modified.
 * @param q - in `[0, 1]`.
 * @throws ScheduleError `invalid-argument` on an empty or non-finite sample, or q outside [0, 1].
 */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) {
    throw new ScheduleError('invalid-argument', 'quantile of an empty sample is undefined');
  }
  if (!(q >= 0 && q <= 1)) {
    throw new ScheduleError('invalid-argument', `quantile q must be in [0, 1], got ${q}`);
  }
  for (const x of samples) {
    if (!Number.isFinite(x)) {
      throw new ScheduleError('invalid-argument', `quantile sample must be finite, got ${x}`);
    }
  }
  const sorted = [...samples].sort((a, b) => a - b);
  const h = (sorted.length - 1) * q;
  const below = Math.floor(h);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below] + (h - below) * (sorted[above] - sorted[below]);
}
