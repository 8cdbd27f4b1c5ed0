/**
 * `@vtrain/worker`: the training worker shared by the browser's Web Worker and
 * the headless Node CLI. Browser-safe: nothing reachable from here imports a
 * Node built-in (`index-purity.test.ts` checks it); the CLI lives in `cli.ts`.
 */
export { TrainingEngine } from './engine.js';
export type { ComputedUpdate, TrainingEngineOptions } from './engine.js';
export { ENGINE_ERROR_CODES, EngineError } from './engine-error.js';
export type { EngineErrorCode } from './engine-error.js';
export { DEFAULT_SESSION_TIMING, WorkerSession } from './session.js';
export type {
  SessionLogLevel,
  SessionTiming,
  WorkerSessionOptions,
  WorkerSocket,
} from './session.js';
export { SESSION_ERROR_CODES, SessionError } from './session-error.js';
export type { SessionErrorCode } from './session-error.js';
export { initialStatus } from './status.js';
export type { BackendChoice, WorkerState, WorkerStatus } from './status.js';
export { formatBytes, formatStatusLine, formatSummary } from './status-line.js';
export {
  assertDutyCycle,
  backoffDelayMs,
  DutyCycleError,
  dutyCycleIdleMs,
  ewma,
  jittered,
} from './timing.js';
export type { BackoffPolicy, DutyCycleErrorCode } from './timing.js';
export {
  applyWeightsMessage,
  flatWeightsFromDense,
  WeightsEpochError,
  WeightsLayoutError,
  weightsEpoch,
} from './weights-message.js';
export type { WeightsLayoutErrorCode } from './weights-message.js';
export { binaryBytes, estimatedMessageBytes } from './envelope.js';
export { modelNeedsConvolution } from './model-kernels.js';
export { Wakeup } from './wakeup.js';
