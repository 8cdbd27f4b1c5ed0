import { AggregationError } from './aggregation-error.js';
import { validateContributions } from './contribution.js';
import type { Contribution } from './contribution.js';

/** Parameters of {@link aggregateCenteredClip}. */
export interface CenteredClipOptions {
  /** Clipping radius tau, finite and > 0. */
  readonly radius: number;
  /** Number of refinement steps L, an integer >= 1 (default 1, as in the paper's experiments). */
  readonly iterations?: number;
  /**
   * Starting centre v_0, length P: typically the previous aggregate (the
   * "history" of the paper's title; with momentum workers, the previous momentum).
   * Default zeros. Not modified.
   */
  readonly center?: Float32Array;
}

/**
 * Centred clipping (Karimireddy, He, Jaggi 2021, "Learning from History for
 * Byzantine Robust Optimization", Algorithm 2 / eq. (CC)): starting from v_0,
 *
 *   v_{l+1} = v_l + (1/n) sum_i (y_i - v_l) * min(1, tau / ||y_i - v_l||_2),  y_i = w_i x_i,
 *
 * for l = 0 .. L-1, returning v_L. Each update moves the centre by at most tau / n.
 *
 * Sparse inputs are not densified: with ||v||^2 computed once per step,
 * ||y_i - v||^2 = ||v||^2 + sum_{j in supp(y_i)} ((y_ij - v_j)^2 - v_j^2) costs
 * O(nnz_i), and the step is v <- v (1 - (1/n) sum_i c_i) + (1/n) sum_i c_i y_i,
 * so one step is O(P + total nnz). Arithmetic in binary64, rounded once to float32.
 *
 * @param contributions - non-empty, same dimension, finite (checked first).
 * @param options - radius, iterations and centre.
 * @returns the dense v_L, length P.
 * @throws {@link AggregationError} `invalid-option` (radius, iterations, a centre of the wrong length or
 *   with non-finite values), or from {@link validateContributions}.
 */
export function aggregateCenteredClip(
  contributions: readonly Contribution[],
  options: CenteredClipOptions,
): Float32Array {
  const { radius, iterations = 1, center } = options;
  if (!(Number.isFinite(radius) && radius > 0)) {
    throw new AggregationError('invalid-option', `radius must be finite and > 0, got ${radius}`);
  }
  if (!(Number.isInteger(iterations) && iterations >= 1)) {
    throw new AggregationError(
      'invalid-option',
      `iterations must be an integer >= 1, got ${iterations}`,
    );
  }
  const { parameterCount, weights } = validateContributions(contributions);
  const v = new Float64Array(parameterCount);
  if (center !== undefined) {
    if (center.length !== parameterCount) {
      throw new AggregationError(
        'invalid-option',
        `center has length ${center.length}, updates have dimension ${parameterCount}`,
      );
    }
    for (let j = 0; j < parameterCount; j++) {
      if (!Number.isFinite(center[j])) {
        throw new AggregationError('invalid-option', `center[${j}] is ${center[j]}`);
      }
      v[j] = center[j];
    }
  }

  const n = contributions.length;
  const clipFactors = new Float64Array(n);
  for (let step = 0; step < iterations; step++) {
    let centerSquared = 0;
    for (let j = 0; j < parameterCount; j++) centerSquared += v[j] * v[j];
    let clipSum = 0;
    contributions.forEach(({ update }, c) => {
      const weight = weights[c];
      const { indices, values } = update;
      let distanceSquared = centerSquared;
      for (let s = 0; s < indices.length; s++) {
        const vj = v[indices[s]];
        const diff = weight * values[s] - vj;
        distanceSquared += diff * diff - vj * vj;
      }
      // Cancellation can leave a tiny negative where the true distance is 0.
      const distance = Math.sqrt(Math.max(0, distanceSquared));
      clipFactors[c] = distance > radius ? radius / distance : 1;
      clipSum += clipFactors[c];
    });
    const keep = 1 - clipSum / n;
    for (let j = 0; j < parameterCount; j++) v[j] *= keep;
    contributions.forEach(({ update }, c) => {
      const factor = (clipFactors[c] * weights[c]) / n;
      const { indices, values } = update;
      for (let s = 0; s < indices.length; s++) v[indices[s]] += factor * values[s];
    });
  }
  const result = new Float32Array(parameterCount);
  for (let j = 0; j < parameterCount; j++) result[j] = v[j];
  return result;
}
