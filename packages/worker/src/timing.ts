/** An exponential backoff: attempt n waits about min(maxMs, initialMs * 2^n). */
export interface BackoffPolicy {
  /** Delay of the first retry before jitter, ms (> 0). */
  readonly initialMs: number;
  /** Cap of the delay before jitter, ms (>= initialMs). */
  readonly maxMs: number;
}

/**
 * Spreads `ms` uniformly over [ms * (1 - factor), ms * (1 + factor)] (the upper end
 * only by binary64 rounding of a draw just below 1):
 * ms * (1 - factor + 2 * factor * random()). With factor 0.5 this is socket.io's
 * own `randomizationFactor` rule, so a crowd of workers that lost the coordinator
 * at the same moment does not come back in the same millisecond.
 *
 * @param ms - the nominal delay, >= 0.
 * @param random - uniform source in [0, 1).
 * @param factor - spread in [0, 1]; default 0.5.
 */
export function jittered(ms: number, random: () => number, factor = 0.5): number {
  return ms * (1 - factor + 2 * factor * random());
}

/**
 * Delay before retry number `attempt` (0 for the first):
 * jittered(min(maxMs, initialMs * 2^attempt)), i.e. in [base / 2, 3 base / 2].
 *
 * @param attempt - a non-negative integer; large values are capped, never overflow.
 * @param policy - see {@link BackoffPolicy}.
 * @param random - uniform source in [0, 1).
 */
export function backoffDelayMs(
  attempt: number,
  policy: BackoffPolicy,
  random: () => number,
): number {
  const exponent = Math.min(Math.max(0, Math.floor(attempt)), 30);
  const base = Math.min(policy.maxMs, policy.initialMs * 2 ** exponent);
  return jittered(base, random);
}

/** Reasons a {@link DutyCycleError} is thrown. */
export type DutyCycleErrorCode = 'invalid-duty-cycle';

/** Thrown for a duty cycle outside (0, 1]. */
export class DutyCycleError extends Error {
  override readonly name = 'DutyCycleError';
  /** Always `invalid-duty-cycle`. */
  readonly code: DutyCycleErrorCode = 'invalid-duty-cycle';

  /** @param value - the refused duty cycle. */
  constructor(value: number) {
    super(`invalid-duty-cycle: the duty cycle must be in (0, 1], got ${value}`);
  }
}

/**
 * Checks that a duty cycle d is in (0, 1].
 *
 * @throws {@link DutyCycleError} otherwise (NaN included).
 */
export function assertDutyCycle(dutyCycle: number): void {
  if (!(dutyCycle > 0 && dutyCycle <= 1)) throw new DutyCycleError(dutyCycle);
}

/**
 * Idle time after an update that took `computeMs`, so that computing is a
 * fraction d of the wall time: compute / (compute + idle) = d, hence
 * idle = computeMs * (1 - d) / d. d = 1 never idles; d = 0.5 idles as long as it computed.
 *
 * @param computeMs - time spent computing the update, >= 0.
 * @param dutyCycle - d in (0, 1].
 * @throws {@link DutyCycleError} for d outside (0, 1].
 */
export function dutyCycleIdleMs(computeMs: number, dutyCycle: number): number {
  assertDutyCycle(dutyCycle);
  return (Math.max(0, computeMs) * (1 - dutyCycle)) / dutyCycle;
}

/**
 * Exponentially weighted moving average: the first sample as is, then
 * previous + alpha * (sample - previous).
 *
 * @param previous - the average so far, undefined before the first sample.
 * @param sample - the new observation.
 * @param alpha - weight of the new sample in (0, 1].
 */
export function ewma(previous: number | undefined, sample: number, alpha: number): number {
  return previous === undefined ? sample : previous + alpha * (sample - previous);
}
