import type * as tf from '@tensorflow/tfjs';
import {
  BatchSampler,
  computeGradient,
  modelExampleShape,
  parameterLayout,
  type Dataset,
  type GradientResult,
  type ParameterSlice,
} from '@vtrain/ml';
import {
  createWorkerOptimizer,
  ErrorFeedback,
  ErrorFeedbackError,
  InvalidSparseVectorError,
  topKCount,
  validateSparseVector,
  type SparseVector,
  type WorkerOptimizerConfig,
} from '@vtrain/optimizer';
import { encodeSparseUpdate, type Assignment, type SparseValueFormat } from '@vtrain/protocol';
import { EngineError } from './engine-error.js';
import { LocalTrainer } from './local-trainer.js';

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

/** Local steps computed into the engine's pending delta by {@link TrainingEngine.computeSteps}. */
export interface ComputedSteps {
  /** Local steps H of this call. */
  readonly steps: number;
  /** Examples behind them: H * batchSize. */
  readonly samples: number;
  /** Mean batch loss over the H steps, in nats. */
  readonly trainLoss: number;
  /** Wall time of the steps (gradients, optimizer steps, the readback), in ms. */
  readonly computeMs: number;
}

/** One compressed update, ready to become an `UpdatePush`. */
export interface ComputedUpdate {
  /** The sparse-update codec bytes of top_k(r + u), exactly k entries. */
  readonly payload: Uint8Array<ArrayBuffer>;
  /**
   * The entries of `payload` as float32 (before any f16 rounding of the codec): what
   * left the residual, and what {@link TrainingEngine.restore} gives back if the
   * coordinator rejects the update.
   */
  readonly sent: SparseVector;
  /**
   * The global version the update is relative to: the version the engine held when it
   * compressed (staleness = current - baseVersion). The coordinator applies w - sent to
   * its weights; they are a delta, valid from any base, and this says which one it was
   * measured against.
   */
  readonly baseVersion: number;
  /**
   * The oldest version a local step behind the update started from: baseVersion when
   * the steps were computed after the last weights arrived, lower when weights arrived
   * between computing and compressing (a pipelined worker; at most one update's steps).
   */
  readonly computedAtVersion: number;
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
 * Computing and compressing are two calls, so that a worker can overlap them with
 * the network (the session's pipeline): {@link TrainingEngine.computeSteps} adds
 * u = global - local_H of H local steps to a pending delta d (d = u exactly when d
 * was empty) without touching the residual; weights may then arrive and move
 * `global` (a patch is applied to `global` and to the model, never to d: d is local
 * progress, a direction, valid from any base); {@link TrainingEngine.compressPending}
 * then sends top_k(r + d) relative to the version held at that moment and empties d.
 * {@link TrainingEngine.computeUpdate} is the two in a row. A rejected update's sent
 * entries go back into r ({@link TrainingEngine.restore}), so nothing is lost.
 *
 * Where the work runs: the H local steps stay inside tfjs ({@link LocalTrainer}: the
 * optimizer on the model's variables, its state in variables, the global weights in a
 * second set of variables), and the delta global - local_H comes back in ONE readback per
 * computeSteps call; top-k, error feedback and encoding then run in JS on that vector.
 * H = 1 with SGD reads the gradient back instead (same single readback) and scales it in
 * JS, which keeps d = eta * g exact. Weights from the coordinator are written into the
 * variables in place: a patch uploads only its coordinates.
 *
 * tfjs WebGPU care (docs/architecture.md#tfjs-pitfalls-the-engine-avoids): one `await data()`
 * readback per computeSteps call, no `dataSync`, a fixed k per run so the sparse buffers
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
  private readonly optimizerConfig: WorkerOptimizerConfig;
  private readonly trainer: LocalTrainer;
  private readonly errorFeedback: ErrorFeedback;
  private readonly random: () => number;
  private readonly valueFormat: SparseValueFormat;
  private readonly learningRate: number;
  private readonly globalWeights: Float32Array;
  /** d: local progress computed but not yet compressed (see the class comment). */
  private readonly pendingDelta: Float32Array;
  private pending: {
    steps: number;
    lossSum: number;
    computeMs: number;
    computedAtVersion: number;
  } = { steps: 0, lossSum: 0, computeMs: 0, computedAtVersion: 0 };
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
    // Validates the config (OptimizerError `invalid-config`); the steps run in tfjs.
    createWorkerOptimizer(assignment.training.workerOptimizer, 0);
    this.optimizerConfig = assignment.training.workerOptimizer;
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
    this.pendingDelta = new Float32Array(count);
    this.trainer = new LocalTrainer(model, layout, this.optimizerConfig);
  }

  /** Local steps in the pending delta, computed but not yet compressed (0: none). */
  get pendingSteps(): number {
    return this.pending.steps;
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
    this.trainer.setBase(this.globalWeights);
    this.currentVersion = version;
  }

  /**
   * Moves the global weights from `fromVersion` to `toVersion` with a patch, and the
   * model's variables with them (the tensors it touches are uploaded again, not rebuilt):
   * - `values` (sparse-patch weights): NEW values, global[indices[j]] = values[j]
   *   (assignment, not addition, so the copy stays bit-identical to the coordinator's);
   * - `steps` (sparse-step weights): differences, global[indices[j]] = fround(global[indices[j]]
   *   + values[j]), the float32 sum the coordinator computed on the same copy, so the
   *   copy stays bit-identical too (a JS double sum of two float32 numbers rounded to
   *   float32 is the IEEE float32 sum).
   *
   * @param patch - the changed coordinates and their new values or differences.
   * @param fromVersion - the version the patch starts from; must equal {@link TrainingEngine.version}.
   * @param toVersion - the version it brings the weights to, >= fromVersion.
   * @throws {@link EngineError} `version-mismatch` (pull dense instead), `no-weights`,
   *   `invalid-version`, `length-mismatch`, `invalid-patch` (also a step whose sum is not
   *   finite), `busy`, `disposed`; nothing changes on throw.
   */
  applyPatch(
    patch: SparseVector,
    fromVersion: number,
    toVersion: number,
    kind: 'values' | 'steps' = 'values',
  ): void {
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
    const { indices } = patch;
    const values = kind === 'values' ? patch.values : this.steppedValues(patch);
    // Every value is finite here, so nothing below can fail half-way.
    for (let j = 0; j < indices.length; j++) this.globalWeights[indices[j]] = values[j];
    this.trainer.patchBase(indices, this.globalWeights);
    this.currentVersion = toVersion;
  }

  /** The new values global + step of a step patch, checked finite before anything changes. */
  private steppedValues({ indices, values: steps }: SparseVector): Float32Array {
    const values = new Float32Array(indices.length);
    for (let j = 0; j < indices.length; j++) {
      values[j] = this.globalWeights[indices[j]] + steps[j];
      if (!Number.isFinite(values[j])) {
        throw new EngineError('invalid-patch', `the step at ${indices[j]} overflows float32`);
      }
    }
    return values;
  }

  /**
   * Computes one compressed update from the global weights (see the class comment for the
   * formulas) and leaves the model at the global weights again: {@link TrainingEngine.computeSteps}
   * then {@link TrainingEngine.compressPending}. Steps already pending join this update.
   *
   * @param localSteps - H >= 1: 1 is one gradient per update, more is local SGD.
   * @throws {@link EngineError} as {@link TrainingEngine.computeSteps} and
   *   {@link TrainingEngine.compressPending}.
   */
  async computeUpdate(localSteps: number): Promise<ComputedUpdate> {
    await this.computeSteps(localSteps);
    return this.compressPending();
  }

  /**
   * Runs H local steps from the global weights and adds u = global - local_H (with H = 1
   * and SGD: u = eta * g, computed directly) to the pending delta d; d = u bit for bit
   * when d was empty. The residual and the global weights are not touched; the model is
   * at the global weights again when it returns.
   *
   * @param localSteps - H >= 1.
   * @throws {@link EngineError} `invalid-local-steps`, `no-weights`, `non-finite` (the local
   *   model diverged; d, the residual, the global weights and the model are unchanged),
   *   `busy`, `disposed`.
   */
  async computeSteps(localSteps: number): Promise<ComputedSteps> {
    this.assertIdle();
    if (!Number.isInteger(localSteps) || localSteps < 1) {
      throw new EngineError('invalid-local-steps', `got ${localSteps}`);
    }
    const baseVersion = this.currentVersion;
    if (baseVersion === undefined) throw new EngineError('no-weights', 'computeSteps');
    const gradientMode = localSteps === 1 && this.optimizerConfig.kind === 'sgd';
    const started = nowMs();
    this.busy = true;
    try {
      const delta = this.pendingDelta;
      const pending = this.pending;
      let lossSum = 0;
      if (gradientMode) {
        const { loss, gradient } = await this.gradientOnNextBatch();
        if (!Number.isFinite(loss)) {
          throw new EngineError('non-finite', `batch loss ${loss} at local step 1`);
        }
        lossSum = loss;
        // One pass: straight into d when it is empty (d = eta * g exactly), else added.
        const eta = this.learningRate;
        if (pending.steps === 0) {
          for (let i = 0; i < delta.length; i++) delta[i] = eta * gradient[i];
        } else {
          for (let i = 0; i < delta.length; i++) delta[i] += eta * gradient[i];
        }
      } else {
        const readback = await this.trainer.run(localSteps, () =>
          this.sampler.nextBatch(this.batchSize),
        );
        if (!readback.finite) {
          const bad = readback.losses.findIndex((loss) => !Number.isFinite(loss));
          throw new EngineError(
            'non-finite',
            bad >= 0
              ? `batch loss ${readback.losses[bad]} at local step ${bad + 1}`
              : `the local weights after ${localSteps} steps`,
          );
        }
        for (const loss of readback.losses) lossSum += loss;
        const update = readback.delta;
        if (pending.steps === 0) delta.set(update);
        else for (let i = 0; i < delta.length; i++) delta[i] += update[i];
      }
      if (pending.steps === 0) pending.computedAtVersion = baseVersion;
      const computeMs = nowMs() - started;
      pending.steps += localSteps;
      pending.lossSum += lossSum;
      pending.computeMs += computeMs;
      return {
        steps: localSteps,
        samples: localSteps * this.batchSize,
        trainLoss: lossSum / localSteps,
        computeMs,
      };
    } finally {
      this.busy = false;
    }
  }

  /**
   * Compresses the pending delta: sent = top_k(r + d), r <- r + d - sent (error feedback),
   * d <- 0, relative to the version held now. `densify(sent) + r_new == r_old + d` bit for
   * bit (up to the sign of a zero).
   *
   * @throws {@link EngineError} `nothing-pending` (no steps computed since the last call),
   *   `non-finite` (r + d is not finite: r is unchanged, d is dropped), `busy`, `disposed`.
   */
  compressPending(): ComputedUpdate {
    this.assertIdle();
    const pending = this.pending;
    if (pending.steps === 0) throw new EngineError('nothing-pending', 'compressPending');
    const baseVersion = this.currentVersion;
    // computeSteps needs weights, so a pending delta implies a version.
    if (baseVersion === undefined) throw new EngineError('no-weights', 'compressPending');
    const started = nowMs();
    let sent: SparseVector;
    try {
      sent = this.compress(this.pendingDelta);
    } catch (error) {
      // A delta that overflowed would fail every later compress too: it is dropped (the
      // residual is unchanged; the next steps start a new one).
      if (error instanceof EngineError && error.code === 'non-finite') this.dropPending();
      throw error;
    }
    // The codec returns a fresh array spanning its own ArrayBuffer (never a shared one),
    // which is what the wire schema's byte type states.
    const payload = encodeSparseUpdate(sent, {
      valueFormat: this.valueFormat,
    }) as Uint8Array<ArrayBuffer>;
    this.dropPending();
    return {
      payload,
      sent,
      baseVersion,
      computedAtVersion: pending.computedAtVersion,
      steps: pending.steps,
      samples: pending.steps * this.batchSize,
      trainLoss: pending.lossSum / pending.steps,
      computeMs: pending.computeMs + (nowMs() - started),
    };
  }

  /**
   * Gives the entries of a rejected update back to the residual (r[i] += sent[i]), so
   * their mass is sent later instead of lost. When no compress ran since the one that
   * produced `sent` (the session's pipeline guarantees it: it compresses the next update
   * only after the previous one's verdict), `r_after == r_before_compress + d` bit for bit.
   *
   * @param sent - {@link ComputedUpdate.sent} of an update of this engine.
   * @throws {@link EngineError} `invalid-patch` (not a sparse vector of length P, or a sum
   *   that overflows), `disposed`; the residual is unchanged on throw.
   */
  restore(sent: SparseVector): void {
    if (this.disposed) throw new EngineError('disposed', 'the engine was disposed');
    try {
      this.errorFeedback.restore(sent);
    } catch (error) {
      if (!(error instanceof ErrorFeedbackError)) throw error;
      throw new EngineError('invalid-patch', error.message, { cause: error });
    }
  }

  private dropPending(): void {
    this.pendingDelta.fill(0);
    this.pending = { steps: 0, lossSum: 0, computeMs: 0, computedAtVersion: 0 };
  }

  /** Disposes the model (and with it its weight variables) and the trainer's; the engine is unusable after. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.trainer.dispose();
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
