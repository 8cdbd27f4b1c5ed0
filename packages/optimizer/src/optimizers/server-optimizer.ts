import type { AdamConfig } from './adam.js';
import { AdamOptimizer } from './adam.js';
import type { MomentumConfig, NesterovConfig } from './momentum.js';
import { MomentumOptimizer } from './momentum.js';
import type { Optimizer } from './optimizer.js';
import { OptimizerError } from './optimizer-error.js';
import type { SgdConfig } from './sgd.js';
import { SgdOptimizer } from './sgd.js';

/**
 * The coordinator's optimizer, applied to the aggregated update d (a
 * pseudo-gradient: the averaged worker updates, already scaled by the worker
 * learning rate), as named in the wire run-config schema. Discriminated on `kind`.
 * `{ kind: 'sgd', learningRate: 1 }` is plain averaging; Nesterov is DiLoCo's outer step.
 */
export type ServerOptimizerConfig = SgdConfig | MomentumConfig | NesterovConfig | AdamConfig;

/**
 * Builds the server optimizer for P parameters, state at zero.
 *
 * @param config - the rule and its hyper-parameters (validated).
 * @param parameterCount - P.
 * @returns a fresh {@link Optimizer}.
 * @throws {@link OptimizerError} `invalid-config` for an unknown kind or a bad hyper-parameter.
 */
export function createServerOptimizer(
  config: ServerOptimizerConfig,
  parameterCount: number,
): Optimizer {
  switch (config.kind) {
    case 'sgd':
      return new SgdOptimizer(config, parameterCount);
    case 'momentum':
    case 'nesterov':
      return new MomentumOptimizer(config, parameterCount);
    case 'adam':
      return new AdamOptimizer(config, parameterCount);
    default:
      // Configs arrive from JSON; the type system cannot vouch for them at run time.
      throw new OptimizerError(
        'invalid-config',
        `unknown server optimizer kind '${String((config as { kind: unknown }).kind)}'`,
      );
  }
}
