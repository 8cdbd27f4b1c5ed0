import type {
  LocalPeriodRule,
  RoundDeadline,
  ScheduleConfig,
  StalenessPolicy,
  ThresholdConfig,
} from './config.js';
import { ScheduleError } from './errors.js';

function fail(field: string, expected: string, got: unknown): never {
  throw new ScheduleError(
    'invalid-config',
    `schedule config: ${field} must be ${expected}, got ${JSON.stringify(got)}`,
  );
}

function requireInteger(field: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) fail(field, `an integer >= ${min}`, value);
}

function requireFinite(field: string, value: number, min: number, exclusive = false): void {
  const ok = Number.isFinite(value) && (exclusive ? value > min : value >= min);
  if (!ok) fail(field, `a finite number ${exclusive ? '>' : '>='} ${min}`, value);
}

// Configs may come from untyped callers (JSON); a missing section must be a typed error too.
function requireObject(field: string, value: unknown): void {
  if (typeof value !== 'object' || value === null) fail(field, 'an object', value);
}

function validateStaleness(policy: StalenessPolicy): void {
  requireObject('staleness', policy);
  requireInteger('staleness.maxStaleness', policy.maxStaleness, 0);
}

function validateDeadline(deadline: RoundDeadline): void {
  requireObject('deadline', deadline);
  requireFinite('deadline.slack', deadline.slack, 1);
  if (!(deadline.quantile >= 0 && deadline.quantile <= 1)) {
    fail('deadline.quantile', 'in [0, 1]', deadline.quantile);
  }
  requireInteger('deadline.window', deadline.window, 1);
  requireFinite('deadline.minMs', deadline.minMs, 0, true);
  requireFinite('deadline.maxMs', deadline.maxMs, deadline.minMs);
}

function validateThreshold(threshold: ThresholdConfig): void {
  requireObject('threshold', threshold);
  switch (threshold.shape) {
    case 'plateau':
      requireInteger('threshold.patience', threshold.patience, 1);
      requireFinite('threshold.minDelta', threshold.minDelta, 0);
      return;
    case 'step':
      requireInteger('threshold.steps', threshold.steps, 1);
      break;
    case 'linear':
    case 'exponential':
      break;
    default:
      fail('threshold.shape', "'linear', 'exponential', 'step' or 'plateau'", threshold);
  }
  const clock: unknown = threshold.clock;
  if (clock !== 'time' && clock !== 'updates')
    fail('threshold.clock', "'time' or 'updates'", clock);
  requireFinite('threshold.horizon', threshold.horizon, 0, true);
}

function validatePeriod(period: LocalPeriodRule): void {
  requireObject('period', period);
  switch (period.rule) {
    case 'fixed':
      requireInteger('period.steps', period.steps, 1);
      return;
    case 'lupa-adaptive':
      requireInteger('period.initialSteps', period.initialSteps, 1);
      requireInteger('period.maxSteps', period.maxSteps, period.initialSteps);
      return;
    case 'lupa-linear':
      requireInteger('period.initialSteps', period.initialSteps, 1);
      requireFinite('period.alpha', period.alpha, 0);
      return;
    default:
      fail('period.rule', "'fixed', 'lupa-adaptive' or 'lupa-linear'", period);
  }
}

function validateLateRule(rule: string): void {
  if (rule !== 'reject' && rule !== 'next-round')
    fail('lateUpdates', "'reject' or 'next-round'", rule);
}

/**
 * Checks every field of a schedule config against its documented range (the same ranges as the
 * wire schema, so a config that passed the protocol passes here). Extra fields are ignored.
 *
 * @throws ScheduleError `invalid-config`, naming the first offending field.
 */
export function validateScheduleConfig(config: ScheduleConfig): void {
  requireObject('config', config);
  validateStaleness(config.staleness);
  switch (config.kind) {
    case 'async':
      return;
    case 'sync':
      validateDeadline(config.deadline);
      validateLateRule(config.lateUpdates);
      return;
    case 'hybrid':
      validateDeadline(config.deadline);
      validateLateRule(config.lateUpdates);
      validateThreshold(config.threshold);
      return;
    case 'cyclic':
      validateDeadline(config.deadline);
      validateLateRule(config.lateUpdates);
      requireInteger('syncRounds', config.syncRounds, 0);
      requireInteger('asyncUpdates', config.asyncUpdates, 0);
      if (config.syncRounds + config.asyncUpdates === 0) {
        fail('syncRounds + asyncUpdates', '> 0', 0);
      }
      return;
    case 'local-sgd':
      validateDeadline(config.deadline);
      validatePeriod(config.period);
      return;
    default:
      fail('kind', "'async', 'sync', 'hybrid', 'cyclic' or 'local-sgd'", config);
  }
}
