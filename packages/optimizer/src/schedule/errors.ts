import { CodedError } from '../coded-error.js';

/**
 * Why a schedule refused its input:
 * - `invalid-config`: a `ScheduleConfig` field is out of range (checked by `createSchedule`);
 * - `invalid-event`: an event field is missing, non-finite or of the wrong kind;
 * - `time-went-backwards`: an event's `at` is earlier than one already stepped (the coordinator
 *   must feed one non-decreasing clock, or deadlines would fire in the past);
 * - `invalid-argument`: a pure helper (`quantile`, `thresholdK`, ...) got an argument outside
 *   its domain.
 */
export type ScheduleErrorCode =
  'invalid-config' | 'invalid-event' | 'time-went-backwards' | 'invalid-argument';

/** Typed error of the phase schedules; branch on `code`, never on the message. */
export class ScheduleError extends CodedError<ScheduleErrorCode> {
  /**
   * @param code - the reason, see {@link ScheduleErrorCode}.
   * @param message - names the offending field and value.
   */
  // `public` on purpose: CodedError's constructor is protected, so this one widens access.
  public constructor(code: ScheduleErrorCode, message: string) {
    super(code, message);
  }
}
