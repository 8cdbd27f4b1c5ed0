/**
 * Every way a {@link Store} call can fail on bad input or bad data, each with its standard
 * reason. A code per cause, so the HTTP layer can map `unknown-run` to 404 and
 * `duplicate-run` to 409 without reading messages.
 */
export const STORE_ERROR_CODES = {
  'invalid-argument': 'a value passed to the store does not fit its column',
  'duplicate-run': 'a run with this id already exists',
  'unknown-run': 'no run with this id exists',
  'corrupt-row': 'a stored row does not parse or does not pass its schema',
  'newer-schema': 'the database was written by a newer coordinator',
  'migration-failed': 'a schema migration failed; the database was left at its previous version',
  'storage-unavailable':
    'the database could not be written (disk full, I/O error); nothing of the write was kept',
} as const;

/** The string discriminant of a {@link StoreError}. */
export type StoreErrorCode = keyof typeof STORE_ERROR_CODES;

/** The typed error of the embedded database layer. */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  /** Which check failed; stable, safe to switch on. */
  readonly code: StoreErrorCode;

  /**
   * @param code - which check failed
   * @param detail - the row, id or value involved, appended to the code's standard reason
   * @param options - standard `ErrorOptions`, e.g. the SQLite error as `cause`
   */
  constructor(code: StoreErrorCode, detail: string, options?: ErrorOptions) {
    super(`${code}: ${STORE_ERROR_CODES[code]} (${detail})`, options);
    this.code = code;
  }
}
