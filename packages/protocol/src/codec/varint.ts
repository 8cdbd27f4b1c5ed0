import type { ByteReader } from './byte-reader.js';
import { CodecError } from './codec-error.js';

/** Largest value a uint32 varint may carry: 2^32 - 1. */
export const MAX_UINT32 = 0xffff_ffff;

/** A uint32 needs at most ceil(32 / 7) = 5 base-128 digits. */
export const MAX_VARINT_UINT32_BYTES = 5;

/**
 * Length of the unsigned LEB128 encoding of `value` (an integer in [0, 2^32 - 1]):
 * 1 byte below 2^7, 2 below 2^14, 3 below 2^21, 4 below 2^28, else 5.
 */
export function varintByteLength(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x20_0000) return 3;
  if (value < 0x1000_0000) return 4;
  return 5;
}

/**
 * Writes `value` (an integer in [0, 2^32 - 1], not checked here: callers validate) as
 * unsigned LEB128 at `offset`: seven bits per byte, least significant group first, the high
 * bit set on every byte but the last. Returns the offset just past the varint.
 */
export function writeVarintUint32(target: Uint8Array, offset: number, value: number): number {
  let rest = value;
  let at = offset;
  while (rest >= 0x80) {
    target[at++] = (rest & 0x7f) | 0x80;
    rest >>>= 7;
  }
  target[at++] = rest;
  return at;
}

/**
 * Reads one unsigned LEB128 varint that must fit a uint32 and be minimally encoded.
 *
 * Rejects, with distinct codes: a fifth byte with the continuation bit or any of bits 32+
 * set (`varint-overflow`: more than 5 bytes, or a value >= 2^32), a last byte of 0 after
 * other bytes (`varint-non-canonical`: padding like `0x81 0x00` for 1, refused so every
 * update has exactly one encoding), and a buffer that ends mid-varint (`truncated`).
 */
export function readVarintUint32(reader: ByteReader): number {
  const start = reader.offset;
  // Most gaps of a 1%-dense update fit one byte: take those without the digit loop.
  if (start < reader.bytes.length && (reader.bytes[start] ?? 0x80) < 0x80) {
    reader.offset = start + 1;
    return reader.bytes[start] ?? 0;
  }
  let result = 0;
  let scale = 1;
  for (let digit = 0; digit < MAX_VARINT_UINT32_BYTES; digit++) {
    const byte = reader.u8('varint');
    // The fifth digit carries bits 28..31 only: anything above 0x0f is an overlong varint
    // (continuation bit) or a value that does not fit in 32 bits.
    if (digit === MAX_VARINT_UINT32_BYTES - 1 && byte > 0x0f) {
      throw new CodecError('varint-overflow', `fifth byte 0x${byte.toString(16)}`, start);
    }
    // Multiplication, not shifts: bit 31 would make a shifted int32 negative.
    result += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) {
      if (byte === 0 && digit > 0) {
        throw new CodecError(
          'varint-non-canonical',
          `${digit + 1}-byte encoding of ${result}`,
          start,
        );
      }
      return result;
    }
    scale *= 0x80;
  }
  // Unreachable: the fifth digit either returned or threw above.
  throw new CodecError('varint-overflow', 'more than 5 bytes', start);
}
