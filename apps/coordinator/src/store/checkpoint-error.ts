/**
 * Every way writing or reading a checkpoint can fail, each with its standard reason. The
 * decoder codes let a restore say whether a file is foreign, damaged or from a newer
 * coordinator; the store falls back to an older file on any of them.
 */
export const CHECKPOINT_ERROR_CODES = {
  truncated: 'the file is shorter than its fixed parts or its declared header',
  'bad-magic': "the file does not start with 'VTCK'",
  'unsupported-version': 'the format version is not one this coordinator reads',
  'hash-mismatch': 'the SHA-256 trailer does not match the content (damaged or cut short)',
  'bad-header': 'the JSON header does not parse or a field is missing or out of range',
  'bad-tensors': 'the weights blob does not decode or does not hold the tensors the header names',
  'name-mismatch': 'the version in the file name differs from the one inside the file',
  'invalid-checkpoint': 'the checkpoint to write has a bad field or is not JSON-serialisable',
  'invalid-run-id': 'the run id is not a safe directory name',
  'no-valid-checkpoint': 'checkpoints exist for the run but none of them verifies',
} as const;

/** The string discriminant of a {@link CheckpointError}. */
export type CheckpointErrorCode = keyof typeof CHECKPOINT_ERROR_CODES;

/** The typed error of checkpoint encoding, decoding and storage. */
export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
  /** Which check failed; stable, safe to switch on. */
  readonly code: CheckpointErrorCode;

  /**
   * @param code - which check failed
   * @param detail - the file, field or value involved, appended to the code's standard reason
   * @param options - standard `ErrorOptions`, e.g. a `CodecError` as `cause`
   */
  constructor(code: CheckpointErrorCode, detail: string, options?: ErrorOptions) {
    super(`${code}: ${CHECKPOINT_ERROR_CODES[code]} (${detail})`, options);
    this.code = code;
  }
}
