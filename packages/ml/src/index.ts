/**
 * `@vtrain/ml`: the tfjs code shared by the coordinator and the training
 * workers. Browser-safe: nothing reachable from here imports a Node built-in
 * (`index-purity.test.ts` checks it); the Node-only loaders are in `@vtrain/ml/node`.
 */
export * from './coded-error.js';
export * from './random.js';
export * from './data/dataset-info.js';
export * from './data/dataset.js';
export * from './data/synthetic.js';
export * from './data/idx.js';
export * from './data/fashion-json.js';
export * from './data/load-error.js';
export * from './data/partition.js';
export * from './data/shard-codec.js';
export * from './data/batcher.js';
export * from './formats/safetensors.js';
export * from './models/model-spec-error.js';
export * from './models/input-shape.js';
export * from './models/zoo.js';
export * from './models/custom-topology.js';
export * from './models/flat-weights.js';
export * from './models/initial-weights.js';
export * from './training/loss.js';
export * from './training/gradient.js';
export * from './training/evaluate.js';
