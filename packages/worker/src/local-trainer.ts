import * as tf from '@tensorflow/tfjs';
import {
  softmaxCrossEntropyPerExample,
  trainableVariables,
  type Batch,
  type ParameterSlice,
} from '@vtrain/ml';
import type { WorkerOptimizerConfig } from '@vtrain/optimizer';

/** What {@link LocalTrainer.run} read back: the one readback of an update's local steps. */
export interface LocalStepsReadback {
  /**
   * u = global - local_H, length P, in `parameterLayout` order (a fresh array the caller
   * owns). Only meaningful when `finite` is true.
   */
  readonly delta: Float32Array;
  /** The H batch losses, in nats, in step order. */
  readonly losses: Float32Array;
  /**
   * Whether every loss and every entry of the delta is finite. When false the trainer
   * is back where it was before the call: the model at the global weights, the
   * optimizer state (Adam's moments and step count) as it was.
   */
  readonly finite: boolean;
}

/**
 * The tfjs side of a worker's local steps: the model's own variables are the local
 * model, a second set of non-trainable variables (`base`) holds the global weights, and
 * the worker optimizer's state lives in variables too, so H local steps run without any
 * readback and without JS touching the weights:
 *
 *   local_0 = global;  local_h = opt.step(local_{h-1}, grad L(local_{h-1}; batch_h))
 *   readback: [global - local_H (P values), L_1 .. L_H]    (one `await data()`)
 *
 * after which the model is at the global weights again. The rules are those of the JS
 * worker optimizers of `@vtrain/optimizer` (the same formulas in float32 tfjs ops, so the
 * delta equals theirs within float32 rounding):
 *
 *   SGD:  w <- w - eta * g
 *   Adam: m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;
 *         w <- w - eta * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
 *
 * with t counted across updates and the moments kept across updates, as the JS engine
 * kept its optimizer (docs/algorithms.md#local-sgd-and-lupa).
 *
 * Weights from the coordinator reach the variables in place: {@link LocalTrainer.setBase}
 * uploads a dense vector once; {@link LocalTrainer.patchBase} uploads again only the
 * weight tensors a patch touches (an assignment, so the result equals a full rebuild bit
 * for bit).
 *
 * Why on the backend: the JS path read the gradient back at every local step, ran the
 * optimizer on the flat vector in JS and wrote all P weights back to the model before
 * the next step; on WebGPU each of those is a GPU-CPU round trip, and on wasm the copies
 * and the JS Adam pass cost a quarter of a step (docs/benchmarks.md, worker overhead).
 */
export class LocalTrainer {
  private readonly variables: tf.Variable[];
  private readonly base: tf.Variable[];
  private readonly firstMoment: tf.Variable[] = [];
  private readonly secondMoment: tf.Variable[] = [];
  private adamSteps = 0;
  private disposed = false;

  /**
   * @param model - the model whose variables are trained; the caller keeps it (and disposes it).
   * @param layout - `parameterLayout(model)`.
   * @param config - the validated worker optimizer (`createWorkerOptimizer` checks it).
   */
  constructor(
    private readonly model: tf.LayersModel,
    private readonly layout: readonly ParameterSlice[],
    private readonly config: WorkerOptimizerConfig,
  ) {
    this.variables = trainableVariables(model);
    // The base starts as the model's own weights; setBase replaces them.
    this.base = this.variables.map((variable) => tf.variable(variable, false));
    if (config.kind === 'adam') {
      for (const variable of this.variables) {
        // tf.variable does not take its initial tensor over: the zeros are disposed here.
        const zeros = tf.zerosLike(variable);
        this.firstMoment.push(tf.variable(zeros, false));
        this.secondMoment.push(tf.variable(zeros, false));
        zeros.dispose();
      }
    }
  }

  /**
   * The global weights and the model become `flat` (length P, checked by the caller):
   * one upload per weight tensor, shared by the base and the model's variable.
   */
  setBase(flat: Float32Array): void {
    for (let i = 0; i < this.layout.length; i++) this.uploadBase(i, flat);
  }

  /**
   * The base and the model become `global` (length P, already patched by the caller)
   * wherever `indices` (strictly increasing, in range) touch: each weight tensor with a
   * touched coordinate is uploaded again from `global`, the others stay as they are.
   *
   * Why whole tensors and not a scatter of the touched coordinates: every backend's
   * `tensorScatterUpdate` writes a new tensor of the full size anyway, WebGL's shader
   * loops over all updates for every output element (O(size x count): 2.4 s per step on
   * this machine's software GL), and WebGL and WebGPU compile a program per distinct
   * update count. An upload of the tensor is one copy, the same on every backend.
   */
  patchBase(indices: Uint32Array | readonly number[], global: Float32Array): void {
    let j = 0;
    this.layout.forEach((slice, i) => {
      const end = slice.offset + slice.size;
      const from = j;
      while (j < indices.length && indices[j] < end) j++;
      if (j > from) this.uploadBase(i, global);
    });
  }

  /** Weight tensor `i` of the base and of the model becomes its slice of `flat`. */
  private uploadBase(i: number, flat: Float32Array): void {
    const slice = this.layout[i];
    // slice() copies: the cpu backend would otherwise keep the caller's array.
    const value = tf.tensor(flat.slice(slice.offset, slice.offset + slice.size), [...slice.shape]);
    this.base[i].assign(value);
    this.variables[i].assign(value);
    value.dispose();
  }

  /**
   * Runs H local steps from the global weights on the batches `nextBatch` gives (each
   * disposed after its step is dispatched, so the next one is filled while a GPU backend
   * still runs the step), reads back the delta and the losses once, and puts the model
   * back at the global weights. Nothing is awaited between steps: on WebGL and WebGPU the
   * H steps are queued back to back.
   *
   * @param steps - H >= 1 (checked by the caller).
   * @param nextBatch - the sampler; its errors propagate (the trainer is reset first).
   */
  async run(steps: number, nextBatch: () => Batch): Promise<LocalStepsReadback> {
    this.assertUsable();
    const stepsBefore = this.adamSteps;
    // Old moment tensors stay alive (refcounted, no copy) until the readback says the
    // steps were finite; assign only swaps which data a variable points to.
    const momentsBefore = [...this.firstMoment, ...this.secondMoment].map((m) => tf.clone(m));
    const losses: tf.Scalar[] = [];
    let packed: tf.Tensor | undefined;
    let finite = false;
    try {
      for (let step = 0; step < steps; step++) {
        const batch = nextBatch();
        try {
          losses.push(this.step(batch));
        } finally {
          batch.dispose();
        }
      }
      packed = tf.tidy(() =>
        tf.concat([
          ...this.variables.map((variable, i) => tf.sub(this.base[i], variable).reshape([-1])),
          tf.stack(losses),
        ]),
      );
      const values = (await packed.data()) as Float32Array;
      const parameters = values.length - steps;
      finite = values.every((value) => Number.isFinite(value));
      return {
        delta: values.slice(0, parameters),
        losses: values.slice(parameters),
        finite,
      };
    } finally {
      tf.dispose(losses);
      packed?.dispose();
      this.resetModel();
      if (!finite) {
        // A diverged or failed update leaves no trace in the optimizer state.
        const moments = [...this.firstMoment, ...this.secondMoment];
        moments.forEach((m, i) => {
          m.assign(momentsBefore[i]);
        });
        this.adamSteps = stepsBefore;
      }
      tf.dispose(momentsBefore);
    }
  }

  /** Disposes the base weights and the optimizer state (the model stays the caller's). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    tf.dispose([...this.base, ...this.firstMoment, ...this.secondMoment]);
  }

  /** The model's variables point at the global weights again (no copy). */
  private resetModel(): void {
    this.variables.forEach((variable, i) => {
      variable.assign(this.base[i]);
    });
  }

  /** One local step on `batch`, dispatched, not awaited; returns the batch loss (kept). */
  private step(batch: Batch): tf.Scalar {
    const { model, variables, config } = this;
    return tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => {
        const logits = model.apply(batch.xs, { training: true }) as tf.Tensor;
        return tf.mean<tf.Scalar>(softmaxCrossEntropyPerExample(logits, batch.ys));
      }, variables);
      if (config.kind === 'sgd') {
        const eta = tf.scalar(config.learningRate);
        for (const variable of variables) {
          variable.assign(tf.sub(variable, tf.mul(eta, grads[variable.name])));
        }
      } else {
        const t = ++this.adamSteps;
        const { learningRate, beta1, beta2, epsilon } = config;
        // The bias corrections in double, as the JS optimizer computes them, then float32.
        const b1 = tf.scalar(beta1);
        const oneMinusB1 = tf.scalar(1 - beta1);
        const b2 = tf.scalar(beta2);
        const oneMinusB2 = tf.scalar(1 - beta2);
        const firstCorrection = tf.scalar(1 - beta1 ** t);
        const secondCorrection = tf.scalar(1 - beta2 ** t);
        const eta = tf.scalar(learningRate);
        const eps = tf.scalar(epsilon);
        variables.forEach((variable, i) => {
          const g = grads[variable.name];
          const m = tf.add(tf.mul(b1, this.firstMoment[i]), tf.mul(oneMinusB1, g));
          const v = tf.add(tf.mul(b2, this.secondMoment[i]), tf.mul(oneMinusB2, tf.mul(g, g)));
          const stepSize = tf.div(
            tf.mul(eta, tf.div(m, firstCorrection)),
            tf.add(tf.sqrt(tf.div(v, secondCorrection)), eps),
          );
          this.firstMoment[i].assign(m);
          this.secondMoment[i].assign(v);
          variable.assign(tf.sub(variable, stepSize));
        });
      }
      return value;
    });
  }

  private assertUsable(): void {
    if (this.disposed) throw new Error('the local trainer was disposed');
  }
}
