import type * as tf from '@tensorflow/tfjs';
import {
  BatchSampler,
  computeGradient,
  FlatWeightsError,
  modelExampleShape,
  parameterLayout,
  writeFlatWeights,
  type Dataset,
  type GradientResult,
  type ParameterSlice,
} from '@vtrain/ml';
import {
  createWorkerOptimizer,
  ErrorFeedback,
  ErrorFeedbackError,
  InvalidSparseVectorError,
  OptimizerError,
  topKCount,
  validateSparseVector,
  type Optimizer,
  type SparseVector,
} from '@vtrain/optimizer';
import { encodeSparseUpdate, type Assignment, type SparseValueFormat } from '@vtrain/protocol';
import { EngineError } from './engine-error.js';

/** What a {@link TrainingEngine} is built from. */
export interface TrainingEngineOptions {
  /** The run's assignment: batch size, worker optimizer, compression, parameter count. */
  readonly assignment: Assignment;
  /** The worker's decoded shard (`decodeShard`). */
  readonly dataset: Dataset;
  /**
   * The run's model, built by the caller (`buildModel`); the engine owns it from
   * now on and disposes it in {@link TrainingEngine.dispose}.
   */
  readonly model: tf.LayersModel;
  /** Uniform source in [0, 1): seeds the batch order and drives top-k's sampling. */
  readonly random: () => number;
}

/** One compressed update, ready to become an `UpdatePush`. */
export interface ComputedUpdate {
  /** The sparse-update codec bytes of top_k(r + u), exactly k entries. */
  readonly payload: Uint8Array<ArrayBuffer>;
  /** The global version u was computed from (staleness = current - baseVersion). */
  readonly baseVersion: number;
  /** Local steps H behind the update. */
  readonly steps: number;
  /** Examples behind it: H * batchSize. */
  readonly samples: number;
  /** Mean batch loss over the H steps, (1/H) sum_h L_h, in nats. */
  readonly trainLoss: number;
  /** Wall time of the whole computation (gradients, steps, top-k, encoding), in ms. */
  readonly computeMs: number;
}

/** Milliseconds from a monotonic clock; `performance` exists in Node, tabs and Web Workers. */
function nowMs(): number {
  return performance.now();
}

/**
 * The training work of a worker, with no sockets: holds the global model at
 * `version` (bit-identical to the coordinator's), computes compressed updates
 * from it, and takes the coordinator's weights back.
 *
 * An update (docs/algorithms.md#top-k-with-error-feedback, docs/algorithms.md#local-sgd-and-lupa):
 *
 *   local_0 = global;  local_h = opt.step(local_{h-1}, grad L(local_{h-1}; batch_h)),  h = 1..H
 *   u = global - local_H                       (the descent direction the server subtracts)
 *   sent = top_k(r + u),  r <- r + u - sent    (ErrorFeedback, Stich et al. 2018, Algorithm 1)
 *   k = topKCount(density, P) = ceil(density * P)
 *
 * With H = 1 and SGD this is u = eta * g; the engine then computes u = eta * g
 * directly (a = r + eta * g, docs/algorithms.md#top-k-with-error-feedback), which is what
 * global - (global - eta * g) equals up to float32 rounding, so that
 * `densify(sent) + r_new == r_old + eta * g` holds bit for bit.
 *
 * State kept across updates, by choice: the error-feedback residual r (the
 * point of error feedback) and the worker optimizer's state (Adam's moments and
 * step count, as the LUPA code keeps them across rounds); both start at zero for
 * a new engine, i.e. a new run. The batch order continues across updates.
 *
 * tfjs WebGPU care (docs/architecture.md#tfjs-pitfalls-the-engine-avoids): one `await data()`
 * readback per local step (inside
 * `computeGradient`), no `dataSync`, a fixed k per run so the sparse buffers
 * keep one size, and every tensor disposed (the batch after each step).
 */
export class TrainingEngine {
  /** P, the length of the flat parameter vector. */
  readonly parameterCount: number;
  /** Entries sent per update: topKCount(density, P), fixed for the run (the coordinator uses the same). */
  readonly k: number;
  /** Where each weight tensor lives in the flat vector; the dense wire format follows it. */
  readonly layout: readonly ParameterSlice[];
  /** Examples per local step. */
  readonly batchSize: number;
  /** The run's assignment. */
  readonly assignment: Assignment;

  private readonly model: tf.LayersModel;
  private readonly sampler: BatchSampler;
  private readonly optimizer: Optimizer;
  private readonly errorFeedback: ErrorFeedback;
  private readonly random: () => number;
  private readonly valueFormat: SparseValueFormat;
  private readonly learningRate: number;
  private readonly globalWeights: Float32Array;
  private readonly localWeights: Float32Array;
  private readonly updateVector: Float32Array;
  private currentVersion: number | undefined;
  private busy = false;
  private disposed = false;

  /**
   * @param options - see {@link TrainingEngineOptions}.
   * @throws {@link EngineError} `parameter-count-mismatch` when the model's P differs from
   *   `assignment.parameterCount`, `dataset-mismatch` when the shard is of another data set;
   *   the model's input shape and the shard are checked by `BatchSampler` (`BatcherError`),
   *   the worker optimizer config by `createWorkerOptimizer` (`OptimizerError`).
   */
  constructor(options: TrainingEngineOptions) {
    const { assignment, dataset, model, random } = options;
    const layout = parameterLayout(model);
    const count = layout.reduce((sum, slice) => sum + slice.size, 0);
    if (count !== assignment.parameterCount) {
      throw new EngineError(
        'parameter-count-mismatch',
        `the model has ${count} parameters, the assignment says ${assignment.parameterCount}`,
      );
    }
    if (dataset.info.name !== assignment.dataset.name) {
      throw new EngineError(
        'dataset-mismatch',
        `shard of ${dataset.info.name}, run on ${assignment.dataset.name}`,
      );
    }
    this.assignment = assignment;
    this.model = model;
    this.layout = layout;
    this.parameterCount = count;
    this.random = random;
    this.batchSize = assignment.training.batchSize;
    this.k = topKCount(assignment.compression.density, count);
    this.valueFormat = assignment.compression.valueFormat;
    this.learningRate = assignment.training.workerOptimizer.learningRate;
    this.optimizer = createWorkerOptimizer(assignment.training.workerOptimizer, count);
    this.errorFeedback = new ErrorFeedback(count, {
      enabled: assignment.compression.errorFeedback,
    });
    // Each worker draws its own batch order, so two workers on one shard do not
    // compute the same gradients. `>>> 0` keeps a misbehaving source in range.
    this.sampler = new BatchSampler(dataset, {
      seed: Math.floor(random() * 2 ** 32) >>> 0,
      exampleShape: modelExampleShape(model, dataset.info),
    });
    this.globalWeights = new Float32Array(count);
    this.localWeights = new Float32Array(count);
    this.updateVector = new Float32Array(count);
  }

  /** The version of {@link TrainingEngine.global}, or undefined before the first weights arrive. */
  get version(): number | undefined {
    return this.currentVersion;
  }

  /**
   * The global weights at {@link TrainingEngine.version}, exactly the coordinator's. A live
   * view: read it, never write it (the model would no longer match).
   */
  get global(): Float32Array {
    return this.globalWeights;
  }

  /** A copy of the error-feedback residual r (what was computed but not yet sent). */
  residualSnapshot(): Float32Array {
    return this.errorFeedback.residual.slice();
  }

  /**
   * Adopts the full global weights at `version` (a dense pull): global = flat, then the
   * model is written.
   *
   * @param flat - length P, finite; copied.
   * @param version - the coordinator's version of these weights.
   * @throws {@link EngineError} `length-mismatch`, `non-finite`, `invalid-version`, `busy`,
   *   `disposed`; nothing changes on throw.
   */
  setWeights(flat: Float32Array, version: number): void {
    this.assertIdle();
    assertVersion(version, 'version');
    if (flat.length !== this.parameterCount) {
      throw new EngineError(
        'length-mismatch',
        `${flat.length} values for a model of ${this.parameterCount} parameters`,
      );
    }
    for (let i = 0; i < flat.length; i++) {
      if (!Number.isFinite(flat[i]))
        throw new EngineError('non-finite', `weight ${i} is ${flat[i]}`);
    }
    this.globalWeights.set(flat);
    this.writeModel(this.globalWeights);
    this.currentVersion = version;
  }

  /**
   * Moves the global weights from `fromVersion` to `toVersion` with a patch of NEW values:
   * global[indices[j]] = values[j] (assignment, not addition, so the copy stays bit-identical
   * to the coordinator's), then writes the model.
   *
   * @param patch - the changed coordinates and their new values (sparse-patch weights).
   * @param fromVersion - the version the patch starts from; must equal {@link TrainingEngine.version}.
   * @param toVersion - the version it brings the weights to, >= fromVersion.
   * @throws {@link EngineError} `version-mismatch` (pull dense instead), `no-weights`,
   *   `invalid-version`, `length-mismatch`, `invalid-patch`, `busy`, `disposed`; nothing
   *   changes on throw.
   */
  applyPatch(patch: SparseVector, fromVersion: number, toVersion: number): void {
    this.assertIdle();
    assertVersion(fromVersion, 'fromVersion');
    assertVersion(toVersion, 'toVersion');
    if (toVersion < fromVersion) {
      throw new EngineError('invalid-version', `patch from ${fromVersion} back to ${toVersion}`);
    }
    if (this.currentVersion === undefined) {
      throw new EngineError('no-weights', `a patch from ${fromVersion} needs a base`);
    }
    if (fromVersion !== this.currentVersion) {
      throw new EngineError(
        'version-mismatch',
        `the patch starts at ${fromVersion}, the engine holds ${this.currentVersion}`,
      );
    }
    if (patch.length !== this.parameterCount) {
      throw new EngineError(
        'length-mismatch',
        `patch of dimension ${patch.length} for ${this.parameterCount} parameters`,
      );
    }
    try {
      validateSparseVector(patch);
    } catch (error) {
      if (!(error instanceof InvalidSparseVectorError)) throw error;
      throw new EngineError('invalid-patch', error.message, { cause: error });
    }
    const { indices, values } = patch;
    for (let j = 0; j < indices.length; j++) this.globalWeights[indices[j]] = values[j];
    this.writeModel(this.globalWeights);
    this.currentVersion = toVersion;
  }

  /**
   * Computes one compressed update from the global weights (see the class comment for the
   * formulas) and leaves the model at the global weights again.
   *
   * @param localSteps - H >= 1: 1 is one gradient per update, more is local SGD.
   * @throws {@link EngineError} `invalid-local-steps`, `no-weights`, `non-finite` (the local
   *   model diverged; the residual, global weights and model are unchanged), `busy`, `disposed`.
   */
  async computeUpdate(localSteps: number): Promise<ComputedUpdate> {
    this.assertIdle();
    if (!Number.isInteger(localSteps) || localSteps < 1) {
      throw new EngineError('invalid-local-steps', `got ${localSteps}`);
    }
    const baseVersion = this.currentVersion;
    if (baseVersion === undefined) throw new EngineError('no-weights', 'computeUpdate');
    const global = this.globalWeights;
    const local = this.localWeights;
    const update = this.updateVector;
    const gradientMode = localSteps === 1 && this.optimizer.kind === 'sgd';
    const started = nowMs();
    this.busy = true;
    let modelMoved = false;
    try {
      local.set(global);
      let lossSum = 0;
      for (let step = 1; step <= localSteps; step++) {
        const { loss, gradient } = await this.gradientOnNextBatch();
        if (!Number.isFinite(loss)) {
          throw new EngineError('non-finite', `batch loss ${loss} at local step ${step}`);
        }
        lossSum += loss;
        if (gradientMode) {
          const eta = this.learningRate;
          for (let i = 0; i < update.length; i++) update[i] = eta * gradient[i];
          continue;
        }
        this.optimizerStep(local, gradient, step);
        // The last local model is only needed as numbers, never in the model.
        if (step < localSteps) {
          modelMoved = true;
          this.writeModel(local);
        }
      }
      if (!gradientMode) {
        for (let i = 0; i < update.length; i++) update[i] = global[i] - local[i];
      }
      const sent = this.compress(update);
      // The codec returns a fresh array spanning its own ArrayBuffer (never a shared one),
      // which is what the wire schema's byte type states.
      const payload = encodeSparseUpdate(sent, {
        valueFormat: this.valueFormat,
      }) as Uint8Array<ArrayBuffer>;
      return {
        payload,
        baseVersion,
        steps: localSteps,
        samples: localSteps * this.batchSize,
        trainLoss: lossSum / localSteps,
        computeMs: nowMs() - started,
      };
    } finally {
      if (modelMoved) this.writeModel(global);
      this.busy = false;
    }
  }

  /** Disposes the model (and with it its weight variables); the engine is unusable after. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.model.dispose();
  }

  private async gradientOnNextBatch(): Promise<GradientResult> {
    const batch = this.sampler.nextBatch(this.batchSize);
    try {
      return await computeGradient(this.model, batch);
    } finally {
      batch.dispose();
    }
  }

  private optimizerStep(local: Float32Array, gradient: Float32Array, step: number): void {
    try {
      this.optimizer.step(local, gradient);
    } catch (error) {
      if (error instanceof OptimizerError && error.code === 'non-finite') {
        throw new EngineError('non-finite', `local step ${step}: ${error.message}`, {
          cause: error,
        });
      }
      throw error;
    }
  }

  private compress(update: Float32Array): SparseVector {
    try {
      return this.errorFeedback.compress(update, this.k, this.random);
    } catch (error) {
      if (error instanceof ErrorFeedbackError && error.code === 'non-finite') {
        throw new EngineError('non-finite', error.message, { cause: error });
      }
      throw error;
    }
  }

  private writeModel(flat: Float32Array): void {
    try {
      writeFlatWeights(this.model, flat);
    } catch (error) {
      if (error instanceof FlatWeightsError && error.code === 'non-finite') {
        throw new EngineError('non-finite', error.message, { cause: error });
      }
      throw error;
    }
  }

  private assertIdle(): void {
    if (this.disposed) throw new EngineError('disposed', 'the engine was disposed');
    if (this.busy) throw new EngineError('busy', 'computeUpdate is still running');
  }
}

function assertVersion(version: number, name: string): void {
  if (!Number.isSafeInteger(version) || version < 0) {
    throw new EngineError('invalid-version', `${name} = ${version}`);
  }
}
