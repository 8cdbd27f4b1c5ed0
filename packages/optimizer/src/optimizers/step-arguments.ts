import { InvalidSparseVectorError, validateSparseVector } from '../sparse-vector.js';
import type { SparseVector } from '../sparse-vector.js';
import { OptimizerError } from './optimizer-error.js';

/**
 * Checks the arguments of an optimizer step before anything is written:
 * both of length P and the update finite (a NaN must never reach the model).
 *
 * @param parameterCount - the optimizer's P.
 * @param weights - the model.
 * @param update - dense or sparse update.
 * @throws {@link OptimizerError} `length-mismatch`, `non-finite`, or `invalid-update` (another
 *   broken sparse invariant; the {@link InvalidSparseVectorError} is the cause).
 */
export function checkStepArguments(
  parameterCount: number,
  weights: Float32Array,
  update: Float32Array | SparseVector,
): void {
  if (weights.length !== parameterCount || update.length !== parameterCount) {
    throw new OptimizerError(
      'length-mismatch',
      `optimizer is for ${parameterCount} parameters, got weights of ${weights.length} and an update of ${update.length}`,
    );
  }
  if (update instanceof Float32Array) {
    for (let i = 0; i < update.length; i++) {
      if (!Number.isFinite(update[i])) {
        throw new OptimizerError('non-finite', `update[${i}] is ${update[i]}`);
      }
    }
    return;
  }
  try {
    validateSparseVector(update);
  } catch (error) {
    if (!(error instanceof InvalidSparseVectorError)) throw error;
    throw new OptimizerError(
      error.code === 'non-finite' ? 'non-finite' : 'invalid-update',
      `sparse update: ${error.message}`,
      { cause: error },
    );
  }
}

/**
 * The update as a dense array: itself when dense, else expanded (rules whose
 * state decays everywhere, like momentum and Adam, touch every coordinate anyway).
 *
 * @param update - a checked update.
 * @returns a Float32Array of length P (the input itself when already dense).
 */
export function denseUpdate(update: Float32Array | SparseVector): Float32Array {
  if (update instanceof Float32Array) return update;
  const dense = new Float32Array(update.length);
  const { indices, values } = update;
  for (let j = 0; j < indices.length; j++) dense[indices[j]] = values[j];
  return dense;
}
