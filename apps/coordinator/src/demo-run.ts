import type { RunConfigInput } from '@vtrain/protocol';

/**
 * The run created on first start: MNIST, the 784-128-10 MLP, 1% top-k with
 * error feedback, and the hybrid Smooth Switch schedule moving K from 1
 * (asynchronous) to N (synchronous) over the first 600 applied updates.
 */
export const DEMO_RUN: RunConfigInput = {
  name: 'Demo: MNIST MLP, hybrid Smooth Switch',
  dataset: { name: 'mnist' },
  model: { kind: 'mlp', hiddenUnits: [128] },
  training: {
    batchSize: 32,
    workerOptimizer: { kind: 'sgd', learningRate: 0.1 },
    serverOptimizer: { kind: 'sgd', learningRate: 1 },
  },
  compression: { density: 0.01, errorFeedback: true },
  schedule: {
    kind: 'hybrid',
    threshold: { shape: 'linear', clock: 'updates', horizon: 600 },
  },
  evaluation: { everyVersions: 50, testExamples: 2000 },
  stop: { targetAccuracy: 0.97, maxSeconds: 3600 },
};
