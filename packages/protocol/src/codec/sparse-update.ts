import { f16round, getFloat16, setFloat16 } from '@petamoriken/float16';
import { ByteReader } from './byte-reader.js';
import { CodecError } from './codec-error.js';
import { MAX_UINT32, readVarintUint32, varintByteLength, writeVarintUint32 } from './varint.js';

/**
 * A top-k sparse update of a dense vector of dimension `length` (P): entry `indices[i]`
 * holds `values[i]`, every other entry is 0. Same shape as the optimizer's SparseVector.
 */
export interface SparseVector {
  /** Dense dimension P, an integer in [0, 2^32 - 1]. */
  length: number;
  /** Strictly increasing positions, each < `length`. */
  indices: Uint32Array;
  /** Finite values, `values.length === indices.length`. */
  values: Float32Array;
}

/** First byte of every sparse update: ASCII 'S'. */
export const SPARSE_UPDATE_MAGIC = 0x53;

/** Layout version this module writes and reads; a future layout gets a new number. */
export const SPARSE_UPDATE_VERSION = 1;

/** Fixed header: magic (1) + version (1) + value format (1) + P (4) + count (4) = 11 bytes. */
export const SPARSE_UPDATE_HEADER_BYTES = 11;

/** Whether this host stores a float32 in the wire's byte order (little-endian); nearly all do. */
const LITTLE_ENDIAN_HOST = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/**
 * Every binary16 bit pattern widened to a number, built on first use (256 KB): a
 * lookup per value instead of the polyfill's decode, which was a quarter of the
 * coordinator's time under a thousand f16 volunteers.
 */
let float16Values: Float32Array | undefined;
function float16Table(): Float32Array {
  if (float16Values === undefined) {
    const view = new DataView(new ArrayBuffer(2));
    float16Values = new Float32Array(65536);
    for (let bits = 0; bits < 65536; bits++) {
      view.setUint16(0, bits, true);
      float16Values[bits] = getFloat16(view, 0, true);
    }
  }
  return float16Values;
}

/** Value-format byte on the wire: 0 = IEEE binary32, 1 = IEEE binary16. */
export const SPARSE_VALUE_FORMAT_CODES = { f32: 0, f16: 1 } as const;

/** How values travel: full float32, or float16 (half the bytes, about 3 significant digits). */
export type SparseValueFormat = keyof typeof SPARSE_VALUE_FORMAT_CODES;

/** Options of {@link encodeSparseUpdate}. */
export interface SparseEncodeOptions {
  valueFormat: SparseValueFormat;
}

/** Bounds the decoder enforces before it allocates or trusts anything. */
export interface SparseDecodeLimits {
  /** Largest accepted dense length P (the run's parameter count). */
  maxLength: number;
  /** Largest accepted entry count (e.g. ceil(maxDensity * P)). */
  maxCount: number;
  /** When set, P must equal it exactly (the run's parameter count). */
  expectedLength?: number;
}

/**
 * The value an f16 payload carries for `x`: x rounded to the nearest binary16 (ties to
 * even), widened back exactly; infinite when |x| >= 65520 (which the encoder refuses).
 * A sender that must know exactly what its peer will read (a step the peer adds) rounds
 * with this before encoding.
 */
export function roundToFloat16(x: number): number {
  return f16round(x);
}

/** Bytes per value: 4 for f32, 2 for f16. */
export function sparseBytesPerValue(valueFormat: SparseValueFormat): 2 | 4 {
  return valueFormat === 'f16' ? 2 : 4;
}

/**
 * Exact encoded size of `vector`:
 * 11 + varintBytes(indices[0]) + sum_{i>=1} varintBytes(indices[i] - indices[i-1])
 *    + count * bytesPerValue.
 * Assumes a valid vector (the encoder validates).
 */
export function encodedSparseUpdateSize(
  vector: SparseVector,
  valueFormat: SparseValueFormat,
): number {
  const { indices } = vector;
  let size = SPARSE_UPDATE_HEADER_BYTES + indices.length * sparseBytesPerValue(valueFormat);
  let previous = 0;
  for (const index of indices) {
    size += varintByteLength(index - previous);
    previous = index;
  }
  return size;
}

/**
 * Upper bound on the encoded size of any valid update with dense length `length` and `count`
 * entries: 11 + count * (varintBytes(P - 1) + bytesPerValue), since every gap is <= P - 1.
 * Use it to size `maxHttpBufferSize` from the largest legitimate message
 * (docs/architecture.md#3-the-wire).
 */
export function maxEncodedSparseUpdateSize(
  length: number,
  count: number,
  valueFormat: SparseValueFormat,
): number {
  const gapBytes = varintByteLength(Math.max(length - 1, 0));
  return SPARSE_UPDATE_HEADER_BYTES + count * (gapBytes + sparseBytesPerValue(valueFormat));
}

/**
 * Encodes a sparse update: count, indices (delta + varint), values (f32, or f16 on request;
 * SPEC-binary.md). All integers little-endian; byte by byte:
 *
 * | offset | size | field                                                        |
 * |--------|------|--------------------------------------------------------------|
 * | 0      | 1    | magic 0x53 ('S')                                             |
 * | 1      | 1    | version, 1                                                   |
 * | 2      | 1    | value format: 0 = f32, 1 = f16                               |
 * | 3      | 4    | P, dense length, uint32                                      |
 * | 7      | 4    | count, number of entries, uint32 (count <= P)                |
 * | 11     | var  | indices[0], then indices[i] - indices[i-1] (>= 1), each as a minimal unsigned LEB128 varint of 1..5 bytes |
 * | end    | count * 4 or count * 2 | values, binary32 or binary16, in index order |
 *
 * Values are NOT aligned (they start right after the last varint): decoding reads them through
 * a DataView anyway, to check each is finite and to stay correct on big-endian hosts, so
 * padding would buy nothing.
 *
 * f16 policy: a value whose float16 rounding is infinite (|x| >= 65520, the midpoint above
 * the largest half 65504 that rounds to even = infinity) is REJECTED with `f16-overflow`,
 * never clamped: a gradient that large means something upstream is wrong. Values too small
 * for float16 round to a subnormal or to 0 and are still sent.
 *
 * @returns a fresh Uint8Array with `byteOffset` 0 that spans its whole buffer, so `.buffer`
 *   can go out as a socket.io binary attachment directly.
 * @throws CodecError `invalid-argument` (unknown value format), `invalid-length`,
 *   `count-mismatch`, `indices-not-increasing`, `index-out-of-range`, `non-finite`,
 *   `f16-overflow`.
 */
export function encodeSparseUpdate(vector: SparseVector, options: SparseEncodeOptions): Uint8Array {
  const { valueFormat } = options;
  if (!Object.hasOwn(SPARSE_VALUE_FORMAT_CODES, valueFormat)) {
    throw new CodecError('invalid-argument', `unknown value format ${valueFormat}`);
  }
  const { length, indices, values } = vector;
  if (!Number.isInteger(length) || length < 0 || length > MAX_UINT32) {
    throw new CodecError('invalid-length', `P = ${length}`);
  }
  const count = indices.length;
  if (values.length !== count) {
    throw new CodecError('count-mismatch', `${count} indices, ${values.length} values`);
  }
  for (let i = 0; i < count; i++) {
    if (i > 0 && indices[i] <= indices[i - 1]) {
      throw new CodecError(
        'indices-not-increasing',
        `indices[${i - 1}] = ${indices[i - 1]}, indices[${i}] = ${indices[i]}`,
      );
    }
    if (indices[i] >= length) {
      throw new CodecError('index-out-of-range', `indices[${i}] = ${indices[i]}, P = ${length}`);
    }
    const value = values[i];
    if (!Number.isFinite(value)) {
      throw new CodecError('non-finite', `values[${i}] = ${value}`);
    }
    if (valueFormat === 'f16' && !Number.isFinite(f16round(value))) {
      throw new CodecError('f16-overflow', `values[${i}] = ${value}`);
    }
  }

  const out = new Uint8Array(encodedSparseUpdateSize(vector, valueFormat));
  const view = new DataView(out.buffer);
  out[0] = SPARSE_UPDATE_MAGIC;
  out[1] = SPARSE_UPDATE_VERSION;
  out[2] = SPARSE_VALUE_FORMAT_CODES[valueFormat];
  view.setUint32(3, length, true);
  view.setUint32(7, count, true);
  let offset = SPARSE_UPDATE_HEADER_BYTES;
  let previous = 0;
  for (let i = 0; i < count; i++) {
    offset = writeVarintUint32(out, offset, indices[i] - previous);
    previous = indices[i];
  }
  if (valueFormat === 'f16') {
    for (let i = 0; i < count; i++, offset += 2) setFloat16(view, offset, values[i], true);
  } else if (LITTLE_ENDIAN_HOST) {
    // The host's float32 layout is the wire's: one copy instead of a write per value.
    out.set(new Uint8Array(values.buffer, values.byteOffset, count * 4), offset);
  } else {
    for (let i = 0; i < count; i++, offset += 4) view.setFloat32(offset, values[i], true);
  }
  return out;
}

function checkLimit(name: string, value: number | undefined, optional: boolean): void {
  if (value === undefined && optional) return;
  if (value === undefined || !Number.isSafeInteger(value) || value < 0) {
    throw new CodecError('invalid-argument', `${name} = ${String(value)}`);
  }
}

function valueFormatFromCode(code: number): SparseValueFormat {
  if (code === SPARSE_VALUE_FORMAT_CODES.f32) return 'f32';
  if (code === SPARSE_VALUE_FORMAT_CODES.f16) return 'f16';
  throw new CodecError('bad-value-format', `byte ${code}`, 2);
}

/**
 * Decodes and fully validates a sparse update written by {@link encodeSparseUpdate}, from
 * untrusted bytes. Checks, in order: magic, version, value format, P <= maxLength,
 * P === expectedLength, count <= maxCount and count <= P, then that at least
 * count * (1 + bytesPerValue) bytes remain (the smallest possible body) BEFORE allocating,
 * then each varint (minimal, <= 5 bytes, fits uint32), each gap >= 1, each index < P, the
 * value section is exactly count * bytesPerValue bytes, and each value is finite.
 *
 * @returns a new vector that shares no memory with `bytes`; f16 values are widened exactly.
 * @throws CodecError with one code per failure kind (see `CODEC_ERROR_CODES`); never
 *   a RangeError, never a partial result.
 */
export function decodeSparseUpdate(bytes: Uint8Array, limits: SparseDecodeLimits): SparseVector {
  checkLimit('maxLength', limits.maxLength, false);
  checkLimit('maxCount', limits.maxCount, false);
  checkLimit('expectedLength', limits.expectedLength, true);

  const reader = new ByteReader(bytes);
  const magic = reader.u8('magic');
  if (magic !== SPARSE_UPDATE_MAGIC) {
    throw new CodecError('bad-magic', `byte 0x${magic.toString(16)}`, 0);
  }
  const version = reader.u8('version');
  if (version !== SPARSE_UPDATE_VERSION) {
    throw new CodecError('unsupported-version', `version ${version}`, 1);
  }
  const valueFormat = valueFormatFromCode(reader.u8('value format'));
  const length = reader.u32('dense length');
  if (length > limits.maxLength) {
    throw new CodecError('length-too-large', `P = ${length} > ${limits.maxLength}`, 3);
  }
  if (limits.expectedLength !== undefined && length !== limits.expectedLength) {
    throw new CodecError('length-mismatch', `P = ${length} != ${limits.expectedLength}`, 3);
  }
  const count = reader.u32('count');
  if (count > limits.maxCount) {
    throw new CodecError('count-too-large', `count = ${count} > limit ${limits.maxCount}`, 7);
  }
  if (count > length) {
    throw new CodecError('count-too-large', `count = ${count} > P = ${length}`, 7);
  }
  const bytesPerValue = sparseBytesPerValue(valueFormat);
  // A hostile header may claim billions of entries: prove the bytes exist before allocating.
  reader.require(count * (1 + bytesPerValue), `${count} entries`);

  const indices = new Uint32Array(count);
  let previous = 0;
  for (let i = 0; i < count; i++) {
    const at = reader.offset;
    const step = readVarintUint32(reader);
    if (i > 0 && step === 0) {
      throw new CodecError('indices-not-increasing', `gap 0 after index ${previous}`, at);
    }
    const index = previous + step;
    if (index >= length) {
      throw new CodecError('index-out-of-range', `index ${index} >= P = ${length}`, at);
    }
    indices[i] = index;
    previous = index;
  }

  const valueBytes = count * bytesPerValue;
  reader.require(valueBytes, `${count} values`);
  if (reader.remaining > valueBytes) {
    throw new CodecError(
      'trailing-bytes',
      `${reader.remaining - valueBytes} bytes after the values`,
      reader.offset + valueBytes,
    );
  }
  const values = new Float32Array(count);
  if (valueFormat === 'f32' && LITTLE_ENDIAN_HOST) {
    // The wire's float32 layout is the host's: one copy, then the finiteness check.
    const start = reader.offset;
    new Uint8Array(values.buffer).set(reader.slice(valueBytes, 'values'));
    for (let i = 0; i < count; i++) {
      if (!Number.isFinite(values[i])) {
        throw new CodecError('non-finite', `value ${values[i]} at entry ${i}`, start + 4 * i);
      }
    }
    return { length, indices, values };
  }
  if (valueFormat === 'f16') {
    const table = float16Table();
    const start = reader.offset;
    const bytes = reader.slice(valueBytes, 'values');
    for (let i = 0; i < count; i++) {
      const value = table[(bytes[2 * i] ?? 0) | ((bytes[2 * i + 1] ?? 0) << 8)] ?? Number.NaN;
      if (!Number.isFinite(value)) {
        throw new CodecError('non-finite', `value ${value} at entry ${i}`, start + 2 * i);
      }
      values[i] = value;
    }
    return { length, indices, values };
  }
  for (let i = 0; i < count; i++) {
    const at = reader.offset;
    const value = reader.f32('value');
    if (!Number.isFinite(value)) {
      throw new CodecError('non-finite', `value ${value} at entry ${i}`, at);
    }
    values[i] = value;
  }
  return { length, indices, values };
}
