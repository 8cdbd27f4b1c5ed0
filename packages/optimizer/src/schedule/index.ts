/**
 * Phase schedules: pure state machines that decide when a parameter server applies worker
 * updates (asynchronous, synchronous rounds, Smooth Switch hybrid, cyclic, local SGD). They never
 * see update vectors; the coordinator keeps payloads keyed by (workerId, seq).
 */
export type {
  ClockThresholdConfig,
  LateUpdateRule,
  LocalPeriodRule,
  PlateauThresholdConfig,
  RoundDeadline,
  ScheduleConfig,
  StalenessPolicy,
  ThresholdClock,
  ThresholdConfig,
} from './config.js';
export { DEFAULT_ROUND_DEADLINE, DEFAULT_STALENESS_POLICY } from './config.js';
export type { ScheduleErrorCode } from './errors.js';
export { ScheduleError } from './errors.js';
export type {
  AppliedUpdate,
  ApplyCommand,
  BufferedCommand,
  EvaluatedEvent,
  Phase,
  PhaseCommand,
  RejectCommand,
  RejectReason,
  ScheduleCommand,
  ScheduleEvent,
  TickEvent,
  UpdateArrivedEvent,
  WakeAtCommand,
  WorkerJoinedEvent,
  WorkerLeftEvent,
} from './events.js';
export { localSteps } from './local-steps.js';
export type { PlateauProgress } from './plateau.js';
export { quantile } from './quantile.js';
export { roundDeadlineMs } from './round-deadline.js';
export type { ActiveWorker, BatchEntry, CyclePosition, OpenBatch, ScheduleState } from './state.js';
export { createSchedule, currentPhase } from './state.js';
export type { StepResult } from './step.js';
export { step, stepAll } from './step.js';
export { thresholdK } from './threshold.js';
export { validateScheduleConfig } from './validate-config.js';
