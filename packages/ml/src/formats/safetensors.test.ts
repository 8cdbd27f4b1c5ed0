import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  SAFETENSORS_ERROR_CODES,
  SafetensorsError,
  encodeSafetensors,
  parseSafetensors,
  type SafetensorsTensor,
} from './safetensors.js';

function bits(values: Float32Array): number[] {
  return [...new Uint32Array(values.buffer, values.byteOffset, values.length)];
}

/** A file built by hand: 8-byte length, the header text as given, then `buffer`. */
function file(header: string, buffer: number[] = []): Uint8Array {
  const text = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + text.length + buffer.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  out.set(buffer, 8 + text.length);
  return out;
}

function codeOf(bytes: Uint8Array): string {
  try {
    parseSafetensors(bytes);
  } catch (error) {
    if (error instanceof SafetensorsError) return error.code;
    throw error;
  }
  return 'parsed';
}

const F32 = (begin: number, end: number, shape = `[${(end - begin) / 4}]`) =>
  `{"dtype":"F32","shape":${shape},"data_offsets":[${begin},${end}]}`;

describe('encodeSafetensors', () => {
  it('writes the bytes the format specifies (checked by hand)', () => {
    const bytes = encodeSafetensors(
      [
        { name: 'a', shape: [2], data: Float32Array.of(1, -2) },
        { name: 'b', shape: [], data: Float32Array.of(0.5) },
      ],
      { k: 'v' },
    );
    const header =
      '{"__metadata__":{"k":"v"},' +
      '"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},' +
      '"b":{"dtype":"F32","shape":[],"data_offsets":[8,12]}}';
    // {"__metadata__":{"k":"v"}, is 1 + 14 + 1 + 9 + 1 = 26 characters;
    // "a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}, is 4 + 15 + 12 + 20 + 2 = 53;
    // "b":{"dtype":"F32","shape":[],"data_offsets":[8,12]}} is 4 + 15 + 11 + 21 + 2 = 53.
    // 26 + 53 + 53 = 132; the next multiple of 8 is 136: 4 spaces of padding.
    expect(header.length).toBe(132);
    expect([...bytes.subarray(0, 8)]).toEqual([136, 0, 0, 0, 0, 0, 0, 0]);
    expect(new TextDecoder().decode(bytes.subarray(8, 144))).toBe(`${header}    `);
    // 1.0f = 0x3F800000, -2.0f = 0xC0000000, 0.5f = 0x3F000000, each little-endian.
    expect([...bytes.subarray(144)]).toEqual([
      0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0, 0x00, 0x00, 0x00, 0x3f,
    ]);
    expect(bytes.length).toBe(8 + 136 + 12);
  });

  it('round-trips any tensors and metadata bit-exactly (property)', () => {
    const shape = fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 });
    const tensor = shape.chain((dims) => {
      const size = dims.reduce((a, b) => a * b, 1);
      return fc
        .float32Array({ noNaN: true, minLength: size, maxLength: size })
        .map((data) => ({ shape: dims, data }));
    });
    const input = fc.record({
      tensors: fc.uniqueArray(fc.tuple(fc.string({ minLength: 1 }), tensor), {
        selector: ([name]) => name,
        maxLength: 6,
      }),
      metadata: fc.dictionary(fc.string(), fc.string()),
    });
    fc.assert(
      fc.property(input, ({ tensors, metadata }) => {
        fc.pre(tensors.every(([name]) => name !== '__metadata__'));
        const list: SafetensorsTensor[] = tensors.map(([name, t]) => ({ name, ...t }));
        const bytes = encodeSafetensors(list, metadata);
        const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
        expect(headerLength % 8).toBe(0);
        const parsed = parseSafetensors(bytes);
        expect(parsed.metadata).toEqual(metadata);
        // Zero-size tensors share an offset, so their order among themselves may change.
        const byName = new Map(parsed.tensors.map((t) => [t.name, t]));
        expect(byName.size).toBe(list.length);
        for (const { name, shape: dims, data } of list) {
          expect(byName.get(name)?.shape).toEqual(dims);
          expect(bits(byName.get(name)?.data ?? new Float32Array(1))).toEqual(bits(data));
        }
      }),
    );
  });

  it('refuses what the format cannot carry', () => {
    const ok = { shape: [1], data: Float32Array.of(1) };
    const attempt = (tensors: SafetensorsTensor[], metadata: Record<string, string> = {}) => {
      try {
        encodeSafetensors(tensors, metadata);
      } catch (error) {
        if (error instanceof SafetensorsError) return error.code;
        throw error;
      }
      return 'encoded';
    };
    expect(attempt([{ name: '__metadata__', ...ok }])).toBe('invalid-tensor');
    expect(attempt([{ name: '', ...ok }])).toBe('invalid-tensor');
    expect(
      attempt([
        { name: 'x', ...ok },
        { name: 'x', ...ok },
      ]),
    ).toBe('invalid-tensor');
    expect(attempt([{ name: 'x', shape: [1.5], data: Float32Array.of(1) }])).toBe('invalid-tensor');
    expect(attempt([{ name: 'x', shape: [2, 2], data: Float32Array.of(1) }])).toBe(
      'shape-mismatch',
    );
    expect(attempt([{ name: 'x', ...ok }], { n: 1 as unknown as string })).toBe('bad-metadata');
  });
});

describe('parseSafetensors', () => {
  it('reads tensors in offset order whatever the key order, and null metadata', () => {
    const parsed = parseSafetensors(
      file(
        `{"__metadata__":null,"late":${F32(4, 8)},"early":${F32(0, 4)}}  `,
        [
          // early = 1.0f, late = -2.0f
          0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0,
        ],
      ),
    );
    expect(parsed.metadata).toEqual({});
    expect(parsed.tensors.map((t) => [t.name, t.shape, [...t.data]])).toEqual([
      ['early', [1], [1]],
      ['late', [1], [-2]],
    ]);
  });

  it('accepts an empty file body: no tensors, no buffer', () => {
    expect(parseSafetensors(file('{}'))).toEqual({ tensors: [], metadata: {} });
  });

  it('names the check that failed', () => {
    const four = [0, 0, 0, 0];
    expect(codeOf(new Uint8Array(7))).toBe('truncated');
    expect(codeOf(file(`{"a":${F32(0, 4)}}`, four).subarray(0, 20))).toBe('truncated');
    const huge = file('{}');
    new DataView(huge.buffer).setBigUint64(0, 100_000_001n, true);
    expect(codeOf(huge)).toBe('header-too-large');
    new DataView(huge.buffer).setBigUint64(0, 2n ** 64n - 1n, true);
    expect(codeOf(huge)).toBe('header-too-large');
    expect(codeOf(file(` {"a":${F32(0, 4)}}`, four))).toBe('bad-header');
    expect(codeOf(file('{"a":', four))).toBe('bad-header');
    expect(codeOf(file('[]'))).toBe('bad-header');
    const badUtf8 = file('{"\u00e9":1}');
    badUtf8[11] = 0xff;
    expect(codeOf(badUtf8)).toBe('bad-header');
    expect(codeOf(file(`{"a":${F32(0, 4)},"a":${F32(0, 4)}}`, four))).toBe('duplicate-key');
    expect(
      codeOf(file(`{"a":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, four)),
    ).toBe('duplicate-key');
    expect(codeOf(file('{"a":{"dtype":"F32","shape":[1]}}', four))).toBe('bad-entry');
    expect(codeOf(file(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, four))).toBe(
      'bad-entry',
    );
    expect(codeOf(file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0.5,4]}}`, four))).toBe(
      'bad-entry',
    );
    expect(codeOf(file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}}`, four))).toBe(
      'bad-entry',
    );
    // The reference crate's own doc example: an I32 tensor.
    expect(
      codeOf(
        file(
          `{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}`,
          new Array<number>(16).fill(0),
        ),
      ),
    ).toBe('unsupported-dtype');
    expect(codeOf(file(`{"__metadata__":{"k":1},"a":${F32(0, 4)}}`, four))).toBe('bad-metadata');
    expect(codeOf(file(`{"__metadata__":"k","a":${F32(0, 4)}}`, four))).toBe('bad-metadata');
    // Offsets: a gap, an overlap, a start past 0, reversed, past the end, and unused bytes.
    expect(
      codeOf(file(`{"a":${F32(0, 4)},"b":${F32(8, 12)}}`, new Array<number>(12).fill(0))),
    ).toBe('bad-offsets');
    expect(
      codeOf(file(`{"a":${F32(0, 8)},"b":${F32(4, 12)}}`, new Array<number>(12).fill(0))),
    ).toBe('bad-offsets');
    expect(codeOf(file(`{"a":${F32(4, 8)}}`, new Array<number>(8).fill(0)))).toBe('bad-offsets');
    expect(codeOf(file(`{"a":${F32(4, 0, '[1]')}}`, four))).toBe('bad-offsets');
    expect(codeOf(file(`{"a":${F32(0, 8)}}`, four))).toBe('out-of-range');
    expect(codeOf(file(`{"a":${F32(0, 4)}}`, new Array<number>(8).fill(0)))).toBe('trailing-bytes');
    expect(codeOf(file('{}', four))).toBe('trailing-bytes');
    // Shape [2] needs 8 bytes, the offsets give 4; and a huge shape must not overflow.
    expect(codeOf(file(`{"a":${F32(0, 4, '[2]')}}`, four))).toBe('shape-mismatch');
    const big = `[${Array(40)
      .fill(2 ** 40)
      .join(',')}]`;
    expect(codeOf(file(`{"a":${F32(0, 4, big)}}`, four))).toBe('shape-mismatch');
    expect(codeOf(file(`{"a":${F32(0, 0, '[3,0]')}}`))).toBe('parsed');
  });

  it('never throws anything but SafetensorsError on damaged files (property)', () => {
    const valid = encodeSafetensors(
      [
        { name: 'w', shape: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, 6) },
        { name: 'b', shape: [3], data: Float32Array.of(-1, 0, 1) },
      ],
      { producer: 'test' },
    );
    const damage = fc.oneof(
      fc.record({ at: fc.nat(valid.length - 1), value: fc.nat(255) }).map(({ at, value }) => {
        const copy = valid.slice();
        copy[at] = value;
        return copy;
      }),
      fc.nat(valid.length).map((length) => valid.slice(0, length)),
    );
    fc.assert(
      fc.property(damage, (bytes) => {
        expect(['parsed', ...Object.keys(SAFETENSORS_ERROR_CODES)]).toContain(codeOf(bytes));
      }),
      { numRuns: 2000 },
    );
  });
});
