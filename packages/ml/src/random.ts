import { CodedError } from './coded-error.js';

/** A source of uniform random numbers in [0, 1), seeded so every run is reproducible. */
export type RandomSource = () => number;

/** Reasons a {@link SeedError} is thrown. */
export type SeedErrorCode = 'invalid-seed';

/** Thrown when a seed is not an integer in [0, 2^32). */
export class SeedError extends CodedError<SeedErrorCode> {}

/**
 * Checks that `seed` is a 32-bit unsigned integer, the seed range of
 * `RunConfig.seed` in `@vtrain/protocol`.
 *
 * @throws {@link SeedError} otherwise.
 */
export function assertSeed(seed: number): void {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new SeedError('invalid-seed', `seed must be an integer in [0, 2^32 - 1], got ${seed}`);
  }
}

/**
 * mulberry32 (Tommy Ettinger's 32-bit generator): state += 0x6d2b79f5, output
 * hash(state) / 2^32. A 2^32 period is plenty for shuffles and noise, and the
 * integer arithmetic (`Math.imul`, `>>>`) is identical in every JavaScript host,
 * so a coordinator and a browser draw the same sequence from the same seed.
 *
 * @param seed - an integer in [0, 2^32).
 * @returns a {@link RandomSource} producing floats in [0, 1).
 * @throws {@link SeedError} if `seed` is out of range.
 */
export function mulberry32(seed: number): RandomSource {
  const next = mulberry32Uint32(seed);
  return () => next() / 4294967296;
}

/**
 * The raw 32-bit outputs of {@link mulberry32} (the same sequence times 2^32),
 * for callers that cut one draw into several narrower ones, such as four
 * 8-bit noise values per call.
 *
 * @param seed - an integer in [0, 2^32).
 * @returns a function producing integers in [0, 2^32).
 * @throws {@link SeedError} if `seed` is out of range.
 */
export function mulberry32Uint32(seed: number): () => number {
  assertSeed(seed);
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/**
 * Derives an independent 32-bit seed from a parent seed and a path of integer
 * salts (layer index, epoch, shard...), so sub-streams never share a sequence:
 * h = fmix32(h XOR salt) * 0x9e3779b1 for each salt, starting from h = seed,
 * where fmix32 is MurmurHash3's finaliser (a bijection on 32-bit words with
 * full avalanche, so neighbouring salts give unrelated seeds).
 *
 * @param seed - parent seed, an integer in [0, 2^32).
 * @param salts - integers; only their low 32 bits matter.
 * @returns an integer in [0, 2^32).
 */
export function deriveSeed(seed: number, ...salts: readonly number[]): number {
  assertSeed(seed);
  let h = fmix32(seed ^ 0x5bd1e995);
  for (const salt of salts) {
    h = fmix32(Math.imul(fmix32(h ^ (salt | 0)), 0x9e3779b1));
  }
  return h >>> 0;
}

function fmix32(x: number): number {
  let h = x | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A uniform integer in [0, n): floor(random() * n), clamped to n - 1 for a source
 * that returns exactly 1 (a broken source must not index past a typed array).
 */
export function randomInt(random: RandomSource, n: number): number {
  return Math.min(n - 1, Math.floor(random() * n));
}

/**
 * Fisher-Yates shuffle (Knuth, TAOCP vol. 2, Algorithm 3.4.2 P): for i from n - 1
 * down to 1, swap a[i] with a[j], j uniform in [0, i]. Every permutation is
 * equally likely given a uniform source; O(n), in place.
 */
export function shuffleInPlace(array: Uint32Array, random: RandomSource): Uint32Array {
  for (let i = array.length - 1; i > 0; i--) {
    const j = randomInt(random, i + 1);
    const tmp = array[i];
    array[i] = array[j];
    array[j] = tmp;
  }
  return array;
}

/**
 * A seeded uniformly random permutation of 0..n-1 ({@link shuffleInPlace} of the identity).
 *
 * @param n - length, a non-negative integer.
 * @param seed - an integer in [0, 2^32).
 */
export function seededPermutation(n: number, seed: number): Uint32Array {
  const perm = new Uint32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  return shuffleInPlace(perm, mulberry32(seed));
}
