import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assertSeed,
  deriveSeed,
  mulberry32,
  mulberry32Uint32,
  randomInt,
  seededPermutation,
  SeedError,
} from './random.js';

/**
 * An independent mulberry32 in BigInt arithmetic (products mod 2^32 spelled out
 * instead of Math.imul), from the published C source:
 *   z = (x += 0x6D2B79F5UL); z = (z ^ z >> 15) * (z | 1UL);
 *   z ^= z + (z ^ z >> 7) * (z | 61UL); return z ^ z >> 14;
 */
function referenceMulberry32(seed: number): () => number {
  const M = 0xffffffffn;
  let x = BigInt(seed);
  return () => {
    x = (x + 0x6d2b79f5n) & M;
    let z = x;
    z = ((z ^ (z >> 15n)) * (z | 1n)) & M;
    z = (z ^ ((z + (z ^ (z >> 7n)) * (z | 61n)) & M)) & M;
    return Number((z ^ (z >> 14n)) & M);
  };
}

describe('mulberry32', () => {
  it('matches a BigInt transcription of the C reference for 1000 draws', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (seed) => {
        const fast = mulberry32Uint32(seed);
        const slow = referenceMulberry32(seed);
        for (let i = 0; i < 1000; i++) expect(fast()).toBe(slow());
      }),
      { numRuns: 20 },
    );
  });

  it('returns floats in [0, 1) equal to the 32-bit output / 2^32', () => {
    const floats = mulberry32(7);
    const ints = mulberry32Uint32(7);
    for (let i = 0; i < 1000; i++) {
      const f = floats();
      expect(f).toBe(ints() / 4294967296);
      expect(f).toBeGreaterThanOrEqual(0);
      expect(f).toBeLessThan(1);
    }
  });

  it('rejects seeds outside [0, 2^32) with code invalid-seed', () => {
    for (const bad of [-1, 1.5, 2 ** 32, Number.NaN]) {
      expect(() => mulberry32(bad)).toThrow(SeedError);
      expect(() => {
        assertSeed(bad);
      }).toThrow(expect.objectContaining({ code: 'invalid-seed' }));
    }
  });
});

describe('deriveSeed', () => {
  it('is deterministic, in range, and separates neighbouring salts', () => {
    expect(deriveSeed(5, 1, 2)).toBe(deriveSeed(5, 1, 2));
    const seen = new Set<number>();
    for (let salt = 0; salt < 1000; salt++) {
      const derived = deriveSeed(42, salt);
      expect(Number.isInteger(derived) && derived >= 0 && derived < 2 ** 32).toBe(true);
      seen.add(derived);
    }
    // 1000 draws from 2^32 collide with probability ~1e-4; a weak mix (e.g. seed + salt) would too.
    expect(seen.size).toBe(1000);
    expect(deriveSeed(42, 1, 2)).not.toBe(deriveSeed(42, 2, 1));
    expect(deriveSeed(42)).not.toBe(deriveSeed(43));
  });
});

describe('seededPermutation', () => {
  it('is a permutation of 0..n-1, the same for the same seed', () => {
    fc.assert(
      fc.property(fc.nat(300), fc.nat(), (n, seed) => {
        const perm = seededPermutation(n, seed);
        expect(Array.from(perm.slice().sort())).toEqual(Array.from({ length: n }, (_, i) => i));
        expect(seededPermutation(n, seed)).toEqual(perm);
      }),
    );
  });

  it('draws each of the 6 permutations of 3 items about equally often', () => {
    // 6000 shuffles: each count ~ Binomial(6000, 1/6), mean 1000, sd sqrt(6000 * 1/6 * 5/6) = 28.9;
    // 1000 +- 130 is 4.5 sd, so a fair shuffle fails this with probability < 1e-4 per bucket.
    const counts = new Map<string, number>();
    for (let seed = 0; seed < 6000; seed++) {
      const key = Array.from(seededPermutation(3, deriveSeed(9, seed))).join('');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(counts.size).toBe(6);
    for (const count of counts.values()) expect(Math.abs(count - 1000)).toBeLessThan(130);
  });
});

describe('randomInt', () => {
  it('maps [0, 1) onto [0, n) and clamps a source returning 1', () => {
    expect(randomInt(() => 0, 5)).toBe(0);
    expect(randomInt(() => 0.999999, 5)).toBe(4);
    expect(randomInt(() => 0.4, 5)).toBe(2); // floor(0.4 * 5) = 2
    expect(randomInt(() => 1, 5)).toBe(4);
  });
});
