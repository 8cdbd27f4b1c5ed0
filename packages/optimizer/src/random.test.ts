import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mulberry32, randomIndex, RandomSourceError } from './random.js';

describe('mulberry32', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const draw = (seed: number): number[] => {
      const random = mulberry32(seed);
      return Array.from({ length: 5 }, () => random());
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
  });

  it('returns values in [0, 1) with a mean near 1/2', () => {
    fc.assert(
      fc.property(fc.integer({ min: -0x80000000, max: 0xffffffff }), (seed) => {
        const random = mulberry32(seed);
        let sum = 0;
        let min = Infinity;
        let max = -Infinity;
        for (let i = 0; i < 4000; i++) {
          const r = random();
          min = Math.min(min, r);
          max = Math.max(max, r);
          sum += r;
        }
        expect(min).toBeGreaterThanOrEqual(0);
        expect(max).toBeLessThan(1);
        // Mean of 4000 uniforms: standard deviation sqrt(1/12/4000) ~ 0.0046, so 0.03 is 6.5 sigma.
        expect(Math.abs(sum / 4000 - 0.5)).toBeLessThan(0.03);
      }),
      { numRuns: 50 },
    );
  });

  it('takes seeds modulo 2^32', () => {
    // -1 and 2^32 - 1 are the same 32-bit pattern.
    expect(mulberry32(-1)()).toBe(mulberry32(0xffffffff)());
  });

  it.each([1.5, Number.NaN, 2 ** 32, -(2 ** 31) - 1])('rejects the seed %s', (seed) => {
    expect(() => mulberry32(seed)).toThrow(
      expect.objectContaining({ name: 'RandomSourceError', code: 'invalid-seed' }),
    );
  });
});

describe('randomIndex', () => {
  it('is floor(r * n)', () => {
    // 0.5 * 10 = 5; 0.99 * 10 = 9.9 -> 9; 0 -> 0.
    expect(randomIndex(() => 0.5, 10)).toBe(5);
    expect(randomIndex(() => 0.99, 10)).toBe(9);
    expect(randomIndex(() => 0, 10)).toBe(0);
  });

  it('stays below n for the largest double below 1', () => {
    const almostOne = 1 - 2 ** -53;
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 32 }), (n) => {
        expect(randomIndex(() => almostOne, n)).toBeLessThan(n);
      }),
    );
  });

  it.each([1, -0.25, Number.NaN, Infinity])('rejects a source returning %s', (value) => {
    expect(() => randomIndex(() => value, 10)).toThrow(RandomSourceError);
    expect(() => randomIndex(() => value, 10)).toThrow(
      expect.objectContaining({ code: 'out-of-range' }),
    );
  });
});
