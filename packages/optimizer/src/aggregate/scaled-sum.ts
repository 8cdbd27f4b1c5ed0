import type { Contribution } from './contribution.js';

/**
 * `sum_i factors[i] * densify(contributions[i].update)` accumulated in binary64
 * by scatter-add over the stored entries only: O(P) to allocate, O(total nnz) to add.
 * Inputs must already be validated (see {@link validateContributions}).
 *
 * @param contributions - validated contributions of dimension `parameterCount`.
 * @param factors - one multiplier per contribution.
 * @param parameterCount - the common dimension P.
 * @returns a new binary64 accumulator of length P.
 */
export function scaledSum(
  contributions: readonly Contribution[],
  factors: Float64Array,
  parameterCount: number,
): Float64Array {
  const sum = new Float64Array(parameterCount);
  contributions.forEach(({ update }, c) => {
    const factor = factors[c];
    const { indices, values } = update;
    for (let j = 0; j < indices.length; j++) sum[indices[j]] += factor * values[j];
  });
  return sum;
}

/**
 * `sum / divisor` rounded once to float32.
 *
 * @param sum - binary64 accumulator.
 * @param divisor - positive divisor (the number of contributions for a mean).
 * @returns a new Float32Array of the same length.
 */
export function divideToFloat32(sum: Float64Array, divisor: number): Float32Array {
  const out = new Float32Array(sum.length);
  for (let i = 0; i < sum.length; i++) out[i] = sum[i] / divisor;
  return out;
}
