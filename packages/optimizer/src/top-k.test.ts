import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from './random.js';
import type { RandomSource } from './random.js';
import type { SparseVector } from './sparse-vector.js';
import { fullSortTopK } from './test-support/reference-top-k.js';
import { selectTopK, TopKError, TopKSelector, topKCount } from './top-k.js';

/** Indices and value bit patterns, so -0 versus 0 and every float32 bit counts. */
function entries(vector: SparseVector): { indices: number[]; bits: number[] } {
  return {
    indices: Array.from(vector.indices),
    bits: Array.from(new Uint32Array(Float32Array.from(vector.values).buffer)),
  };
}

type Shape = 'normal' | 'mostly-zero' | 'few-distinct' | 'all-equal' | 'signed-ramp';

function makeValues(shape: Shape, length: number, random: RandomSource): Float32Array {
  const values = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    const normalish = random() + random() + random() - 1.5;
    switch (shape) {
      case 'normal':
        values[i] = normalish;
        break;
      case 'mostly-zero':
        values[i] = random() < 0.95 ? 0 : normalish;
        break;
      case 'few-distinct':
        values[i] = Math.floor(random() * 5) - 2;
        break;
      case 'all-equal':
        values[i] = -1.5;
        break;
      case 'signed-ramp':
        values[i] = (i % 2 === 0 ? 1 : -1) * (i % 1000);
        break;
    }
  }
  return values;
}

const shapes = fc.constantFrom<Shape>(
  'normal',
  'mostly-zero',
  'few-distinct',
  'all-equal',
  'signed-ramp',
);

describe('selectTopK', () => {
  it('keeps the largest magnitudes, ties to the lowest index, indices increasing', () => {
    // |v| = [0.5, 3, 2, 2, 0.1, 2]: 3 at index 1 first, then three 2s tie; the lowest indices,
    // 2 and 3, win, and index 5 is left out.
    const values = Float32Array.from([0.5, -3, 2, -2, 0.1, 2]);
    const top = selectTopK(values, 3, mulberry32(1));
    expect(Array.from(top.indices)).toEqual([1, 2, 3]);
    expect(Array.from(top.values)).toEqual([-3, 2, -2]);
    expect(top.length).toBe(6);
  });

  it('clamps k to P and handles k = 0', () => {
    const values = Float32Array.from([1, -2, 3]);
    expect(Array.from(selectTopK(values, 10, mulberry32(1)).indices)).toEqual([0, 1, 2]);
    expect(selectTopK(values, 0, mulberry32(1)).indices.length).toBe(0);
    expect(selectTopK(new Float32Array(0), 5, mulberry32(1)).indices.length).toBe(0);
  });

  it('matches the full sort on short vectors (quickselect path)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), { maxLength: 300 }),
        fc.nat({ max: 320 }),
        fc.integer(),
        (plain, k, seed) => {
          const values = Float32Array.from(plain);
          const top = selectTopK(values, k, mulberry32(seed));
          expect(top.indices.length).toBe(Math.min(k, values.length));
          expect(entries(top)).toEqual(entries(fullSortTopK(values, k)));
        },
      ),
    );
  });

  it('matches the full sort on long vectors (sampled-threshold path), for every shape', () => {
    fc.assert(
      fc.property(
        shapes,
        fc.integer({ min: 16_385, max: 40_000 }),
        fc.oneof(
          fc.constantFrom(0.0001, 0.001, 0.01, 0.1, 0.5, 0.99),
          fc.double({ min: 0.00001, max: 1, noNaN: true }),
        ),
        fc.integer(),
        (shape, length, density, seed) => {
          const random = mulberry32(seed);
          const values = makeValues(shape, length, random);
          const k = topKCount(density, length);
          const top = selectTopK(values, k, random);
          expect(top.indices.length).toBe(k);
          expect(entries(top)).toEqual(entries(fullSortTopK(values, k)));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('stays exact when the random source is adversarial (only speed may suffer)', () => {
    const values = makeValues('normal', 50_000, mulberry32(3));
    const expected = entries(fullSortTopK(values, 500));
    // Always 0: every sample is values[0], so the threshold is |values[0]| and the candidate
    // count is wrong; almost 1: every sample is the last entry. Both must fall back correctly.
    for (const random of [(): number => 0, (): number => 0.999999999]) {
      expect(entries(selectTopK(values, 500, random))).toEqual(expected);
    }
  });

  it('rejects NaN and infinities wherever they are', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(100, 20_000, 20_003),
        fc.nat(),
        fc.constantFrom(Number.NaN, Infinity, -Infinity),
        fc.nat({ max: 25_000 }),
        fc.integer(),
        (length, position, bad, k, seed) => {
          const values = makeValues('normal', length, mulberry32(seed));
          values[position % length] = bad;
          expect(() => selectTopK(values, k, mulberry32(seed))).toThrow(
            expect.objectContaining({ name: 'TopKError', code: 'non-finite' }),
          );
        },
      ),
      { numRuns: 40 },
    );
  });

  it('rejects a NaN in the last entries, past the blocks of four the scan reads together', () => {
    for (const offset of [1, 2, 3]) {
      const values = makeValues('normal', 20_003, mulberry32(offset));
      values[20_003 - offset] = Number.NaN;
      expect(() => selectTopK(values, 200, mulberry32(1))).toThrow(
        expect.objectContaining({ code: 'non-finite' }),
      );
    }
  });

  it.each([-1, 1.5, Number.NaN])('rejects k = %s', (k) => {
    expect(() => selectTopK(new Float32Array(4), k, mulberry32(1))).toThrow(
      expect.objectContaining({ code: 'invalid-k' }),
    );
  });
});

describe('TopKSelector', () => {
  it('gives the same answers as the one-shot function when reused with varying k', () => {
    const selector = new TopKSelector(30_000);
    const random = mulberry32(9);
    for (const k of [300, 3, 3000, 300, 29_999]) {
      const values = makeValues('normal', 30_000, random);
      expect(entries(selector.select(values, k, random))).toEqual(entries(fullSortTopK(values, k)));
    }
  });

  it('rejects a vector of another length and a bad parameter count', () => {
    expect(() => new TopKSelector(4).select(new Float32Array(5), 1, mulberry32(1))).toThrow(
      expect.objectContaining({ code: 'length-mismatch' }),
    );
    expect(() => new TopKSelector(-1)).toThrow(TopKError);
    expect(() => new TopKSelector(2.5)).toThrow(
      expect.objectContaining({ code: 'invalid-parameter-count' }),
    );
  });
});

describe('topKCount', () => {
  it('is ceil(density * P)', () => {
    expect(topKCount(0.01, 1_000_000)).toBe(10_000); // 0.01 * 1e6 = 10000
    expect(topKCount(0.015, 100)).toBe(2); // 1.5 -> 2
    expect(topKCount(0.001, 10)).toBe(1); // 0.01 -> 1
    expect(topKCount(1, 37)).toBe(37);
    expect(topKCount(0.5, 0)).toBe(0);
  });

  it('ignores binary noise in the product', () => {
    // 0.07 * 100 = 7.000000000000001 in binary64; the intended count is 7, not 8.
    expect(0.07 * 100).toBeGreaterThan(7);
    expect(topKCount(0.07, 100)).toBe(7);
    // 0.29 * 100 = 28.999999999999996: ceil already gives 29.
    expect(topKCount(0.29, 100)).toBe(29);
  });

  it('stays in [1, P] and keeps at least density * P entries, up to that noise', () => {
    fc.assert(
      fc.property(
        fc.double({ min: Number.MIN_VALUE, max: 1, noNaN: true }),
        fc.integer({ min: 1, max: 2 ** 32 }),
        (density, length) => {
          const k = topKCount(density, length);
          expect(k).toBeGreaterThanOrEqual(1);
          expect(k).toBeLessThanOrEqual(length);
          expect(k).toBeGreaterThanOrEqual(density * length * (1 - 1e-12));
          expect(k - 1).toBeLessThan(density * length);
        },
      ),
    );
  });

  it.each([0, -0.1, 1.01, Number.NaN, Infinity])('rejects density %s', (density) => {
    expect(() => topKCount(density, 100)).toThrow(
      expect.objectContaining({ code: 'invalid-density' }),
    );
  });

  it.each([-1, 0.5, 2 ** 32 + 1])('rejects P = %s', (length) => {
    expect(() => topKCount(0.5, length)).toThrow(
      expect.objectContaining({ code: 'invalid-parameter-count' }),
    );
  });
});
