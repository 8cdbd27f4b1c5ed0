import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CodecError } from './codec-error.js';
import type { SparseDecodeLimits, SparseValueFormat } from './sparse-update.js';
import { decodeSparseUpdate, encodeSparseUpdate } from './sparse-update.js';

const LIMITS: SparseDecodeLimits = { maxLength: 5000, maxCount: 64 };

/**
 * Decodes arbitrary bytes: anything thrown must be a CodecError, and anything returned must
 * be a valid update within the limits that re-encodes to exactly the input bytes (the format
 * has one encoding per update, since varints must be minimal).
 */
function decodeAndCheck(bytes: Uint8Array): void {
  let decoded;
  try {
    decoded = decodeSparseUpdate(bytes, LIMITS);
  } catch (error) {
    expect(error).toBeInstanceOf(CodecError);
    return;
  }
  const { length, indices, values } = decoded;
  expect(length).toBeLessThanOrEqual(LIMITS.maxLength);
  expect(indices.length).toBe(values.length);
  expect(indices.length).toBeLessThanOrEqual(Math.min(LIMITS.maxCount, length));
  for (let i = 0; i < indices.length; i++) {
    if (i > 0) expect(indices[i]).toBeGreaterThan(indices[i - 1]);
    expect(indices[i]).toBeLessThan(length);
    expect(Number.isFinite(values[i])).toBe(true);
  }
  const valueFormat: SparseValueFormat = bytes[2] === 1 ? 'f16' : 'f32';
  expect(Array.from(encodeSparseUpdate(decoded, { valueFormat }))).toEqual(Array.from(bytes));
}

/** A valid encoding with a small P, so random mutations often stay decodable. */
const validEncoding = fc
  .record({
    length: fc.integer({ min: 1, max: 5000 }),
    valueFormat: fc.constantFrom<SparseValueFormat>('f32', 'f16'),
  })
  .chain(({ length, valueFormat }) =>
    fc.uniqueArray(fc.integer({ min: 0, max: length - 1 }), { maxLength: 40 }).chain((indices) =>
      fc
        .array(fc.float({ min: -60000, max: 60000, noNaN: true }), {
          minLength: indices.length,
          maxLength: indices.length,
        })
        .map((values) =>
          encodeSparseUpdate(
            {
              length,
              indices: Uint32Array.from(indices.sort((a, b) => a - b)),
              values: Float32Array.from(values),
            },
            { valueFormat },
          ),
        ),
    ),
  );

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'truncate'; keep: number }
  | { kind: 'extend'; tail: Uint8Array };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip'), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set'), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate'), keep: fc.nat() }),
  fc.record({ kind: fc.constant('extend'), tail: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
);

function mutate(bytes: Uint8Array, mutations: Mutation[]): Uint8Array {
  let out = bytes.slice();
  for (const m of mutations) {
    if (m.kind === 'truncate') {
      out = out.slice(0, m.keep % (out.length + 1));
    } else if (m.kind === 'extend') {
      out = Uint8Array.from([...out, ...m.tail]);
    } else if (out.length > 0) {
      const at = m.at % out.length;
      out[at] = m.kind === 'flip' ? out[at] ^ (1 << m.bit) : m.value;
    }
  }
  return out;
}

describe('decodeSparseUpdate fuzz', () => {
  it('random bytes: only CodecError, and any success is a valid canonical update', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), decodeAndCheck), { numRuns: 2000 });
  });

  it('random bodies behind a valid magic/version/format prefix', () => {
    fc.assert(
      fc.property(fc.constantFrom(0, 1), fc.uint8Array({ maxLength: 80 }), (format, rest) => {
        decodeAndCheck(Uint8Array.from([0x53, 1, format, ...rest]));
      }),
      { numRuns: 2000 },
    );
  });

  it('bit flips, byte overwrites, truncations and extensions of valid encodings', () => {
    fc.assert(
      fc.property(
        validEncoding,
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        (bytes, ms) => {
          decodeAndCheck(mutate(bytes, ms));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('unmutated valid encodings decode (the harness accepts good input)', () => {
    fc.assert(
      fc.property(validEncoding, (bytes) => {
        expect(() => decodeSparseUpdate(bytes, LIMITS)).not.toThrow();
        decodeAndCheck(bytes);
      }),
    );
  });
});
