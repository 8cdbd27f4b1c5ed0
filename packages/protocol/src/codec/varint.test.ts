import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteReader } from './byte-reader.js';
import { CodecError } from './codec-error.js';
import { MAX_UINT32, readVarintUint32, varintByteLength, writeVarintUint32 } from './varint.js';

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof CodecError) return error.code;
    throw error;
  }
  return 'no error';
}

function encode(value: number): number[] {
  const target = new Uint8Array(5);
  const end = writeVarintUint32(target, 0, value);
  return Array.from(target.subarray(0, end));
}

function decodeAll(bytes: number[]): number {
  const reader = new ByteReader(new Uint8Array(bytes));
  const value = readVarintUint32(reader);
  expect(reader.remaining).toBe(0);
  return value;
}

describe('varintByteLength', () => {
  it('switches length at each power of 2^7', () => {
    // 7 payload bits per byte: 2^7 - 1 = 127 fits 1 byte, 2^14 - 1 = 16383 fits 2, ...
    expect([0, 127, 128, 16383, 16384].map(varintByteLength)).toEqual([1, 1, 2, 2, 3]);
    expect([2 ** 21 - 1, 2 ** 21, 2 ** 28 - 1, 2 ** 28, MAX_UINT32].map(varintByteLength)).toEqual([
      3, 4, 4, 5, 5,
    ]);
  });
});

describe('writeVarintUint32 / readVarintUint32', () => {
  it('writes the hand-computed LEB128 bytes', () => {
    expect(encode(0)).toEqual([0x00]);
    expect(encode(127)).toEqual([0x7f]);
    // 128 = 0b1_0000000: low group 0 with continuation (0x80), then 1.
    expect(encode(128)).toEqual([0x80, 0x01]);
    // 300 = 0b10_0101100: low group 0x2c | 0x80 = 0xac, then 0b10 = 2.
    expect(encode(300)).toEqual([0xac, 0x02]);
    // 2^28: four zero groups with continuation, then 2^28 / 2^28 = 1.
    expect(encode(2 ** 28)).toEqual([0x80, 0x80, 0x80, 0x80, 0x01]);
    // 2^32 - 1: four full groups (0xff), then the top 4 bits 0b1111 = 0x0f.
    expect(encode(MAX_UINT32)).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f]);
    // 2^31 = 0b1000...0 (31 zeros): groups 0,0,0,0 then 2^31 / 2^28 = 8.
    expect(encode(2 ** 31)).toEqual([0x80, 0x80, 0x80, 0x80, 0x08]);
  });

  it('reads back the same values, including bit 31 without going negative', () => {
    expect(decodeAll([0xac, 0x02])).toBe(300);
    expect(decodeAll([0xff, 0xff, 0xff, 0xff, 0x0f])).toBe(MAX_UINT32);
    expect(decodeAll([0x80, 0x80, 0x80, 0x80, 0x08])).toBe(2 ** 31);
  });

  it('round-trips every uint32 with its predicted length', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_UINT32 }), (value) => {
        const bytes = encode(value);
        expect(bytes.length).toBe(varintByteLength(value));
        expect(decodeAll(bytes)).toBe(value);
      }),
    );
  });

  it('rejects a value of 2^32 or more as varint-overflow', () => {
    // Fifth byte 0x10 sets bit 32: value 2^32.
    expect(codeOf(() => decodeAll([0x80, 0x80, 0x80, 0x80, 0x10]))).toBe('varint-overflow');
  });

  it('rejects a sixth byte (continuation on the fifth) as varint-overflow', () => {
    expect(codeOf(() => decodeAll([0x80, 0x80, 0x80, 0x80, 0x80, 0x00]))).toBe('varint-overflow');
  });

  it('rejects padded encodings as varint-non-canonical', () => {
    // 0x81 0x00 is 1 written in two bytes; 0x80 0x00 is 0 in two bytes.
    expect(codeOf(() => decodeAll([0x81, 0x00]))).toBe('varint-non-canonical');
    expect(codeOf(() => decodeAll([0x80, 0x00]))).toBe('varint-non-canonical');
    expect(codeOf(() => decodeAll([0xff, 0xff, 0xff, 0xff, 0x00]))).toBe('varint-non-canonical');
  });

  it('rejects a buffer that ends mid-varint as truncated', () => {
    expect(codeOf(() => decodeAll([]))).toBe('truncated');
    expect(codeOf(() => decodeAll([0x80, 0x80]))).toBe('truncated');
  });
});
