/**
 * The numeric core of `@vtrain/optimizer`: sparse vectors, O(P) top-k with
 * error feedback, aggregation rules and optimizers, all on Float32Array with
 * randomness passed in. The package barrel re-exports this module.
 */

export { CodedError } from './coded-error.js';
export { mulberry32, randomIndex, RandomSourceError } from './random.js';
export type { RandomSource, RandomSourceErrorCode } from './random.js';

export {
  addSparseInto,
  densify,
  InvalidSparseVectorError,
  scaleSparse,
  sparseNorm,
  validateSparseVector,
} from './sparse-vector.js';
export type { InvalidSparseVectorErrorCode, SparseVector } from './sparse-vector.js';

export { kthLargest } from './kth-largest.js';
export { selectTopK, TopKError, TopKSelector, topKCount } from './top-k.js';
export type { TopKErrorCode } from './top-k.js';
export { ErrorFeedback, ErrorFeedbackError } from './error-feedback.js';
export type { ErrorFeedbackErrorCode, ErrorFeedbackOptions } from './error-feedback.js';

export { AggregationError } from './aggregate/aggregation-error.js';
export type { AggregationErrorCode } from './aggregate/aggregation-error.js';
export { validateContributions } from './aggregate/contribution.js';
export type { Contribution, ValidatedContributions } from './aggregate/contribution.js';
export { STALENESS_DAMPINGS, stalenessWeight } from './aggregate/staleness.js';
export type { StalenessDamping } from './aggregate/staleness.js';
export { aggregateMean, aggregateMeanSparse } from './aggregate/mean.js';
export { aggregateNormClip } from './aggregate/norm-clip.js';
export { aggregateTrimmedMean } from './aggregate/trimmed-mean.js';
export { aggregateMedian } from './aggregate/median.js';
export { aggregateCenteredClip } from './aggregate/centered-clip.js';
export type { CenteredClipOptions } from './aggregate/centered-clip.js';
export { aggregateNormFilter } from './aggregate/norm-filter.js';
export { contributionNorm } from './aggregate/contribution.js';
export type { NormFilterResult } from './aggregate/norm-filter.js';
export {
  AcceptedWindow,
  aggregateGuardedMean,
  guardBounds,
  screenUpdate,
  validateGuardedMeanParameters,
  vectorStats,
  WARMUP_MAX_ABS_FLOOR,
  WARMUP_NORM_FLOOR,
} from './aggregate/guarded-mean.js';
export type {
  GuardBounds,
  GuardedMeanParameters,
  GuardedMeanResult,
  GuardVerdict,
  UpdateStats,
} from './aggregate/guarded-mean.js';
export { aggregate, AGGREGATION_RULE_NAMES } from './aggregate/aggregate.js';
export type { AggregatedUpdate, AggregateOptions, AggregationRule } from './aggregate/aggregate.js';

export { OptimizerError } from './optimizers/optimizer-error.js';
export type { OptimizerErrorCode } from './optimizers/optimizer-error.js';
export type { Optimizer, OptimizerKind, OptimizerState } from './optimizers/optimizer.js';
export { SgdOptimizer } from './optimizers/sgd.js';
export type { SgdConfig } from './optimizers/sgd.js';
export { MomentumOptimizer } from './optimizers/momentum.js';
export type { MomentumConfig, NesterovConfig } from './optimizers/momentum.js';
export { AdamOptimizer } from './optimizers/adam.js';
export type { AdamConfig } from './optimizers/adam.js';
export { createServerOptimizer } from './optimizers/server-optimizer.js';
export type { ServerOptimizerConfig } from './optimizers/server-optimizer.js';
export { createWorkerOptimizer } from './optimizers/worker-optimizer.js';
export type { WorkerOptimizerConfig } from './optimizers/worker-optimizer.js';
