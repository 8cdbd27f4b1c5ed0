import { CodedError } from '../coded-error.js';

/** Reasons an {@link OptimizerError} is thrown. */
export type OptimizerErrorCode =
  'invalid-config' | 'length-mismatch' | 'non-finite' | 'invalid-update' | 'invalid-state';

/** Thrown on a bad optimizer configuration, step argument or checkpoint; the weights are left untouched. */
export class OptimizerError extends CodedError<OptimizerErrorCode> {
  /**
   * @param code - the reason, see {@link OptimizerErrorCode}.
   * @param message - names the offending value.
   * @param options - standard `ErrorOptions` (e.g. the underlying `cause`).
   */
  public constructor(code: OptimizerErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}
