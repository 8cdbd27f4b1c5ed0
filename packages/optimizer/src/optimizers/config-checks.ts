import { OptimizerError } from './optimizer-error.js';

/**
 * Requires a finite learning rate > 0.
 *
 * @param learningRate - eta.
 * @throws {@link OptimizerError} `invalid-config`.
 */
export function requireLearningRate(learningRate: number): void {
  if (!(Number.isFinite(learningRate) && learningRate > 0)) {
    throw new OptimizerError(
      'invalid-config',
      `learningRate must be finite and > 0, got ${learningRate}`,
    );
  }
}

/**
 * Requires a decay coefficient in [0, 1) (momentum mu, Adam's beta1 and beta2):
 * 1 would never forget, and Adam's bias correction 1 - beta^t would be 0.
 *
 * @param name - the config field, for the message.
 * @param value - the coefficient.
 * @throws {@link OptimizerError} `invalid-config`.
 */
export function requireDecay(name: string, value: number): void {
  if (!(value >= 0 && value < 1)) {
    throw new OptimizerError('invalid-config', `${name} must be in [0, 1), got ${value}`);
  }
}

/**
 * Requires a finite epsilon > 0 (Adam's denominator guard).
 *
 * @param epsilon - eps.
 * @throws {@link OptimizerError} `invalid-config`.
 */
export function requireEpsilon(epsilon: number): void {
  if (!(Number.isFinite(epsilon) && epsilon > 0)) {
    throw new OptimizerError('invalid-config', `epsilon must be finite and > 0, got ${epsilon}`);
  }
}
