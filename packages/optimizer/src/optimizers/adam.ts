import type { SparseVector } from '../sparse-vector.js';
import { requireDecay, requireEpsilon, requireLearningRate } from './config-checks.js';
import { OptimizerBase } from './optimizer-base.js';
import { denseUpdate } from './step-arguments.js';

/** Configuration of {@link AdamOptimizer}. */
export interface AdamConfig {
  /** Discriminant. */
  readonly kind: 'adam';
  /** eta > 0 (the paper's alpha; 0.001 there). */
  readonly learningRate: number;
  /** beta1 in [0, 1) (0.9 in the paper). */
  readonly beta1: number;
  /** beta2 in [0, 1) (0.999 in the paper). */
  readonly beta2: number;
  /** epsilon > 0 (1e-8 in the paper). */
  readonly epsilon: number;
}

/**
 * Adam (Kingma & Ba 2015, Algorithm 1, with bias correction). At step t
 * (1-based) with update d:
 *
 *   m <- b1 m + (1 - b1) d
 *   v <- b2 v + (1 - b2) d^2
 *   mhat = m / (1 - b1^t),  vhat = v / (1 - b2^t)
 *   w <- w - eta * mhat / (sqrt(vhat) + eps)
 *
 * A sparse d is expanded (the moments decay at every coordinate).
 * State: buffers `firstMoment` (m) and `secondMoment` (v), and t.
 */
export class AdamOptimizer extends OptimizerBase {
  /** The rule. */
  readonly kind = 'adam';
  /** The validated configuration. */
  readonly config: AdamConfig;

  /**
   * @param config - see {@link AdamConfig}.
   * @param parameterCount - P.
   * @throws {@link OptimizerError} `invalid-config`.
   */
  constructor(config: AdamConfig, parameterCount: number) {
    requireLearningRate(config.learningRate);
    requireDecay('beta1', config.beta1);
    requireDecay('beta2', config.beta2);
    requireEpsilon(config.epsilon);
    super(parameterCount, ['firstMoment', 'secondMoment']);
    this.config = { ...config };
  }

  /** One step of Algorithm 1; the moments are read back after rounding, as PyTorch's float32 state would be. */
  protected applyStep(weights: Float32Array, update: Float32Array | SparseVector, t: number): void {
    const d = denseUpdate(update);
    const m = this.buffers.firstMoment;
    const v = this.buffers.secondMoment;
    const { learningRate: eta, beta1, beta2, epsilon } = this.config;
    const firstCorrection = 1 - beta1 ** t;
    const secondCorrection = 1 - beta2 ** t;
    for (let i = 0; i < weights.length; i++) {
      const g = d[i];
      m[i] = beta1 * m[i] + (1 - beta1) * g;
      v[i] = beta2 * v[i] + (1 - beta2) * g * g;
      weights[i] -=
        (eta * (m[i] / firstCorrection)) / (Math.sqrt(v[i] / secondCorrection) + epsilon);
    }
  }
}
