import type { ClockThresholdConfig } from './config.js';
import { ScheduleError } from './errors.js';

/**
 * K(s) of the Smooth Switch hybrid (arXiv 2407.00101; the shapes are our choices, see
 * docs/algorithms.md#smooth-switch-hybrid): how many updates from distinct workers a batch needs
 * before it is applied.
 * Shapes:
 * - linear: `K = max(1, ceil(N * min(1, s / horizon)))`;
 * - exponential: `K = max(1, min(N, round(N ** min(1, s / horizon))))`, geometric growth 1 -> N;
 * - step: `K = max(1, ceil(N * floor(steps * min(1, s / horizon)) / steps))`.
 * Every shape is non-decreasing in s and reaches N at `s = horizon`. Products are formed before
 * the division so that exact points (e.g. `N * s / horizon = 3`) do not round up to 4.
 *
 * @param config - the shape; the plateau shape is stateful, see the schedule.
 * @param n - active workers N, a non-negative integer.
 * @param s - elapsed ms or applied updates (per `config.clock`), `>= 0`.
 * @throws ScheduleError `invalid-argument` on a negative or non-integer n, or a negative s.
 */
export function thresholdK(config: ClockThresholdConfig, n: number, s: number): number {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new ScheduleError('invalid-argument', `n must be a non-negative integer, got ${n}`);
  }
  if (!(s >= 0)) {
    throw new ScheduleError('invalid-argument', `s must be >= 0, got ${s}`);
  }
  // Past the horizon every shape is synchronous; answering directly also keeps
  // n * horizon / horizon from rounding to just above n.
  if (s >= config.horizon) return Math.max(1, n);
  switch (config.shape) {
    case 'linear':
      return Math.max(1, Math.min(n, Math.ceil((n * s) / config.horizon)));
    case 'exponential':
      return Math.max(1, Math.min(n, Math.round(n ** (s / config.horizon))));
    case 'step': {
      const level = Math.floor((config.steps * s) / config.horizon);
      return Math.max(1, Math.min(n, Math.ceil((n * level) / config.steps)));
    }
  }
}
