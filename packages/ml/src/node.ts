/**
 * `@vtrain/ml/node`: the Node-only half of the package, the dataset loaders
 * that read the npm-packaged files from disk and the Node backend choice.
 * Everything else is imported from `@vtrain/ml`.
 */
export * from './data/node-loaders.js';
export * from './backend-node.js';
