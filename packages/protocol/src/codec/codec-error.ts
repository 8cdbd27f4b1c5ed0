/**
 * Every way a binary payload (or an argument to an encoder) can be wrong, each with the
 * one-line reason it carries. One code per failure kind, so the coordinator can count
 * rejections by cause and a test can assert exactly which check fired.
 *
 * Decoder codes describe hostile or corrupt bytes; encoder codes describe a caller bug
 * (the worker tried to send something the format cannot carry).
 */
export const CODEC_ERROR_CODES = {
  truncated: 'the buffer ends before the declared content',
  'trailing-bytes': 'the buffer continues past the declared content',
  'bad-magic': 'the first byte is not this format’s magic byte',
  'unsupported-version': 'the format version byte is not one this decoder reads',
  'bad-value-format': 'the value-format byte names no known value encoding',
  'count-too-large': 'the declared entry count exceeds the limit or the dense length',
  'length-mismatch': 'the declared dense length differs from the expected one',
  'length-too-large': 'the declared dense length exceeds the limit',
  'varint-overflow': 'a varint runs past 5 bytes or past 2^32 - 1',
  'varint-non-canonical': 'a varint is longer than its minimal encoding',
  'indices-not-increasing': 'indices are not strictly increasing (a gap of 0 or a repeat)',
  'index-out-of-range': 'an index is not below the dense length',
  'non-finite': 'a value is NaN or infinite',
  'f16-overflow': 'a value rounds to infinity in float16 (|x| >= 65520)',
  'count-mismatch': 'indices and values have different lengths',
  'invalid-length': 'the dense length is not an integer in [0, 2^32 - 1]',
  'too-many-tensors': 'the declared tensor count exceeds the limit',
  'too-many-elements': 'the tensors hold more elements than the limit',
  'empty-name': 'a tensor name is empty',
  'duplicate-name': 'two tensors share a name',
  'name-too-long': 'a tensor name is longer than 65535 UTF-8 bytes',
  'bad-utf8': 'a tensor name is not well-formed UTF-8 (or UTF-16 on the encoder side)',
  'invalid-shape': 'a shape has rank > 255 or a dimension outside [0, 2^32 - 1]',
  'shape-mismatch': 'the product of a shape differs from the data length',
  'bad-padding': 'an alignment padding byte is not zero',
  'invalid-argument': 'the limits or options passed by the caller are malformed',
} as const;

/** The string discriminant of a {@link CodecError}: one of the keys of {@link CODEC_ERROR_CODES}. */
export type CodecErrorCode = keyof typeof CODEC_ERROR_CODES;

/**
 * The only error the codecs throw. Decoders never let a `RangeError` from `DataView` or a
 * `TypeError` from `TextDecoder` escape and never return a partial result: either the whole
 * payload is valid or this is thrown.
 */
export class CodecError extends Error {
  override readonly name = 'CodecError';
  /** Which check failed; stable across releases, safe to count and switch on. */
  readonly code: CodecErrorCode;
  /** Byte offset into the decoded buffer where the fault was found; undefined for encoder errors. */
  readonly offset: number | undefined;

  /**
   * @param code - which check failed
   * @param detail - the specific values involved, appended to the code's standard reason
   * @param offset - byte position of the fault in the input (decoders only)
   */
  constructor(code: CodecErrorCode, detail: string, offset?: number) {
    const where = offset === undefined ? '' : ` at byte ${offset}`;
    super(`${code}: ${CODEC_ERROR_CODES[code]}${where} (${detail})`);
    this.code = code;
    this.offset = offset;
  }
}
