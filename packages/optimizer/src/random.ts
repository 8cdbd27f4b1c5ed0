import { CodedError } from './coded-error.js';

/**
 * A source of uniform random numbers in [0, 1), passed in because the pure
 * packages may not call `Math.random` (runs must be reproducible from a seed).
 */
export type RandomSource = () => number;

/** Reasons a {@link RandomSourceError} is thrown. */
export type RandomSourceErrorCode = 'out-of-range' | 'invalid-seed';

/** Thrown when a random source misbehaves or a seed is not a 32-bit integer. */
export class RandomSourceError extends CodedError<RandomSourceErrorCode> {
  /**
   * @param code - the reason, see {@link RandomSourceErrorCode}.
   * @param message - names the offending value.
   */
  public constructor(code: RandomSourceErrorCode, message: string) {
    super(code, message);
  }
}

/**
 * mulberry32 (Tommy Ettinger's 32-bit generator): a tiny seeded PRNG with a
 * 2^32 period, good enough for sampling and pivot choice, and identical in
 * every JavaScript host, so a run seeded the same way selects the same pivots.
 *
 * Each call advances the state by the Weyl constant 0x6d2b79f5 and returns
 * `hash(state) / 2^32`, a float in [0, 1).
 *
 * @param seed - any integer in [-2^31, 2^32); it is taken modulo 2^32.
 * @returns a {@link RandomSource}.
 */
export function mulberry32(seed: number): RandomSource {
  if (!Number.isInteger(seed) || seed < -0x80000000 || seed >= 0x100000000) {
    throw new RandomSourceError('invalid-seed', `seed must be a 32-bit integer, got ${seed}`);
  }
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A uniform integer in [0, n) drawn as `floor(random() * n)`.
 *
 * The draw is checked because a source returning 1, a negative or NaN would
 * otherwise index outside a typed array and silently read `undefined`.
 *
 * @param random - source of uniform numbers in [0, 1).
 * @param n - exclusive upper bound, a positive integer.
 * @returns an integer in [0, n).
 * @throws {@link RandomSourceError} with code `out-of-range` if the source returned a value outside [0, 1).
 */
export function randomIndex(random: RandomSource, n: number): number {
  const r = random();
  if (!(r >= 0 && r < 1)) {
    throw new RandomSourceError('out-of-range', `random source returned ${r}, expected [0, 1)`);
  }
  // r < 1 already keeps floor(r * n) below n in binary64; the min is a belt for hosts that round differently.
  return Math.min(n - 1, Math.floor(r * n));
}
