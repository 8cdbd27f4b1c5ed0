import { CodedError } from '../coded-error.js';

/** Reasons an {@link AggregationError} is thrown. */
export type AggregationErrorCode =
  | 'no-contributions'
  | 'dimension-mismatch'
  | 'invalid-update'
  | 'non-finite'
  | 'invalid-weight'
  | 'invalid-option';

/**
 * Thrown when contributions or rule parameters are unusable. Raised before
 * any output is computed, so a bad update never reaches the model.
 */
export class AggregationError extends CodedError<AggregationErrorCode> {
  /** Position in the contribution list of the offending update, when one is to blame. */
  readonly contributionIndex: number | undefined;

  /**
   * @param code - what was wrong.
   * @param message - the offending value, spelled out.
   * @param options - the contribution to blame and the underlying error, if any.
   */
  public constructor(
    code: AggregationErrorCode,
    message: string,
    options: { readonly contributionIndex?: number; readonly cause?: unknown } = {},
  ) {
    super(code, message, { cause: options.cause });
    this.contributionIndex = options.contributionIndex;
  }
}
