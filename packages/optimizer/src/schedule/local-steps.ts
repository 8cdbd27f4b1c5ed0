import type { LocalPeriodRule } from './config.js';
import { ScheduleError } from './errors.js';

// Relative slack for ceil: a loss ratio of 27 computed as 2.7 / 0.1 = 27.000000000000004 must
// give a cube root of 3, not 4; floating noise must never add a whole tau_0 to the period.
const CEIL_TOLERANCE = 1e-9;

function tolerantCeil(x: number): number {
  return Math.ceil(x - CEIL_TOLERANCE * Math.abs(x));
}

function assertPositiveLoss(name: string, loss: number): void {
  if (!(Number.isFinite(loss) && loss > 0)) {
    throw new ScheduleError(
      'invalid-argument',
      `${name} must be finite and > 0 for the LUPA ratio, got ${loss}`,
    );
  }
}

/**
 * The local-SGD period H (local steps before a worker sends its model delta) for round
 * `roundIndex` (0 for the first round), LUPA-SGD (Haddadpour et al. 2019,
 * docs/algorithms.md#local-sgd-and-lupa):
 * - fixed: `H = steps`;
 * - lupa-adaptive: `H = min(maxSteps, ceil((F(x_0) / F(x_i)) ** (1/3)) * tau_0)` with
 *   `F(x_0) = initialLoss` (the first evaluation) and `F(x_i) = currentLoss` (the latest one);
 *   `tau_0` until a loss is known. A loss that rose gives `ceil(ratio ** (1/3)) = 1`, i.e. tau_0;
 * - lupa-linear: `H = ceil((1 + roundIndex * alpha) * tau_0)`, what the paper's experiments ran
 *   (tau_0 = 91, alpha about 1.09); no cap.
 *
 * @param roundIndex - non-negative integer.
 * @param initialLoss - loss of the first evaluation, or null before any.
 * @param currentLoss - latest evaluated loss, or null before any.
 * @throws ScheduleError `invalid-argument` on a negative round index, or a non-positive loss
 *   under the adaptive rule.
 */
export function localSteps(
  rule: LocalPeriodRule,
  roundIndex: number,
  initialLoss: number | null,
  currentLoss: number | null,
): number {
  if (!Number.isSafeInteger(roundIndex) || roundIndex < 0) {
    throw new ScheduleError(
      'invalid-argument',
      `roundIndex must be a non-negative integer, got ${roundIndex}`,
    );
  }
  switch (rule.rule) {
    case 'fixed':
      return rule.steps;
    case 'lupa-adaptive': {
      if (initialLoss === null || currentLoss === null) return rule.initialSteps;
      assertPositiveLoss('initialLoss', initialLoss);
      assertPositiveLoss('currentLoss', currentLoss);
      const factor = Math.max(1, tolerantCeil(Math.cbrt(initialLoss / currentLoss)));
      return Math.min(rule.maxSteps, factor * rule.initialSteps);
    }
    case 'lupa-linear':
      return tolerantCeil((1 + roundIndex * rule.alpha) * rule.initialSteps);
  }
}

/** tau_0 of a period rule: the H of the first round, the unit local-SGD deadlines scale from. */
export function initialLocalSteps(rule: LocalPeriodRule): number {
  return rule.rule === 'fixed' ? rule.steps : rule.initialSteps;
}
