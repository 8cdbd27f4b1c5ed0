/** Ways an export can fail that are not a bad weight vector (that is `FlatWeightsError`). */
export const EXPORT_ERROR_CODES = {
  'tfjs-save-failed': 'tfjs did not hand over a layers topology and weight specs',
  'invalid-argument': 'an input of the export does not fit (file list, timestamp)',
} as const;

/** The string discriminant of an {@link ExportError}. */
export type ExportErrorCode = keyof typeof EXPORT_ERROR_CODES;

/** The typed error of the export module. */
export class ExportError extends Error {
  override readonly name = 'ExportError';
  /** Which check failed; stable, safe to switch on. */
  readonly code: ExportErrorCode;

  /**
   * @param code - which check failed
   * @param detail - the value involved, appended to the code's standard reason
   */
  constructor(code: ExportErrorCode, detail: string) {
    super(`${code}: ${EXPORT_ERROR_CODES[code]} (${detail})`);
    this.code = code;
  }
}
