/** Every way a worker session can fail, with the reason each code carries. */
export const SESSION_ERROR_CODES = {
  'invalid-url': 'the coordinator URL is not an absolute http(s) or ws(s) URL',
  'invalid-options': 'a session option is malformed',
  'already-started': 'start() was called twice',
  'protocol-version': 'the coordinator speaks another protocol version',
  'hello-refused': 'the coordinator refused the hello',
  'pull-refused': 'the coordinator refused to send the weights',
  'invalid-reply': 'a message from the coordinator failed its schema or does not fit the request',
  'load-failed': 'the shard or the model of the assignment could not be loaded',
} as const;

/** The string discriminant of a {@link SessionError}. */
export type SessionErrorCode = keyof typeof SESSION_ERROR_CODES;

/**
 * An error of the worker session. Only `protocol-version` is fatal (the session
 * stops in state 'error'); the others are reported in the status and retried
 * with backoff.
 */
export class SessionError extends Error {
  override readonly name = 'SessionError';
  /** Which check failed; stable, safe to switch on. */
  readonly code: SessionErrorCode;

  /**
   * @param code - which check failed.
   * @param detail - the specifics, appended to the code's standard reason.
   * @param options - standard `ErrorOptions` (the underlying error as `cause`).
   */
  constructor(code: SessionErrorCode, detail: string, options?: ErrorOptions) {
    super(`${SESSION_ERROR_CODES[code]}: ${detail}`, options);
    this.code = code;
  }
}
