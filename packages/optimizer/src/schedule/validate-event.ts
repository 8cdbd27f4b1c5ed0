import { ScheduleError } from './errors.js';
import type { ScheduleEvent } from './events.js';

function invalid(message: string): never {
  throw new ScheduleError('invalid-event', message);
}

function requireWorkerId(workerId: unknown): void {
  if (typeof workerId !== 'string' || workerId.length === 0) {
    invalid(`workerId must be a non-empty string, got ${JSON.stringify(workerId)}`);
  }
}

function requireCount(field: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    invalid(`${field} must be a non-negative integer, got ${value}`);
  }
}

/**
 * Checks an event's fields: a finite `at`, a non-empty `workerId`, non-negative integer `seq`
 * and `baseVersion`, a finite `stepMs >= 0`, a finite `loss`. Events come off the network
 * through the coordinator, so they are checked even though they are typed.
 *
 * @throws ScheduleError `invalid-event`, naming the field.
 */
export function validateEvent(event: ScheduleEvent): void {
  if (typeof event !== 'object' || (event as unknown) === null) invalid('event must be an object');
  if (!Number.isFinite(event.at)) invalid(`${event.type}: at must be finite, got ${event.at}`);
  switch (event.type) {
    case 'worker-joined':
    case 'worker-left':
      requireWorkerId(event.workerId);
      return;
    case 'update-arrived':
      requireWorkerId(event.workerId);
      requireCount('seq', event.seq);
      requireCount('baseVersion', event.baseVersion);
      if (!(Number.isFinite(event.stepMs) && event.stepMs >= 0)) {
        invalid(`stepMs must be finite and >= 0, got ${event.stepMs}`);
      }
      return;
    case 'tick':
      return;
    case 'evaluated':
      if (!Number.isFinite(event.loss)) invalid(`loss must be finite, got ${event.loss}`);
      return;
    default:
      invalid(`unknown event type ${JSON.stringify((event as { type: unknown }).type)}`);
  }
}
