import type { ParameterSlice } from '@vtrain/ml';
import {
  decodeDenseWeights,
  decodeSparseUpdate,
  type DenseWeights,
  type Weights,
} from '@vtrain/protocol';
import type { TrainingEngine } from './engine.js';

/** Reasons a {@link WeightsLayoutError} is thrown. */
export type WeightsLayoutErrorCode = 'tensor-count' | 'name-mismatch' | 'shape-mismatch';

/**
 * Thrown when dense weights from the coordinator do not describe the worker's
 * model: the two built different models, which no amount of retrying fixes.
 */
export class WeightsLayoutError extends Error {
  override readonly name = 'WeightsLayoutError';
  /** Which check failed. */
  readonly code: WeightsLayoutErrorCode;

  /**
   * @param code - which check failed.
   * @param message - the tensors involved.
   */
  constructor(code: WeightsLayoutErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.code = code;
  }
}

/**
 * Concatenates decoded dense weights into the flat vector of `layout`
 * (`parameterLayout` order): tensor i must be named layout[i].name and have
 * layout[i].shape, and lands at [offset_i, offset_i + size_i).
 *
 * @returns a new Float32Array of length sum(size_i).
 * @throws {@link WeightsLayoutError} `tensor-count`, `name-mismatch` or `shape-mismatch`.
 */
export function flatWeightsFromDense(
  weights: DenseWeights,
  layout: readonly ParameterSlice[],
): Float32Array {
  const { tensors } = weights;
  if (tensors.length !== layout.length) {
    throw new WeightsLayoutError(
      'tensor-count',
      `${tensors.length} tensors received, the model has ${layout.length}`,
    );
  }
  const total = layout.reduce((sum, slice) => sum + slice.size, 0);
  const flat = new Float32Array(total);
  layout.forEach((slice, i) => {
    const tensor = tensors[i];
    if (tensor.name !== slice.name) {
      throw new WeightsLayoutError(
        'name-mismatch',
        `tensor ${i} is "${tensor.name}", the model's is "${slice.name}"`,
      );
    }
    const same =
      tensor.shape.length === slice.shape.length &&
      tensor.shape.every((dim, d) => dim === slice.shape[d]);
    if (!same) {
      throw new WeightsLayoutError(
        'shape-mismatch',
        `${slice.name}: [${tensor.shape.join(', ')}] received, [${slice.shape.join(', ')}] expected`,
      );
    }
    flat.set(tensor.data, slice.offset);
  });
  return flat;
}

/**
 * Brings the engine to the weights of a `Weights` message: dense weights are
 * decoded, checked against the engine's layout and adopted whole; a sparse patch
 * (NEW values of the coordinates changed since `fromVersion`) is decoded with
 * P as its exact length and applied on top of the engine's copy.
 *
 * @throws CodecError for malformed bytes, {@link WeightsLayoutError} for weights of
 *   another model, EngineError (`version-mismatch` when the patch starts at another
 *   version than the engine's: pull dense instead).
 */
export function applyWeightsMessage(engine: TrainingEngine, weights: Weights): void {
  const parameterCount = engine.parameterCount;
  if (weights.encoding === 'dense') {
    const decoded = decodeDenseWeights(weights.payload, {
      maxTensors: engine.layout.length,
      maxElements: parameterCount,
    });
    engine.setWeights(flatWeightsFromDense(decoded, engine.layout), weights.version);
    return;
  }
  const patch = decodeSparseUpdate(weights.payload, {
    maxLength: parameterCount,
    maxCount: parameterCount,
    expectedLength: parameterCount,
  });
  engine.applyPatch(patch, weights.fromVersion, weights.version);
}
