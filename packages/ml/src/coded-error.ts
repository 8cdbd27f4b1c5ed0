/**
 * Base class of every error this package throws on bad input.
 *
 * Callers branch on `code` (a string discriminant), never on message text, so the
 * coordinator can map a rejected topology or shard to a reason it reports to a researcher.
 *
 * @typeParam Code - the string literal union of codes a subclass may carry.
 */
export abstract class CodedError<Code extends string> extends Error {
  /** Machine-readable reason; stable across releases. */
  readonly code: Code;

  /**
   * @param code - the reason, from the subclass's code union.
   * @param message - a human-readable explanation naming the offending value.
   * @param options - standard `ErrorOptions` (for example the tfjs error as `cause`).
   */
  constructor(code: Code, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}
