import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CodecError } from './codec-error.js';
import type { DenseDecodeLimits, DenseTensor, DenseWeights } from './dense-weights.js';
import {
  decodeDenseWeights,
  encodeDenseWeights,
  encodedDenseWeightsSize,
} from './dense-weights.js';
import { encodeSparseUpdate } from './sparse-update.js';

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof CodecError) return error.code;
    throw error;
  }
  return 'no error';
}

const OPEN: DenseDecodeLimits = { maxTensors: 1000, maxElements: 1_000_000 };

function tensor(name: string, shape: number[], data: number[]): DenseTensor {
  return { name, shape, data: Float32Array.from(data) };
}

function u32le(value: number): number[] {
  return [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24];
}

function bitsOf(values: Float32Array): number[] {
  // Copy first: a zero-copy view may sit at any 4-aligned offset of a shared buffer.
  return Array.from(new Uint32Array(Float32Array.from(values).buffer));
}

function expectSameWeights(actual: DenseWeights, expected: DenseWeights): void {
  expect(actual.tensors.map((t) => [t.name, t.shape])).toEqual(
    expected.tensors.map((t) => [t.name, t.shape]),
  );
  for (let t = 0; t < expected.tensors.length; t++) {
    expect(bitsOf(actual.tensors[t].data)).toEqual(bitsOf(expected.tensors[t].data));
  }
}

/** Places `bytes` at `offset` inside a larger buffer and returns the view of them there. */
function atOffset(bytes: Uint8Array, offset: number): Uint8Array {
  const host = new Uint8Array(offset + bytes.length);
  host.set(bytes, offset);
  return host.subarray(offset);
}

describe('encodeDenseWeights: hand-computed bytes', () => {
  it('one vector: header, name, rank, dims, padding to 4, data', () => {
    const bytes = encodeDenseWeights({ tensors: [tensor('w', [2], [1, -1])] });
    // prettier-ignore
    expect(Array.from(bytes)).toEqual([
      0x57, 0x01, ...u32le(1),
      // name length 1, 'w' = 0x77
      0x01, 0x00, 0x77,
      // rank 1, dim 2
      0x01, ...u32le(2),
      // 6 + 3 + 1 + 4 = 14 bytes so far: 2 zero bytes reach 16
      0x00, 0x00,
      // 1.0f = 0x3f800000, -1.0f = 0xbf800000
      0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x80, 0xbf,
    ]);
    expect(bytes.byteOffset).toBe(0);
    expect(bytes.buffer.byteLength).toBe(bytes.length);
  });

  it('a scalar (rank 0) then a 2-byte UTF-8 name', () => {
    const weights = { tensors: [tensor('b', [], [2.5]), tensor('é', [1, 1], [0])] };
    const bytes = encodeDenseWeights(weights);
    // prettier-ignore
    expect(Array.from(bytes)).toEqual([
      0x57, 0x01, ...u32le(2),
      // name length 1, 'b' = 0x62, rank 0
      0x01, 0x00, 0x62, 0x00,
      // 6 + 3 + 1 = 10: pad 2 to 12; 2.5f = 0x40200000
      0x00, 0x00, 0x00, 0x00, 0x20, 0x40,
      // 'é' = U+00E9 = 0xc3 0xa9 in UTF-8; rank 2, dims 1 and 1
      0x02, 0x00, 0xc3, 0xa9, 0x02, ...u32le(1), ...u32le(1),
      // 16 + 4 + 1 + 8 = 29: pad 3 to 32; 0.0f
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ]);
    expect(encodedDenseWeightsSize(weights)).toBe(36);
  });

  it('an empty set is the bare 6-byte header', () => {
    expect(Array.from(encodeDenseWeights({ tensors: [] }))).toEqual([0x57, 0x01, 0, 0, 0, 0]);
  });
});

describe('round trips', () => {
  const cases: [string, DenseWeights][] = [
    ['empty set', { tensors: [] }],
    ['scalar', { tensors: [tensor('s', [], [-3.5])] }],
    ['zero-element tensor', { tensors: [tensor('z', [0, 3], []), tensor('v', [3], [1, 2, 3])] }],
    [
      'matrix then bias',
      { tensors: [tensor('k', [2, 3], [1, 2, 3, 4, 5, 6]), tensor('b', [3], [0, -0, 1e-40])] },
    ],
    ['name with a leading BOM kept', { tensors: [tensor('\uFEFFw', [1], [1])] }],
    ['name of 65535 bytes', { tensors: [tensor('n'.repeat(65535), [1], [1])] }],
    ['astral-plane name', { tensors: [tensor('layer/😀/kernel', [2], [1, 2])] }],
  ];
  for (const [label, weights] of cases) {
    it(label, () => {
      const bytes = encodeDenseWeights(weights);
      expect(bytes.length).toBe(encodedDenseWeightsSize(weights));
      expectSameWeights(decodeDenseWeights(bytes, OPEN), weights);
    });
  }

  const weightsArbitrary: fc.Arbitrary<DenseWeights> = fc
    .uniqueArray(
      fc.record({
        name: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }),
        shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
      }),
      { selector: (t) => t.name, maxLength: 6 },
    )
    .chain((specs) =>
      fc.tuple(
        ...specs.map((spec) =>
          fc
            .array(fc.float({ noNaN: true, noDefaultInfinity: true }), {
              minLength: spec.shape.reduce((a, b) => a * b, 1),
              maxLength: spec.shape.reduce((a, b) => a * b, 1),
            })
            .map((data) => ({ ...spec, data: Float32Array.from(data) })),
        ),
      ),
    )
    .map((tensors) => ({ tensors }));

  it('random weights round-trip bit-exactly at every input alignment', () => {
    fc.assert(
      fc.property(weightsArbitrary, fc.integer({ min: 0, max: 7 }), (weights, offset) => {
        const bytes = encodeDenseWeights(weights);
        expect(bytes.length).toBe(encodedDenseWeightsSize(weights));
        expectSameWeights(decodeDenseWeights(atOffset(bytes, offset), OPEN), weights);
      }),
    );
  });
});

describe('zero-copy decoding', () => {
  const weights = { tensors: [tensor('a', [3], [1, 2, 3]), tensor('bb', [2], [4, 5])] };
  const bytes = encodeDenseWeights(weights);

  it('views the input buffer when the input is 4-aligned', () => {
    for (const offset of [0, 4, 8]) {
      const input = atOffset(bytes, offset);
      const decoded = decodeDenseWeights(input, OPEN);
      for (const t of decoded.tensors) expect(t.data.buffer).toBe(input.buffer);
      expectSameWeights(decoded, weights);
    }
  });

  it('copies when the input is not 4-aligned', () => {
    for (const offset of [1, 2, 3]) {
      const input = atOffset(bytes, offset);
      const decoded = decodeDenseWeights(input, OPEN);
      for (const t of decoded.tensors) expect(t.data.buffer).not.toBe(input.buffer);
      expectSameWeights(decoded, weights);
    }
  });
});

describe('encodeDenseWeights rejects invalid input', () => {
  const reject = (tensors: DenseTensor[]): string => codeOf(() => encodeDenseWeights({ tensors }));

  it('empty-name', () => {
    expect(reject([tensor('', [1], [1])])).toBe('empty-name');
  });
  it('duplicate-name', () => {
    expect(reject([tensor('w', [1], [1]), tensor('w', [1], [2])])).toBe('duplicate-name');
  });
  it('bad-utf8: a lone surrogate', () => {
    expect(reject([tensor('w\uD800', [1], [1])])).toBe('bad-utf8');
  });
  it('name-too-long: 65536 bytes', () => {
    expect(reject([tensor('n'.repeat(65536), [1], [1])])).toBe('name-too-long');
    // 'é' is 2 UTF-8 bytes: 32768 of them make 65536 bytes from 32768 UTF-16 units.
    expect(reject([tensor('é'.repeat(32768), [1], [1])])).toBe('name-too-long');
  });
  it('invalid-shape: rank 256, negative, fractional and oversized dims', () => {
    expect(reject([tensor('r', new Array<number>(256).fill(1), [1])])).toBe('invalid-shape');
    for (const dim of [-1, 1.5, 2 ** 32, Number.NaN]) {
      expect(reject([tensor('d', [dim], [])])).toBe('invalid-shape');
    }
  });
  it('shape-mismatch', () => {
    expect(reject([tensor('m', [2, 3], [1, 2, 3, 4, 5])])).toBe('shape-mismatch');
    expect(reject([tensor('m', [], [])])).toBe('shape-mismatch');
  });
  it('non-finite', () => {
    for (const bad of [Number.NaN, Infinity, -Infinity]) {
      expect(reject([tensor('x', [2], [0, bad])])).toBe('non-finite');
    }
  });
});

describe('decodeDenseWeights rejects hostile bytes', () => {
  const limits: DenseDecodeLimits = { maxTensors: 4, maxElements: 100 };
  const valid = encodeDenseWeights({ tensors: [tensor('w', [2], [1, -1]), tensor('b', [], [3])] });

  /** magic, version, tensor count 1, then one tensor entry built from its parts. */
  function oneTensor(parts: {
    name?: number[];
    dims: number[];
    padding?: number[];
    data: number[];
  }): Uint8Array {
    const name = parts.name ?? [0x77];
    const dims = parts.dims.flatMap(u32le);
    // Header 6 + name length 2 + name + rank 1 + dims, padded to a multiple of 4.
    const unpadded = 6 + 2 + name.length + 1 + dims.length;
    const padding = parts.padding ?? new Array<number>((4 - (unpadded % 4)) % 4).fill(0);
    // prettier-ignore
    return Uint8Array.from([
      0x57, 0x01, ...u32le(1),
      name.length & 0xff, name.length >>> 8, ...name,
      parts.dims.length, ...dims,
      ...padding,
      ...parts.data,
    ]);
  }

  it('accepts the hand-built baseline', () => {
    const bytes = oneTensor({ dims: [1], data: [0, 0, 0x80, 0x3f] });
    expect(decodeDenseWeights(bytes, limits)).toEqual({ tensors: [tensor('w', [1], [1])] });
  });

  it('truncated: every strict prefix of a valid payload', () => {
    for (let end = 0; end < valid.length; end++) {
      expect(codeOf(() => decodeDenseWeights(valid.subarray(0, end), limits))).toBe('truncated');
    }
  });

  it('truncated: a shape claiming 100 elements with 4 data bytes (checked before allocating)', () => {
    const bytes = oneTensor({ dims: [10, 10], data: [0, 0, 0, 0] });
    expect(codeOf(() => decodeDenseWeights(bytes, limits))).toBe('truncated');
  });

  it('trailing-bytes', () => {
    expect(codeOf(() => decodeDenseWeights(Uint8Array.from([...valid, 0]), limits))).toBe(
      'trailing-bytes',
    );
  });

  it('bad-magic: a sparse update is not dense weights', () => {
    const sparse = encodeSparseUpdate(
      { length: 1, indices: new Uint32Array(0), values: new Float32Array(0) },
      { valueFormat: 'f32' },
    );
    expect(codeOf(() => decodeDenseWeights(sparse, limits))).toBe('bad-magic');
  });

  it('unsupported-version', () => {
    expect(codeOf(() => decodeDenseWeights(Uint8Array.from([0x57, 2, 0, 0, 0, 0]), limits))).toBe(
      'unsupported-version',
    );
  });

  it('too-many-tensors: 5 > 4, before reading any', () => {
    expect(codeOf(() => decodeDenseWeights(Uint8Array.from([0x57, 1, ...u32le(5)]), limits))).toBe(
      'too-many-tensors',
    );
  });

  it('empty-name', () => {
    expect(
      codeOf(() => decodeDenseWeights(oneTensor({ name: [], dims: [0], data: [] }), limits)),
    ).toBe('empty-name');
  });

  it('bad-utf8: overlong, stray continuation, encoded surrogate, invalid byte', () => {
    // 0xc0 0x80: overlong NUL; 0x80: continuation with no lead; 0xed 0xa0 0x80: U+D800; 0xff.
    for (const name of [[0xc0, 0x80], [0x80], [0xed, 0xa0, 0x80], [0xff]]) {
      expect(
        codeOf(() => decodeDenseWeights(oneTensor({ name, dims: [0], data: [] }), limits)),
      ).toBe('bad-utf8');
    }
  });

  it('duplicate-name', () => {
    // Two scalars named 'w': 6 + (2 + 1 + 1) = 10, pad 2 to 12, data to 16;
    // 16 + (2 + 1 + 1) = 20, no pad, data to 24.
    // prettier-ignore
    const bytes = Uint8Array.from([
      0x57, 0x01, ...u32le(2),
      0x01, 0x00, 0x77, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x01, 0x00, 0x77, 0x00, 0x00, 0x00, 0x00, 0x00,
    ]);
    expect(bytes.length).toBe(24);
    expect(codeOf(() => decodeDenseWeights(bytes, limits))).toBe('duplicate-name');
  });

  it('too-many-elements: one tensor over the limit, and two that are over together', () => {
    expect(codeOf(() => decodeDenseWeights(oneTensor({ dims: [101], data: [] }), limits))).toBe(
      'too-many-elements',
    );
    const two = encodeDenseWeights({
      tensors: [
        tensor('a', [60], new Array<number>(60).fill(0)),
        tensor('b', [41], new Array<number>(41).fill(0)),
      ],
    });
    expect(codeOf(() => decodeDenseWeights(two, limits))).toBe('too-many-elements');
    expect(codeOf(() => decodeDenseWeights(two, { ...limits, maxElements: 101 }))).toBe('no error');
  });

  it('too-many-elements: 255 dimensions of 2^32 - 1 (product far beyond 2^53)', () => {
    const bytes = oneTensor({ dims: new Array<number>(255).fill(0xffffffff), data: [] });
    expect(codeOf(() => decodeDenseWeights(bytes, OPEN))).toBe('too-many-elements');
  });

  it('a zero dimension makes huge neighbours harmless: 0 elements', () => {
    const bytes = oneTensor({ dims: [0xffffffff, 0xffffffff, 0], data: [] });
    expect(decodeDenseWeights(bytes, limits)).toEqual({
      tensors: [tensor('w', [0xffffffff, 0xffffffff, 0], [])],
    });
  });

  it('bad-padding: a non-zero alignment byte', () => {
    // 6 + 3 + 1 + 4 = 14: two padding bytes, the second set to 1.
    const bytes = oneTensor({ dims: [1], padding: [0, 1], data: [0, 0, 0x80, 0x3f] });
    expect(codeOf(() => decodeDenseWeights(bytes, limits))).toBe('bad-padding');
  });

  it('non-finite: NaN, +Inf, -Inf, on both the zero-copy and the copying path', () => {
    for (const pattern of [
      [0, 0, 0xc0, 0x7f],
      [0, 0, 0x80, 0x7f],
      [0, 0, 0x80, 0xff],
    ]) {
      const bytes = oneTensor({ dims: [2], data: [0, 0, 0, 0, ...pattern] });
      for (const offset of [0, 1]) {
        expect(codeOf(() => decodeDenseWeights(atOffset(bytes, offset), limits))).toBe(
          'non-finite',
        );
      }
    }
  });

  it('invalid-argument: malformed limits', () => {
    expect(codeOf(() => decodeDenseWeights(valid, { maxTensors: -1, maxElements: 1 }))).toBe(
      'invalid-argument',
    );
    expect(codeOf(() => decodeDenseWeights(valid, { maxTensors: 1, maxElements: 0.5 }))).toBe(
      'invalid-argument',
    );
  });
});

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'truncate'; keep: number }
  | { kind: 'extend'; tail: Uint8Array };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip'), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate'), keep: fc.nat() }),
  fc.record({ kind: fc.constant('extend'), tail: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
);

function mutate(bytes: Uint8Array, mutations: Mutation[]): Uint8Array {
  let out = bytes.slice();
  for (const m of mutations) {
    if (m.kind === 'truncate') out = out.slice(0, m.keep % (out.length + 1));
    else if (m.kind === 'extend') out = Uint8Array.from([...out, ...m.tail]);
    else if (out.length > 0) out[m.at % out.length] ^= 1 << m.bit;
  }
  return out;
}

describe('decodeDenseWeights fuzz', () => {
  const limits: DenseDecodeLimits = { maxTensors: 8, maxElements: 64 };

  /** Only CodecError escapes; a success is valid, within limits, and re-encodes byte for byte. */
  function decodeAndCheck(bytes: Uint8Array): void {
    let decoded;
    try {
      decoded = decodeDenseWeights(bytes, limits);
    } catch (error) {
      expect(error).toBeInstanceOf(CodecError);
      return;
    }
    expect(decoded.tensors.length).toBeLessThanOrEqual(limits.maxTensors);
    expect(new Set(decoded.tensors.map((t) => t.name)).size).toBe(decoded.tensors.length);
    let total = 0;
    for (const t of decoded.tensors) {
      expect(t.name.length).toBeGreaterThan(0);
      expect(t.data.length).toBe(t.shape.reduce((a, b) => a * b, 1));
      expect(t.data.every(Number.isFinite)).toBe(true);
      total += t.data.length;
    }
    expect(total).toBeLessThanOrEqual(limits.maxElements);
    expect(Array.from(encodeDenseWeights(decoded))).toEqual(Array.from(bytes));
  }

  const seed = encodeDenseWeights({
    tensors: [
      tensor('w', [2, 3], [1, 2, 3, 4, 5, 6]),
      tensor('bé', [3], [0.5, -0.5, 0]),
      tensor('s', [], [7]),
    ],
  });

  it('random bytes behind a valid magic/version', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (rest) => {
        decodeAndCheck(Uint8Array.from([0x57, 1, ...rest]));
      }),
      { numRuns: 2000 },
    );
  });

  it('bit flips, truncations and extensions of a valid encoding, at any alignment', () => {
    fc.assert(
      fc.property(
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 0, max: 3 }),
        (mutations, offset) => {
          decodeAndCheck(atOffset(mutate(seed, mutations), offset));
        },
      ),
      { numRuns: 3000 },
    );
  });
});
