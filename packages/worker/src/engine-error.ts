/**
 * Every way a `TrainingEngine` call can be refused, with the reason each
 * code carries. One code per check, so the session can branch on it (a
 * `version-mismatch` patch means "pull dense instead") and a test can assert
 * which one fired.
 */
export const ENGINE_ERROR_CODES = {
  'parameter-count-mismatch': 'the model does not have the parameter count of the assignment',
  'dataset-mismatch': 'the shard belongs to another data set than the assignment names',
  'length-mismatch': 'a weight vector or patch does not have the model’s parameter count',
  'invalid-patch': 'a weight patch breaks the sparse-vector invariants',
  'invalid-version': 'a version is not a non-negative integer, or a patch goes backwards',
  'version-mismatch': 'a patch starts from another version than the one the engine holds',
  'no-weights': 'no global weights were set yet (pull them first)',
  'invalid-local-steps': 'the local step count is not a positive integer',
  'nothing-pending': 'no local steps were computed since the last compressed update',
  'non-finite': 'training produced a NaN or infinity (the local model diverged)',
  busy: 'another engine call is still running',
  disposed: 'the engine was disposed',
} as const;

/** The string discriminant of an {@link EngineError}. */
export type EngineErrorCode = keyof typeof ENGINE_ERROR_CODES;

/**
 * The error a `TrainingEngine` throws on bad input or misuse. The engine
 * is left as it was before the call (global weights, version and model), so
 * the caller can recover by pulling the weights again.
 */
export class EngineError extends Error {
  override readonly name = 'EngineError';
  /** Which check failed; stable, safe to switch on. */
  readonly code: EngineErrorCode;

  /**
   * @param code - which check failed.
   * @param detail - the values involved, appended to the code's standard reason.
   * @param options - standard `ErrorOptions` (the underlying error as `cause`).
   */
  constructor(code: EngineErrorCode, detail: string, options?: ErrorOptions) {
    super(`${code}: ${ENGINE_ERROR_CODES[code]} (${detail})`, options);
    this.code = code;
  }
}
