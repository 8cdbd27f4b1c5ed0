import type { MetricsPoint, RunSummary, WorkerSummary } from '@vtrain/protocol';

/** Builders of valid protocol values for the dashboard's tests; override what a test is about. */

export function point(overrides: Partial<MetricsPoint> = {}): MetricsPoint {
  return {
    runId: 'run-1',
    at: 1_700_000_000_000,
    elapsedSeconds: 0,
    version: 0,
    phase: 'async',
    k: 1,
    activeWorkers: 2,
    localSteps: 1,
    staleness: { p50: 0, p90: 0, max: 0, counts: [] },
    updatesApplied: 0,
    updatesRejected: {},
    samples: 0,
    bytesIn: 0,
    bytesOut: 0,
    ...overrides,
  };
}

export function run(overrides: Partial<RunSummary> = {}): RunSummary {
  return {
    id: 'run-1',
    name: 'Demo run',
    status: 'active',
    createdAt: 1_700_000_000_000,
    version: 0,
    parameterCount: 101_770,
    activeWorkers: 2,
    config: {
      name: 'Demo run',
      seed: 1,
      model: { kind: 'mlp', hiddenUnits: [128] },
      dataset: { name: 'mnist', partition: { kind: 'iid' }, shards: 16 },
      training: {
        batchSize: 32,
        workerOptimizer: { kind: 'sgd', learningRate: 0.1 },
        serverOptimizer: { kind: 'sgd', learningRate: 1 },
      },
      compression: {
        density: 0.01,
        errorFeedback: true,
        valueFormat: 'f32',
        downstreamValueFormat: 'f32',
      },
      schedule: { kind: 'async', staleness: { maxStaleness: 32, damping: 'none' } },
      aggregation: { rule: 'mean' },
      evaluation: { everyVersions: 50 },
      checkpoint: { everyVersions: 200, everySeconds: 30 },
      stop: { maxVersions: 1000 },
    },
    ...overrides,
  };
}

export function worker(overrides: Partial<WorkerSummary> = {}): WorkerSummary {
  return {
    workerId: 'w-1',
    kind: 'browser',
    browser: 'Chrome 131',
    os: 'Linux',
    backend: 'webgpu',
    samplesPerSecond: 512.4,
    updatesApplied: 10,
    updatesRejected: 1,
    lastSeenAt: 1_700_000_000_000,
    ...overrides,
  };
}
