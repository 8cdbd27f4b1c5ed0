import { CodedError } from './coded-error.js';
import { kthLargest } from './kth-largest.js';
import { randomIndex } from './random.js';
import type { RandomSource } from './random.js';
import type { SparseVector } from './sparse-vector.js';

/** Reasons a {@link TopKError} is thrown. */
export type TopKErrorCode =
  'invalid-k' | 'invalid-density' | 'invalid-parameter-count' | 'length-mismatch' | 'non-finite';

/** Thrown on bad arguments to top-k selection. */
export class TopKError extends CodedError<TopKErrorCode> {
  /**
   * @param code - the reason, see {@link TopKErrorCode}.
   * @param message - names the offending value.
   */
  public constructor(code: TopKErrorCode, message: string) {
    super(code, message);
  }
}

const FLOAT32_MAX = 3.4028234663852886e38;
/** At or below this length, quickselect over all magnitudes costs about what sampling would. */
const EXACT_PATH_MAX_LENGTH = 1 << 14;
const MIN_SAMPLE_SIZE = 1024;
const MAX_SAMPLE_SIZE = 1 << 16;
/**
 * Sample hits expected above the true k-th magnitude: the estimate's relative error is about
 * 1/sqrt(64). More hits would tighten the candidate set, but each sample is a cache miss.
 */
const TARGET_SAMPLE_HITS = 64;
/** The threshold sits this many standard deviations below the estimate, so it misses (falls back) with probability ~3e-5. */
const THRESHOLD_SIGMAS = 4;

function requireParameterCount(parameterCount: number): void {
  if (!Number.isInteger(parameterCount) || parameterCount < 0 || parameterCount > 0x100000000) {
    throw new TopKError(
      'invalid-parameter-count',
      `parameter count must be an integer in [0, 2^32], got ${parameterCount}`,
    );
  }
}

function nonFiniteAt(values: Float32Array, index: number): TopKError {
  return new TopKError('non-finite', `values[${index}] is ${values[index]}`);
}

/**
 * `k = ceil(density * P)`, the number of entries a worker sends
 * (docs/algorithms.md#top-k-with-error-feedback).
 *
 * The product is taken as exact when it is within a few ulps of an integer, so
 * binary noise does not add an entry (0.07 * 100 is 7.000000000000001 in
 * binary64, and gives 7, not 8). Both ends of the wire must use this function.
 *
 * @param density - fraction of entries kept, in (0, 1].
 * @param parameterCount - dense dimension P, a non-negative integer.
 * @returns k in [1, P] (0 only when P is 0).
 * @throws {@link TopKError} `invalid-density` or `invalid-parameter-count`.
 */
export function topKCount(density: number, parameterCount: number): number {
  if (!(density > 0 && density <= 1)) {
    throw new TopKError('invalid-density', `density must be in (0, 1], got ${density}`);
  }
  requireParameterCount(parameterCount);
  const product = density * parameterCount;
  const nearest = Math.round(product);
  return Math.abs(product - nearest) <= 8 * Number.EPSILON * product ? nearest : Math.ceil(product);
}

/**
 * Exact top-k by magnitude in expected O(P), with scratch buffers kept between
 * calls (a worker compresses a vector of the same size every step).
 *
 * Order: entry i ranks above entry j when |v_i| > |v_j|, or |v_i| = |v_j| and
 * i < j (ties at the threshold go to the lowest index). The result is exactly
 * what a full sort by that order would keep, whatever `random` returns;
 * `random` only affects speed.
 *
 * Method (docs/algorithms.md#selecting-the-top-k-in-linear-time):
 * 1. draw s positions uniformly (s ≈ 64 P / k, clamped to [1024, 65536]) and
 *    take the sample magnitude of rank r = ceil(μ + 4√μ + 1) from the top,
 *    μ = s k / P: a threshold t slightly below the k-th magnitude;
 * 2. one pass collects the candidates |v_i| >= t (about 1.5 k of them);
 * 3. quickselect on the candidate magnitudes gives the k-th magnitude T, and a
 *    pass over the candidates in index order keeps |v| > T plus the lowest
 *    indices with |v| = T.
 * If fewer than k candidates came out (t too high, rare) or far more than
 * expected (heavy ties, e.g. mostly zeros), it falls back to quickselect over
 * all P magnitudes, which is exact and still O(P) expected.
 */
export class TopKSelector {
  /** Dense dimension P this selector accepts. */
  readonly parameterCount: number;
  private sample = new Float32Array(0);
  private candidateIndices = new Uint32Array(0);
  private candidateMagnitudes = new Float32Array(0);
  private selectScratch = new Float32Array(0);
  private allMagnitudes: Float32Array | undefined;

  /**
   * @param parameterCount - dense dimension P, a non-negative integer.
   * @throws {@link TopKError} `invalid-parameter-count`.
   */
  constructor(parameterCount: number) {
    requireParameterCount(parameterCount);
    this.parameterCount = parameterCount;
  }

  /**
   * The min(k, P) entries of `values` largest in magnitude (ties: lowest index),
   * indices increasing, values copied verbatim (sign and bits preserved).
   *
   * @param values - dense vector of length P; not modified.
   * @param k - requested count, a non-negative integer (clamped to P).
   * @param random - uniform source in [0, 1) for the sample and the pivots.
   * @returns a new {@link SparseVector} that owns its arrays.
   * @throws {@link TopKError} `length-mismatch`, `invalid-k`, or `non-finite` (any NaN or infinity in `values`).
   * @throws {@link RandomSourceError} `out-of-range` if `random` returns a value outside [0, 1).
   */
  select(values: Float32Array, k: number, random: RandomSource): SparseVector {
    const length = this.parameterCount;
    if (values.length !== length) {
      throw new TopKError(
        'length-mismatch',
        `selector is for ${length} entries, got ${values.length}`,
      );
    }
    if (!Number.isInteger(k) || k < 0) {
      throw new TopKError('invalid-k', `k must be a non-negative integer, got ${k}`);
    }
    const count = Math.min(k, length);
    if (count === 0 || count === length) return this.selectAllOrNone(values, count);
    if (length <= EXACT_PATH_MAX_LENGTH) return this.selectExact(values, count, random);

    const sampleSize = Math.min(
      length,
      MAX_SAMPLE_SIZE,
      Math.max(MIN_SAMPLE_SIZE, Math.ceil((TARGET_SAMPLE_HITS * length) / count)),
    );
    const expectedHits = (sampleSize * count) / length;
    const rank = Math.ceil(expectedHits + THRESHOLD_SIGMAS * Math.sqrt(expectedHits) + 1);
    if (rank >= sampleSize) return this.selectExact(values, count, random);

    const threshold = this.sampleThreshold(values, sampleSize, rank, random);
    const capacity = Math.min(length, Math.ceil(((2 * rank) / sampleSize) * length) + 1024);
    const found = this.collectCandidates(values, threshold, capacity);
    if (found < count) return this.selectExact(values, count, random);

    // Quickselect permutes its input, so it works on a copy and the magnitudes stay in index order.
    const scratch = this.selectScratch;
    scratch.set(this.candidateMagnitudes.subarray(0, found));
    const kthMagnitude = kthLargest(scratch, found, count, random);
    const candidates = { positions: this.candidateIndices, magnitudes: this.candidateMagnitudes };
    return takeInIndexOrder(values, candidates, found, count, kthMagnitude);
  }

  private sampleThreshold(
    values: Float32Array,
    sampleSize: number,
    rank: number,
    random: RandomSource,
  ): number {
    if (this.sample.length < sampleSize) this.sample = new Float32Array(sampleSize);
    const sample = this.sample;
    for (let s = 0; s < sampleSize; s++) {
      const index = randomIndex(random, values.length);
      const magnitude = Math.abs(values[index]);
      if (!(magnitude <= FLOAT32_MAX)) throw nonFiniteAt(values, index);
      sample[s] = magnitude;
    }
    return kthLargest(sample, sampleSize, rank, random);
  }

  /**
   * Fills the candidate buffers with every |v_i| >= threshold, in index order.
   * Returns the count, or -1 when more than `capacity` qualify (the caller then
   * falls back to the exact path, which re-checks finiteness of everything).
   */
  private collectCandidates(values: Float32Array, threshold: number, capacity: number): number {
    if (this.candidateIndices.length < capacity) {
      this.candidateIndices = new Uint32Array(capacity);
      this.candidateMagnitudes = new Float32Array(capacity);
      this.selectScratch = new Float32Array(capacity);
    }
    const indices = this.candidateIndices;
    const magnitudes = this.candidateMagnitudes;
    const length = values.length;
    let found = 0;
    let i = 0;
    // Blocks of four: about 1% of entries qualify, so most blocks are rejected by one combined
    // test, which V8 runs about 1.6x faster than a per-element branch (measured, Node 20).
    // Every comparison is written as !(a < t) so that NaN enters the rare path and is caught there.
    for (; i + 4 <= length; i += 4) {
      if (
        Math.abs(values[i]) < threshold &&
        Math.abs(values[i + 1]) < threshold &&
        Math.abs(values[i + 2]) < threshold &&
        Math.abs(values[i + 3]) < threshold
      ) {
        continue;
      }
      for (let j = i; j < i + 4; j++) {
        const magnitude = Math.abs(values[j]);
        if (magnitude < threshold) continue;
        if (!(magnitude <= FLOAT32_MAX)) throw nonFiniteAt(values, j);
        if (found === capacity) return -1;
        indices[found] = j;
        magnitudes[found] = magnitude;
        found++;
      }
    }
    for (; i < length; i++) {
      const magnitude = Math.abs(values[i]);
      if (magnitude < threshold) continue;
      if (!(magnitude <= FLOAT32_MAX)) throw nonFiniteAt(values, i);
      if (found === capacity) return -1;
      indices[found] = i;
      magnitudes[found] = magnitude;
      found++;
    }
    return found;
  }

  private selectExact(values: Float32Array, count: number, random: RandomSource): SparseVector {
    this.allMagnitudes ??= new Float32Array(this.parameterCount);
    const magnitudes = this.allMagnitudes;
    for (let i = 0; i < values.length; i++) {
      const magnitude = Math.abs(values[i]);
      if (!(magnitude <= FLOAT32_MAX)) throw nonFiniteAt(values, i);
      magnitudes[i] = magnitude;
    }
    const kthMagnitude = kthLargest(magnitudes, values.length, count, random);
    return takeInIndexOrder(values, undefined, values.length, count, kthMagnitude);
  }

  private selectAllOrNone(values: Float32Array, count: number): SparseVector {
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i])) throw nonFiniteAt(values, i);
    }
    const indices = new Uint32Array(count);
    for (let i = 0; i < count; i++) indices[i] = i;
    return { length: values.length, indices, values: values.slice(0, count) };
  }
}

/**
 * Keeps, in index order, every position with |v| > T and the first
 * `count - #{|v| > T}` positions with |v| = T. The positions are
 * `positions[0 .. found)` with magnitudes `magnitudes[0 .. found)` when given
 * (the candidate path), else all of 0 .. P-1 (the exact path).
 */
function takeInIndexOrder(
  values: Float32Array,
  candidates: { readonly positions: Uint32Array; readonly magnitudes: Float32Array } | undefined,
  found: number,
  count: number,
  kthMagnitude: number,
): SparseVector {
  const magnitudeAt =
    candidates === undefined
      ? (j: number): number => Math.abs(values[j])
      : (j: number): number => candidates.magnitudes[j];
  let strictlyGreater = 0;
  for (let j = 0; j < found; j++) if (magnitudeAt(j) > kthMagnitude) strictlyGreater++;
  let tiesLeft = count - strictlyGreater;
  const indices = new Uint32Array(count);
  const kept = new Float32Array(count);
  let out = 0;
  for (let j = 0; j < found && out < count; j++) {
    const magnitude = magnitudeAt(j);
    if (magnitude < kthMagnitude) continue;
    if (magnitude === kthMagnitude) {
      if (tiesLeft === 0) continue;
      tiesLeft--;
    }
    const i = candidates === undefined ? j : candidates.positions[j];
    indices[out] = i;
    kept[out] = values[i];
    out++;
  }
  return { length: values.length, indices, values: kept };
}

/**
 * One-shot form of {@link TopKSelector.select}: the min(k, P) entries largest
 * in |value|, ties to the lowest index, indices increasing. Allocates scratch
 * each call; keep a {@link TopKSelector} when calling every step.
 *
 * @param values - dense vector; not modified.
 * @param k - requested count, a non-negative integer (clamped to P).
 * @param random - uniform source in [0, 1).
 * @returns a new {@link SparseVector} with exactly min(k, P) entries.
 * @throws {@link TopKError} `invalid-k` or `non-finite`; {@link RandomSourceError} for a bad `random`.
 */
export function selectTopK(values: Float32Array, k: number, random: RandomSource): SparseVector {
  return new TopKSelector(values.length).select(values, k, random);
}
