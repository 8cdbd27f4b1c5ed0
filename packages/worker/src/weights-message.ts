import type { ParameterSlice } from '@vtrain/ml';
import {
  decodeDenseWeights,
  decodeSparseUpdate,
  type DenseWeights,
  type Weights,
} from '@vtrain/protocol';
import type { TrainingEngine } from './engine.js';

/**
 * Thrown when a sparse patch comes from another restart epoch than the weights
 * the worker holds: it was computed against another history (the coordinator
 * restarted from a checkpoint and reached the same version numbers with other
 * weights), so applying it would train on weights the coordinator never had.
 * Pull the dense weights instead.
 */
export class WeightsEpochError extends Error {
  override readonly name = 'WeightsEpochError';
  readonly code = 'epoch-mismatch';

  /**
   * @param held - the epoch of the worker's weights (undefined: none known).
   * @param patch - the patch's epoch.
   */
  constructor(held: string | undefined, patch: string) {
    super(`epoch-mismatch: a patch of epoch ${patch} on weights of epoch ${held ?? '(unknown)'}`);
  }
}

/**
 * The restart epoch of each engine's weights: set by dense weights, kept by the
 * patches applied on them. Absent for version 0 built from the seed (the same in
 * every epoch) and before any weights arrived.
 */
const epochs = new WeakMap<TrainingEngine, string>();

/** The epoch of the weights `engine` holds (see {@link WeightsEpochError}), for a pull's `haveEpoch`. */
export function weightsEpoch(engine: TrainingEngine): string | undefined {
  return epochs.get(engine);
}

/** Marks the engine's weights as version 0 built from the seed: patches of any epoch apply. */
export function forgetWeightsEpoch(engine: TrainingEngine): void {
  epochs.delete(engine);
}

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
 * (NEW values of the coordinates changed since `fromVersion`) or step (their
 * differences) is decoded with P as its exact length and applied on top of the
 * engine's copy, only when the copy is of the patch's restart epoch (or is
 * version 0 built from the seed).
 *
 * @throws CodecError for malformed bytes, {@link WeightsLayoutError} for weights of
 *   another model, {@link WeightsEpochError} for a patch of another epoch, EngineError (`version-mismatch` when the patch starts at another
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
    epochs.set(engine, weights.epoch);
    return;
  }
  const held = epochs.get(engine);
  const fromSeed = held === undefined && weights.fromVersion === 0 && engine.version === 0;
  if (!fromSeed && held !== weights.epoch) throw new WeightsEpochError(held, weights.epoch);
  const patch = decodeSparseUpdate(weights.payload, {
    maxLength: parameterCount,
    maxCount: parameterCount,
    expectedLength: parameterCount,
  });
  const kind = weights.encoding === 'sparse-step' ? 'steps' : 'values';
  engine.applyPatch(patch, weights.fromVersion, weights.version, kind);
  epochs.set(engine, weights.epoch);
}
