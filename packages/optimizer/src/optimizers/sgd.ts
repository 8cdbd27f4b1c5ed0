import type { SparseVector } from '../sparse-vector.js';
import { requireLearningRate } from './config-checks.js';
import { OptimizerBase } from './optimizer-base.js';

/** Configuration of {@link SgdOptimizer}. */
export interface SgdConfig {
  /** Discriminant. */
  readonly kind: 'sgd';
  /** eta > 0. With eta = 1 on the server, the aggregate is applied as is (plain averaging). */
  readonly learningRate: number;
}

/**
 * Plain SGD: `w <- w - eta * d`. A sparse d touches only its stored
 * coordinates, O(nnz). No state besides the step counter.
 */
export class SgdOptimizer extends OptimizerBase {
  /** The rule. */
  readonly kind = 'sgd';
  /** eta. */
  readonly learningRate: number;

  /**
   * @param config - see {@link SgdConfig}.
   * @param parameterCount - P.
   * @throws {@link OptimizerError} `invalid-config`.
   */
  constructor(config: SgdConfig, parameterCount: number) {
    requireLearningRate(config.learningRate);
    super(parameterCount, []);
    this.learningRate = config.learningRate;
  }

  /** `w_i <- w_i - eta * d_i` on the stored coordinates of d. */
  protected applyStep(weights: Float32Array, update: Float32Array | SparseVector): void {
    const eta = this.learningRate;
    if (update instanceof Float32Array) {
      for (let i = 0; i < weights.length; i++) weights[i] -= eta * update[i];
      return;
    }
    const { indices, values } = update;
    for (let j = 0; j < indices.length; j++) weights[indices[j]] -= eta * values[j];
  }
}
