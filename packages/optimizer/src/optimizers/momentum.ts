import type { SparseVector } from '../sparse-vector.js';
import { requireDecay, requireLearningRate } from './config-checks.js';
import { OptimizerBase } from './optimizer-base.js';
import { denseUpdate } from './step-arguments.js';

/** Configuration of heavy-ball momentum ({@link MomentumOptimizer}). */
export interface MomentumConfig {
  /** Discriminant. */
  readonly kind: 'momentum';
  /** eta > 0. */
  readonly learningRate: number;
  /** mu in [0, 1). */
  readonly momentum: number;
}

/** Configuration of Nesterov momentum ({@link MomentumOptimizer}), DiLoCo's outer optimizer. */
export interface NesterovConfig {
  /** Discriminant. */
  readonly kind: 'nesterov';
  /** eta > 0 (DiLoCo uses 0.7 on the averaged deltas). */
  readonly learningRate: number;
  /** mu in [0, 1) (DiLoCo uses 0.9). */
  readonly momentum: number;
}

/**
 * Momentum in PyTorch's `torch.optim.SGD` convention (no dampening), with
 * buffer m (zeros at start) and update d:
 *
 *   m <- mu * m + d
 *   heavy ball: w <- w - eta * m
 *   Nesterov:   w <- w - eta * (d + mu * m)     (using the new m)
 *
 * Nesterov on averaged model deltas is the outer optimizer of DiLoCo
 * (Douillard et al. 2023). A sparse d is expanded: m decays at every coordinate.
 * State: buffer `momentum`.
 */
export class MomentumOptimizer extends OptimizerBase {
  /** The rule. */
  readonly kind: 'momentum' | 'nesterov';
  /** eta. */
  readonly learningRate: number;
  /** mu. */
  readonly momentum: number;

  /**
   * @param config - see {@link MomentumConfig} and {@link NesterovConfig}.
   * @param parameterCount - P.
   * @throws {@link OptimizerError} `invalid-config`.
   */
  constructor(config: MomentumConfig | NesterovConfig, parameterCount: number) {
    requireLearningRate(config.learningRate);
    requireDecay('momentum', config.momentum);
    super(parameterCount, ['momentum']);
    this.kind = config.kind;
    this.learningRate = config.learningRate;
    this.momentum = config.momentum;
  }

  /** One step of the rule above; m is read back after rounding so a restored checkpoint continues bit for bit. */
  protected applyStep(weights: Float32Array, update: Float32Array | SparseVector): void {
    const d = denseUpdate(update);
    const m = this.buffers.momentum;
    const { learningRate: eta, momentum: mu } = this;
    const nesterov = this.kind === 'nesterov';
    for (let i = 0; i < weights.length; i++) {
      m[i] = mu * m[i] + d[i];
      weights[i] -= eta * (nesterov ? d[i] + mu * m[i] : m[i]);
    }
  }
}
