import * as tf from '@tensorflow/tfjs';
import { CodedError } from '../coded-error.js';

/** Where one weight tensor lives in the flat parameter vector. */
export interface ParameterSlice {
  /** The weight's name inside its model ("hidden_0/kernel"), stable across builds. */
  readonly name: string;
  readonly shape: readonly number[];
  /** Index of its first element in the flat vector. */
  readonly offset: number;
  /** Number of elements: the product of `shape`. */
  readonly size: number;
}

/** Reasons a {@link FlatWeightsError} is thrown. */
export type FlatWeightsErrorCode = 'length-mismatch' | 'non-finite';

/** Thrown when a flat vector does not fit a model, or would put NaN or Infinity into it. */
export class FlatWeightsError extends CodedError<FlatWeightsErrorCode> {}

/**
 * The layout of a model's flat parameter vector, the one representation the
 * wire and `@vtrain/optimizer` see: the trainable weights in
 * `model.trainableWeights` order, each flattened row-major (tfjs order), packed
 * back to back. Slice i has offset = sum of the sizes of slices 0..i-1.
 */
export function parameterLayout(model: tf.LayersModel): ParameterSlice[] {
  let offset = 0;
  return model.trainableWeights.map((weight) => {
    const shape = weight.shape.map((d) => d ?? 0);
    const size = shape.reduce((a, b) => a * b, 1);
    const slice = { name: weight.originalName, shape, offset, size };
    offset += size;
    return slice;
  });
}

/** P, the length of the flat parameter vector: the sum of the trainable weights' sizes. */
export function parameterCount(model: tf.LayersModel): number {
  return parameterLayout(model).reduce((sum, slice) => sum + slice.size, 0);
}

/**
 * Reads the model's trainable weights into one Float32Array of length P in
 * {@link parameterLayout} order. One readback: the weights are flattened and
 * concatenated on the backend and read with a single `await data()` (never
 * `dataSync`, the slow path on WebGPU).
 *
 * The result is always a fresh array the caller owns: with a single weight
 * tensor tfjs's concat is a clone sharing the variable's storage, and the cpu
 * backend's `data()` hands out that storage itself, so an optimizer updating
 * the vector in place would otherwise rewrite the model.
 */
export async function readFlatWeights(model: tf.LayersModel): Promise<Float32Array> {
  const weights = model.trainableWeights;
  if (weights.length === 0) return new Float32Array(0);
  const packed = tf.tidy(() => tf.concat(weights.map((w) => w.read().reshape([-1]))));
  try {
    return Float32Array.from(await packed.data());
  } finally {
    packed.dispose();
  }
}

/**
 * Assigns `flat` (length P, {@link parameterLayout} order) to the model's
 * existing weight variables: no new variables, temporaries disposed. The values
 * are copied, because the cpu backend would otherwise keep a reference to the
 * caller's array, and an optimizer updating it in place would then change the
 * model behind the variable's back.
 *
 * @throws {@link FlatWeightsError} `length-mismatch` if flat.length !== P, or
 *   `non-finite` if any entry is NaN or infinite (checked before any write, so the
 *   model is never left half-updated).
 */
export function writeFlatWeights(model: tf.LayersModel, flat: Float32Array): void {
  const layout = parameterLayout(model);
  const total = layout.reduce((sum, slice) => sum + slice.size, 0);
  if (flat.length !== total) {
    throw new FlatWeightsError(
      'length-mismatch',
      `flat vector of ${flat.length} values for a model of ${total} parameters`,
    );
  }
  for (let i = 0; i < flat.length; i++) {
    if (!Number.isFinite(flat[i])) {
      throw new FlatWeightsError('non-finite', `entry ${i} is ${flat[i]}`);
    }
  }
  const weights = model.trainableWeights;
  tf.tidy(() => {
    layout.forEach((slice, i) => {
      weights[i].write(
        tf.tensor(flat.slice(slice.offset, slice.offset + slice.size), [...slice.shape]),
      );
    });
  });
}
