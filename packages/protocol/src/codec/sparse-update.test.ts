import { f16round, getFloat16 } from '@petamoriken/float16';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CodecError } from './codec-error.js';
import type { SparseDecodeLimits, SparseValueFormat, SparseVector } from './sparse-update.js';
import {
  SPARSE_UPDATE_HEADER_BYTES,
  decodeSparseUpdate,
  encodeSparseUpdate,
  encodedSparseUpdateSize,
  maxEncodedSparseUpdateSize,
} from './sparse-update.js';
import { MAX_UINT32 } from './varint.js';

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof CodecError) return error.code;
    throw error;
  }
  return 'no error';
}

const OPEN: SparseDecodeLimits = { maxLength: MAX_UINT32, maxCount: MAX_UINT32 };

function sparse(length: number, indices: number[], values: number[]): SparseVector {
  return { length, indices: Uint32Array.from(indices), values: Float32Array.from(values) };
}

function u32le(value: number): number[] {
  return [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24];
}

/** Hand-built payload: magic, version, format, P, count, then the body bytes verbatim. */
function payload(
  fields: { magic?: number; version?: number; format?: number; length: number; count: number },
  body: number[],
): Uint8Array {
  return Uint8Array.from([
    fields.magic ?? 0x53,
    fields.version ?? 1,
    fields.format ?? 0,
    ...u32le(fields.length),
    ...u32le(fields.count),
    ...body,
  ]);
}

function bitsOf(values: Float32Array): number[] {
  return Array.from(new Uint32Array(values.buffer, values.byteOffset, values.length));
}

describe('encodeSparseUpdate: hand-computed bytes', () => {
  const vector = sparse(300, [0, 1, 129], [1, -2, 0.5]);

  it('writes header, delta varints and f32 values', () => {
    expect(Array.from(encodeSparseUpdate(vector, { valueFormat: 'f32' }))).toEqual([
      0x53, 0x01, 0x00,
      // P = 300 = 0x012c
      0x2c, 0x01, 0x00, 0x00,
      // count = 3
      0x03, 0x00, 0x00, 0x00,
      // first index 0; gap 1 - 0 = 1; gap 129 - 1 = 128 = 0x80 0x01
      0x00, 0x01, 0x80, 0x01,
      // 1.0f = 0x3f800000, -2.0f = 0xc0000000, 0.5f = 0x3f000000, little-endian
      0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0, 0x00, 0x00, 0x00, 0x3f,
    ]);
  });

  it('writes f16 values in two bytes each', () => {
    expect(Array.from(encodeSparseUpdate(vector, { valueFormat: 'f16' }))).toEqual([
      0x53, 0x01, 0x01, 0x2c, 0x01, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01, 0x80, 0x01,
      // half 1.0 = 0x3c00, -2.0 = 0xc000, 0.5 = 0x3800, little-endian
      0x00, 0x3c, 0x00, 0xc0, 0x00, 0x38,
    ]);
  });

  it('encodes an empty update as the bare 11-byte header', () => {
    const bytes = encodeSparseUpdate(sparse(5, [], []), { valueFormat: 'f32' });
    expect(Array.from(bytes)).toEqual([0x53, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0]);
    expect(bytes.length).toBe(SPARSE_UPDATE_HEADER_BYTES);
  });

  it('returns a buffer-spanning array so .buffer can be sent as-is', () => {
    const bytes = encodeSparseUpdate(vector, { valueFormat: 'f32' });
    expect(bytes.byteOffset).toBe(0);
    expect(bytes.buffer.byteLength).toBe(bytes.length);
  });
});

describe('round trips on hand-made cases', () => {
  const cases: [string, SparseVector][] = [
    ['empty update', sparse(10, [], [])],
    ['empty update of P = 0', sparse(0, [], [])],
    ['single index 0', sparse(1, [0], [3.25])],
    ['index P - 1', sparse(1000, [999], [-7])],
    ['every index of a small vector', sparse(4, [0, 1, 2, 3], [1, 2, 3, 4])],
    [
      '5-byte varints at the uint32 limit',
      sparse(MAX_UINT32, [0, 2 ** 28, MAX_UINT32 - 1], [1, 2, 3]),
    ],
    ['signed zero and subnormal', sparse(3, [0, 2], [-0, 1e-40])],
  ];

  for (const [label, vector] of cases) {
    it(`${label} (f32, bit-exact)`, () => {
      const decoded = decodeSparseUpdate(encodeSparseUpdate(vector, { valueFormat: 'f32' }), OPEN);
      expect(decoded.length).toBe(vector.length);
      expect(Array.from(decoded.indices)).toEqual(Array.from(vector.indices));
      expect(bitsOf(decoded.values)).toEqual(bitsOf(vector.values));
    });
  }

  it('sizes the 5-byte varint case by hand', () => {
    // Gaps: 0 (1 byte), 2^28 (5 bytes), 2^32 - 2 - 2^28 >= 2^28 (5 bytes); 3 * 4 value bytes.
    const vector = cases[5][1];
    expect(encodeSparseUpdate(vector, { valueFormat: 'f32' }).length).toBe(11 + 1 + 5 + 5 + 12);
  });

  it('f16 values that are exact halves come back exactly', () => {
    // 65504 is the largest finite half; 2^-24 the smallest subnormal; 0.333251953125 = 1365 / 4096.
    const vector = sparse(8, [1, 2, 3, 7], [65504, -65504, 2 ** -24, 0.333251953125]);
    const decoded = decodeSparseUpdate(encodeSparseUpdate(vector, { valueFormat: 'f16' }), OPEN);
    expect(Array.from(decoded.values)).toEqual([65504, -65504, 2 ** -24, 0.333251953125]);
  });

  it('f16 rounds to nearest: 1/3 becomes 1365 / 4096 and 65519 becomes 65504', () => {
    // 1/3 in [0.25, 0.5): half spacing 2^-2 * 2^-10 = 2^-12; nearest multiple is 1365 / 4096.
    // 65519 < 65520 (the midpoint between 65504 and 65536), so it rounds down to 65504.
    const vector = sparse(2, [0, 1], [1 / 3, 65519]);
    const decoded = decodeSparseUpdate(encodeSparseUpdate(vector, { valueFormat: 'f16' }), OPEN);
    expect(Array.from(decoded.values)).toEqual([1365 / 4096, 65504]);
  });
});

/** Random P, a random sorted set of distinct indices below P, and one value per index. */
function sparseArbitrary(value: fc.Arbitrary<number>): fc.Arbitrary<SparseVector> {
  return fc
    .oneof(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: MAX_UINT32 }))
    .chain((length) =>
      fc.uniqueArray(fc.integer({ min: 0, max: length - 1 }), { maxLength: 200 }).chain((indices) =>
        fc.array(value, { minLength: indices.length, maxLength: indices.length }).map((values) => ({
          length,
          indices: Uint32Array.from(indices.sort((a, b) => a - b)),
          values: Float32Array.from(values),
        })),
      ),
    );
}

const finiteFloat32 = fc.float({ noNaN: true, noDefaultInfinity: true });
// 65504 is the largest finite half; anything up to it stays finite after rounding.
const halfRangeFloat32 = fc.float({ min: -65504, max: 65504, noNaN: true });

describe('round-trip properties', () => {
  it('f32 is bit-exact and the size formulas hold', () => {
    fc.assert(
      fc.property(sparseArbitrary(finiteFloat32), (vector) => {
        const bytes = encodeSparseUpdate(vector, { valueFormat: 'f32' });
        expect(bytes.length).toBe(encodedSparseUpdateSize(vector, 'f32'));
        expect(bytes.length).toBeLessThanOrEqual(
          maxEncodedSparseUpdateSize(vector.length, vector.indices.length, 'f32'),
        );
        const decoded = decodeSparseUpdate(bytes, {
          maxLength: vector.length,
          maxCount: vector.indices.length,
          expectedLength: vector.length,
        });
        expect(decoded.length).toBe(vector.length);
        expect(Array.from(decoded.indices)).toEqual(Array.from(vector.indices));
        expect(bitsOf(decoded.values)).toEqual(bitsOf(vector.values));
      }),
    );
  });

  it('f16 is within half precision: round-to-nearest, relative error <= 2^-11', () => {
    fc.assert(
      fc.property(sparseArbitrary(halfRangeFloat32), (vector) => {
        const bytes = encodeSparseUpdate(vector, { valueFormat: 'f16' });
        expect(bytes.length).toBe(encodedSparseUpdateSize(vector, 'f16'));
        const decoded = decodeSparseUpdate(bytes, OPEN);
        expect(Array.from(decoded.indices)).toEqual(Array.from(vector.indices));
        for (let i = 0; i < vector.values.length; i++) {
          const sent = vector.values[i];
          const got = decoded.values[i];
          expect(got).toBe(f16round(sent));
          // Normal halves carry 11 significant bits (error <= 2^-11 relative); below 2^-14
          // the spacing is fixed at 2^-24 (error <= 2^-25 absolute).
          expect(Math.abs(got - sent)).toBeLessThanOrEqual(
            Math.max(Math.abs(sent) * 2 ** -11, 2 ** -25),
          );
        }
      }),
    );
  });
});

describe('encodeSparseUpdate rejects invalid input', () => {
  const f32 = { valueFormat: 'f32' } as const;
  const f16 = { valueFormat: 'f16' } as const;

  it('unknown value format', () => {
    const options = { valueFormat: 'f8' as SparseValueFormat };
    expect(codeOf(() => encodeSparseUpdate(sparse(1, [], []), options))).toBe('invalid-argument');
  });

  it('dense length not a uint32', () => {
    for (const length of [-1, 1.5, 2 ** 32, Number.NaN]) {
      expect(codeOf(() => encodeSparseUpdate(sparse(length, [], []), f32))).toBe('invalid-length');
    }
  });

  it('indices and values of different lengths', () => {
    expect(codeOf(() => encodeSparseUpdate(sparse(5, [1, 2], [1]), f32))).toBe('count-mismatch');
  });

  it('unsorted or repeated indices', () => {
    expect(codeOf(() => encodeSparseUpdate(sparse(5, [2, 1], [1, 1]), f32))).toBe(
      'indices-not-increasing',
    );
    expect(codeOf(() => encodeSparseUpdate(sparse(5, [2, 2], [1, 1]), f32))).toBe(
      'indices-not-increasing',
    );
  });

  it('index at or past P', () => {
    expect(codeOf(() => encodeSparseUpdate(sparse(5, [5], [1]), f32))).toBe('index-out-of-range');
  });

  it('NaN and infinities, in both formats', () => {
    for (const bad of [Number.NaN, Infinity, -Infinity]) {
      expect(codeOf(() => encodeSparseUpdate(sparse(5, [1], [bad]), f32))).toBe('non-finite');
      expect(codeOf(() => encodeSparseUpdate(sparse(5, [1], [bad]), f16))).toBe('non-finite');
    }
  });

  it('f16 overflow is rejected, not clamped, from 65520 up', () => {
    // 65504 + 16 = 65520 is the midpoint to 2^16; ties go to even, i.e. to infinity.
    expect(codeOf(() => encodeSparseUpdate(sparse(5, [1], [65520]), f16))).toBe('f16-overflow');
    expect(codeOf(() => encodeSparseUpdate(sparse(5, [1], [-1e6]), f16))).toBe('f16-overflow');
    // The same values are fine as f32.
    expect(codeOf(() => encodeSparseUpdate(sparse(5, [1], [65520]), f32))).toBe('no error');
  });
});

describe('decodeSparseUpdate rejects hostile bytes', () => {
  const limits: SparseDecodeLimits = { maxLength: 1000, maxCount: 100 };
  const valid = encodeSparseUpdate(sparse(300, [0, 1, 129], [1, -2, 0.5]), { valueFormat: 'f32' });

  it('accepts a hand-built valid payload (the baseline the hostile ones deviate from)', () => {
    // Index 299 = 0x12b: low group 0x2b | 0x80 = 0xab, then 0x12b >> 7 = 2. Value 1.0f.
    const bytes = payload({ length: 300, count: 1 }, [0xab, 0x02, 0, 0, 0x80, 0x3f]);
    expect(decodeSparseUpdate(bytes, limits)).toEqual(sparse(300, [299], [1]));
  });

  it('truncated: every strict prefix of a valid payload', () => {
    for (let end = 0; end < valid.length; end++) {
      expect(codeOf(() => decodeSparseUpdate(valid.subarray(0, end), limits))).toBe('truncated');
    }
  });

  it('truncated: a header claiming 2^32 - 1 entries, checked before allocating', () => {
    const bytes = payload({ length: MAX_UINT32, count: MAX_UINT32 }, [0, 0, 0, 0, 0]);
    expect(codeOf(() => decodeSparseUpdate(bytes, OPEN))).toBe('truncated');
  });

  it('truncated: inside a varint that passed the minimum-size check', () => {
    // f16, count 1: minimum body 1 + 2 = 3 bytes, all three are continuation bytes.
    const bytes = payload({ format: 1, length: 300, count: 1 }, [0x80, 0x80, 0x80]);
    expect(codeOf(() => decodeSparseUpdate(bytes, limits))).toBe('truncated');
  });

  it('truncated: values cut short after a 2-byte varint', () => {
    // f32, count 1: 5 body bytes pass the minimum, varint takes 2, 3 < 4 remain.
    const bytes = payload({ length: 300, count: 1 }, [0x80, 0x01, 0, 0, 0]);
    expect(codeOf(() => decodeSparseUpdate(bytes, limits))).toBe('truncated');
  });

  it('trailing-bytes: one extra byte after the values', () => {
    const bytes = Uint8Array.from([...valid, 0]);
    expect(codeOf(() => decodeSparseUpdate(bytes, limits))).toBe('trailing-bytes');
  });

  it('bad-magic', () => {
    expect(
      codeOf(() => decodeSparseUpdate(payload({ magic: 0x57, length: 1, count: 0 }, []), limits)),
    ).toBe('bad-magic');
    expect(codeOf(() => decodeSparseUpdate(Uint8Array.from([0]), limits))).toBe('bad-magic');
  });

  it('unsupported-version', () => {
    for (const version of [0, 2, 255]) {
      const bytes = payload({ version, length: 1, count: 0 }, []);
      expect(codeOf(() => decodeSparseUpdate(bytes, limits))).toBe('unsupported-version');
    }
  });

  it('bad-value-format', () => {
    for (const format of [2, 255]) {
      const bytes = payload({ format, length: 1, count: 0 }, []);
      expect(codeOf(() => decodeSparseUpdate(bytes, limits))).toBe('bad-value-format');
    }
  });

  it('length-too-large: P above maxLength', () => {
    const bytes = payload({ length: 1001, count: 0 }, []);
    expect(codeOf(() => decodeSparseUpdate(bytes, limits))).toBe('length-too-large');
  });

  it('length-mismatch: P differs from expectedLength', () => {
    const bytes = payload({ length: 11, count: 0 }, []);
    expect(codeOf(() => decodeSparseUpdate(bytes, { ...limits, expectedLength: 10 }))).toBe(
      'length-mismatch',
    );
    expect(codeOf(() => decodeSparseUpdate(bytes, { ...limits, expectedLength: 11 }))).toBe(
      'no error',
    );
  });

  it('count-too-large: above maxCount, and above P', () => {
    const overLimit = payload({ length: 1000, count: 101 }, []);
    expect(codeOf(() => decodeSparseUpdate(overLimit, limits))).toBe('count-too-large');
    const overLength = payload({ length: 3, count: 4 }, [
      0,
      1,
      1,
      1,
      ...new Array<number>(16).fill(0),
    ]);
    expect(codeOf(() => decodeSparseUpdate(overLength, limits))).toBe('count-too-large');
  });

  it('varint-overflow: first index of 2^32', () => {
    const bytes = payload({ length: 300, count: 1 }, [0x80, 0x80, 0x80, 0x80, 0x10, 0, 0, 0, 0]);
    expect(codeOf(() => decodeSparseUpdate(bytes, limits))).toBe('varint-overflow');
  });

  it('varint-overflow: a 6-byte varint', () => {
    const bytes = payload({ length: 300, count: 1 }, [0x80, 0x80, 0x80, 0x80, 0x80, 0, 0, 0, 0, 0]);
    expect(codeOf(() => decodeSparseUpdate(bytes, limits))).toBe('varint-overflow');
  });

  it('varint-non-canonical: index 1 padded to two bytes', () => {
    const bytes = payload({ length: 300, count: 1 }, [0x81, 0x00, 0, 0, 0, 0]);
    expect(codeOf(() => decodeSparseUpdate(bytes, limits))).toBe('varint-non-canonical');
  });

  it('indices-not-increasing: a gap of 0 repeats an index', () => {
    const bytes = payload({ length: 300, count: 2 }, [5, 0, ...new Array<number>(8).fill(0)]);
    expect(codeOf(() => decodeSparseUpdate(bytes, limits))).toBe('indices-not-increasing');
  });

  it('index-out-of-range: first index equal to P', () => {
    // P = 300 = 0xac 0x02 as a varint.
    const bytes = payload({ length: 300, count: 1 }, [0xac, 0x02, 0, 0, 0, 0]);
    expect(codeOf(() => decodeSparseUpdate(bytes, limits))).toBe('index-out-of-range');
  });

  it('index-out-of-range: gaps summing past P', () => {
    // 200 + 100 = 300 = P; 200 = 0xc8 0x01, 100 = 0x64.
    const bytes = payload({ length: 300, count: 2 }, [
      0xc8,
      0x01,
      0x64,
      ...new Array<number>(8).fill(0),
    ]);
    expect(codeOf(() => decodeSparseUpdate(bytes, limits))).toBe('index-out-of-range');
  });

  it('non-finite: f32 NaN, +Inf, -Inf', () => {
    // binary32 NaN 0x7fc00000, +Inf 0x7f800000, -Inf 0xff800000.
    for (const pattern of [
      [0, 0, 0xc0, 0x7f],
      [0, 0, 0x80, 0x7f],
      [0, 0, 0x80, 0xff],
    ]) {
      const bytes = payload({ length: 300, count: 1 }, [7, ...pattern]);
      expect(codeOf(() => decodeSparseUpdate(bytes, limits))).toBe('non-finite');
    }
  });

  it('decodes every finite f16 bit pattern as IEEE binary16 says, and refuses the others', () => {
    const P = 65536;
    const reference = new DataView(new ArrayBuffer(2));
    const finite: number[] = [];
    for (let bits = 0; bits < 65536; bits++) {
      reference.setUint16(0, bits, true);
      if (Number.isFinite(getFloat16(reference, 0, true))) finite.push(bits);
      else {
        const bytes = payload({ format: 1, length: 300, count: 1 }, [7, bits & 0xff, bits >> 8]);
        expect(codeOf(() => decodeSparseUpdate(bytes, limits))).toBe('non-finite');
      }
    }
    expect(finite.length).toBe(65536 - 2 * 1024); // exponent 31: infinities and NaNs
    // One payload with every finite pattern as a value, at indices 0, 1, 2, ...
    const header = SPARSE_UPDATE_HEADER_BYTES;
    const bytes = new Uint8Array(header + finite.length * 3);
    const view = new DataView(bytes.buffer);
    bytes.set([0x53, 1, 1]);
    view.setUint32(3, P, true);
    view.setUint32(7, finite.length, true);
    bytes.fill(1, header + 1, header + finite.length); // gaps of 1 after index 0
    finite.forEach((bits, i) => {
      view.setUint16(header + finite.length + 2 * i, bits, true);
    });
    const decoded = decodeSparseUpdate(bytes, { maxLength: P, maxCount: P });
    finite.forEach((bits, i) => {
      reference.setUint16(0, bits, true);
      expect(Object.is(decoded.values[i], getFloat16(reference, 0, true))).toBe(true);
    });
  });

  it('non-finite: f16 NaN, +Inf, -Inf', () => {
    // binary16 NaN 0x7e00, +Inf 0x7c00, -Inf 0xfc00.
    for (const pattern of [
      [0x00, 0x7e],
      [0x00, 0x7c],
      [0x00, 0xfc],
    ]) {
      const bytes = payload({ format: 1, length: 300, count: 1 }, [7, ...pattern]);
      expect(codeOf(() => decodeSparseUpdate(bytes, limits))).toBe('non-finite');
    }
  });

  it('invalid-argument: malformed limits', () => {
    for (const bad of [
      { maxLength: -1, maxCount: 1 },
      { maxLength: 1, maxCount: Number.NaN },
      { maxLength: 1, maxCount: 1, expectedLength: 0.5 },
    ]) {
      expect(codeOf(() => decodeSparseUpdate(valid, bad))).toBe('invalid-argument');
    }
  });

  it('reports where the fault is', () => {
    const bytes = payload({ length: 300, count: 2 }, [5, 0, ...new Array<number>(8).fill(0)]);
    try {
      decodeSparseUpdate(bytes, limits);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(CodecError);
      // Header is 11 bytes, the first varint 1 byte: the bad gap sits at byte 12.
      expect((error as CodecError).offset).toBe(12);
    }
  });
});
