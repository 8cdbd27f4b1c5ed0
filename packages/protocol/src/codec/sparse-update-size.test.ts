import { describe, expect, it } from 'vitest';
import type { SparseValueFormat, SparseVector } from './sparse-update.js';
import {
  decodeSparseUpdate,
  encodeSparseUpdate,
  encodedSparseUpdateSize,
} from './sparse-update.js';

// The package compiles without DOM or Node types; the figures are printed for the lead to quote.
declare const console: { log(message: string): void };

/** mulberry32: a tiny seeded PRNG, so the figures below are reproducible. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A uniformly random k-subset of [0, P) (partial Fisher-Yates), sorted, with small values. */
function randomUpdate(length: number, count: number, random: () => number): SparseVector {
  const pool = new Uint32Array(length);
  for (let i = 0; i < length; i++) pool[i] = i;
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(random() * (length - i));
    const swap = pool[i];
    pool[i] = pool[j];
    pool[j] = swap;
  }
  const indices = pool.slice(0, count).sort();
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) values[i] = (random() * 2 - 1) * 0.01;
  return { length, indices, values };
}

const P = 1_000_000;

/**
 * Expected bytes per sent element for a uniform random k-subset of P at density p = k / P:
 * gaps are close to geometric, and a gap needs a 2nd varint byte when >= 128 (the 127
 * positions after the previous index all unselected: probability (1 - p)^127) and a 3rd when
 * >= 16384 ((1 - p)^16383). So varint bytes ~ 1 + (1 - p)^127 + (1 - p)^16383, plus the
 * value bytes, plus the 11-byte header spread over k entries.
 *   p = 1%:   1 + 0.99^127  = 1 + 0.279 = 1.279  (1.3 bytes/index measured,
 *             docs/architecture.md#wire-sizes-and-top-k-speed)
 *   p = 0.1%: 1 + 0.999^127 = 1 + 0.881 = 1.881  (the 3-byte term is e^-16.4, negligible)
 */
function expectedBytesPerElement(count: number, valueFormat: SparseValueFormat): number {
  const p = count / P;
  const varintBytes = 1 + (1 - p) ** 127 + (1 - p) ** 16383;
  return varintBytes + (valueFormat === 'f16' ? 2 : 4) + 11 / count;
}

describe('sparse update size at P = 1,000,000', () => {
  // Half-widths: the varint byte mean over k gaps has standard deviation
  // sqrt(q (1 - q) / k): 0.0045 at 1% (q = 0.279, k = 10000), 0.0103 at 0.1% (q = 0.881,
  // k = 1000). The bands are about 5 sigma wide on each side.
  const cases = [
    { density: 0.01, count: 10_000, halfWidth: 0.025 },
    { density: 0.001, count: 1_000, halfWidth: 0.05 },
  ];
  const formats: SparseValueFormat[] = ['f32', 'f16'];

  for (const { density, count, halfWidth } of cases) {
    for (const valueFormat of formats) {
      it(`${density * 100}% density, ${valueFormat}`, () => {
        const update = randomUpdate(P, count, mulberry32(20240601 + count));
        const bytes = encodeSparseUpdate(update, { valueFormat });
        expect(bytes.length).toBe(encodedSparseUpdateSize(update, valueFormat));
        const decoded = decodeSparseUpdate(bytes, { maxLength: P, maxCount: count });
        expect(Array.from(decoded.indices)).toEqual(Array.from(update.indices));

        const perElement = bytes.length / count;
        const versusDense = bytes.length / (4 * P);
        const expected = expectedBytesPerElement(count, valueFormat);
        console.log(
          `sparse ${valueFormat} density ${density * 100}% (k = ${count}, P = ${P}): ` +
            `${bytes.length} bytes, ${perElement.toFixed(3)} B/element ` +
            `(index ${(perElement - (valueFormat === 'f16' ? 2 : 4)).toFixed(3)} B incl. header, ` +
            `model ${expected.toFixed(3)}), ${(versusDense * 100).toFixed(3)}% of dense f32 (4P = ${4 * P} B)`,
        );
        expect(perElement).toBeGreaterThan(expected - halfWidth);
        expect(perElement).toBeLessThan(expected + halfWidth);
      });
    }
  }
});
