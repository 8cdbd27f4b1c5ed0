import type { AdamConfig } from './adam.js';
import { AdamOptimizer } from './adam.js';
import type { Optimizer } from './optimizer.js';
import { OptimizerError } from './optimizer-error.js';
import type { SgdConfig } from './sgd.js';
import { SgdOptimizer } from './sgd.js';

/**
 * The optimizer a worker uses for its local steps on the flat parameter vector
 * (local SGD, docs/algorithms.md#local-sgd-and-lupa), as named in the wire run-config schema.
 * The rules are the same as the server's ({@link SgdOptimizer}, {@link AdamOptimizer}).
 */
export type WorkerOptimizerConfig = SgdConfig | AdamConfig;

/**
 * Builds a worker optimizer for P parameters, state at zero. Feed it gradients:
 * `step(weights, gradient)` does `w <- w - eta * g` (SGD) or an Adam step.
 *
 * @param config - the rule and its hyper-parameters (validated).
 * @param parameterCount - P.
 * @returns a fresh {@link Optimizer}.
 * @throws {@link OptimizerError} `invalid-config` for an unknown kind or a bad hyper-parameter.
 */
export function createWorkerOptimizer(
  config: WorkerOptimizerConfig,
  parameterCount: number,
): Optimizer {
  switch (config.kind) {
    case 'sgd':
      return new SgdOptimizer(config, parameterCount);
    case 'adam':
      return new AdamOptimizer(config, parameterCount);
    default:
      throw new OptimizerError(
        'invalid-config',
        `unknown worker optimizer kind '${String((config as { kind: unknown }).kind)}'`,
      );
  }
}
