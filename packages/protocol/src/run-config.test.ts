import { describe, expect, it } from 'vitest';
import { RunConfigSchema, effectiveContributionCap, type RunConfigInput } from './run-config.js';
import { safeParseMessage } from './validation.js';

const minimal: RunConfigInput = {
  name: 'hybrid demo',
  schedule: { kind: 'hybrid', threshold: { shape: 'linear', clock: 'updates', horizon: 500 } },
  stop: { targetAccuracy: 0.95 },
};

function issuesOf(input: unknown) {
  const result = safeParseMessage(RunConfigSchema, input, 'run config');
  if (result.ok) throw new Error('expected the config to be rejected');
  return result.error.issues;
}

describe('RunConfigSchema', () => {
  it('fills every default of a minimal config', () => {
    const config = RunConfigSchema.parse(minimal);
    expect(config.seed).toBe(1);
    expect(config.model).toEqual({ kind: 'mlp', hiddenUnits: [128] });
    expect(config.dataset).toEqual({ name: 'mnist', partition: { kind: 'iid' }, shards: 16 });
    expect(config.compression).toEqual({
      density: 0.01,
      errorFeedback: true,
      valueFormat: 'f32',
      downstreamValueFormat: 'f32',
    });
    expect(config.training.workerOptimizer).toEqual({ kind: 'sgd', learningRate: 0.1 });
    expect(config.training.serverOptimizer).toEqual({ kind: 'sgd', learningRate: 1 });
    expect(config.aggregation).toEqual({
      rule: 'guarded-mean',
      normFactor: 4,
      magnitudeFactor: 8,
      window: 64,
      warmup: 8,
    });
    expect(config.contributionCap).toBeUndefined();
    expect(effectiveContributionCap(config)).toEqual({ window: 64, slack: 2 });
    expect(config.schedule).toEqual({
      kind: 'hybrid',
      threshold: { shape: 'linear', clock: 'updates', horizon: 500 },
      staleness: { maxStaleness: 32, damping: 'none' },
      deadline: { slack: 2, quantile: 0.9, window: 20, minMs: 1000, maxMs: 60_000 },
      lateUpdates: 'next-round',
    });
  });

  it('caps each worker by default where one worker can send many updates in a row', () => {
    const capOf = (schedule: RunConfigInput['schedule'], extra: Partial<RunConfigInput> = {}) =>
      effectiveContributionCap(RunConfigSchema.parse({ ...minimal, schedule, ...extra }));
    expect(capOf({ kind: 'async' })).toEqual({ window: 64, slack: 2 });
    expect(capOf({ kind: 'cyclic', syncRounds: 1, asyncUpdates: 5 })).toEqual({
      window: 64,
      slack: 2,
    });
    expect(capOf({ kind: 'sync' })).toBeUndefined();
    expect(capOf({ kind: 'local-sgd', period: { rule: 'fixed', steps: 4 } })).toBeUndefined();
    expect(capOf({ kind: 'async' }, { contributionCap: 'off' })).toBeUndefined();
    expect(capOf({ kind: 'sync' }, { contributionCap: { window: 8 } })).toEqual({
      window: 8,
      slack: 2,
    });
    // mean stays available as the explicit opt-out of the default rule.
    expect(
      RunConfigSchema.parse({ ...minimal, aggregation: { rule: 'mean' } }).aggregation,
    ).toEqual({ rule: 'mean' });
  });

  it('accepts every schedule kind', () => {
    const schedules = [
      { kind: 'async', staleness: { maxStaleness: 4, damping: 'inverse-plus-one' } },
      { kind: 'sync', lateUpdates: 'reject' },
      { kind: 'cyclic', syncRounds: 3, asyncUpdates: 20 },
      { kind: 'local-sgd', period: { rule: 'fixed', steps: 8 } },
      { kind: 'local-sgd', period: { rule: 'lupa-adaptive', initialSteps: 4, maxSteps: 64 } },
      { kind: 'local-sgd', period: { rule: 'lupa-linear', initialSteps: 91, alpha: 1.09 } },
      { kind: 'hybrid', threshold: { shape: 'step', clock: 'time', horizon: 60_000 } },
      { kind: 'hybrid', threshold: { shape: 'plateau' } },
    ];
    for (const schedule of schedules) {
      expect(RunConfigSchema.safeParse({ ...minimal, schedule }).success, schedule.kind).toBe(true);
    }
  });

  it('names every offending field at once', () => {
    const issues = issuesOf({
      ...minimal,
      compression: { density: 0 },
      training: { batchSize: 0 },
      aggregation: { rule: 'trimmed-mean', trimFraction: 0.5 },
    });
    expect(issues.map((i) => i.path).sort()).toEqual([
      'aggregation.trimFraction',
      'compression.density',
      'training.batchSize',
    ]);
  });

  it('rejects a misspelt key instead of ignoring it', () => {
    const issues = issuesOf({ ...minimal, compression: { densty: 0.1 } });
    expect(issues).toEqual([{ path: 'compression', message: 'Unrecognized key: "densty"' }]);
  });

  it('rejects an unknown schedule kind and a missing threshold', () => {
    expect(issuesOf({ ...minimal, schedule: { kind: 'eventual' } })[0]?.path).toBe('schedule.kind');
    expect(issuesOf({ ...minimal, schedule: { kind: 'hybrid' } })[0]?.path).toBe(
      'schedule.threshold',
    );
  });

  it('requires a stop rule and a consistent deadline', () => {
    expect(issuesOf({ ...minimal, stop: {} })[0]?.message).toMatch(/at least one of/);
    const deadline = { minMs: 5000, maxMs: 1000 };
    const issues = issuesOf({ ...minimal, schedule: { kind: 'sync', deadline } });
    expect(issues).toEqual([
      { path: 'schedule.deadline.minMs', message: 'minMs must not exceed maxMs' },
    ]);
  });

  it('rejects non-finite and out-of-range numbers', () => {
    for (const learningRate of [Number.NaN, Infinity, -0.1, 0]) {
      const training = { serverOptimizer: { kind: 'sgd', learningRate } };
      expect(issuesOf({ ...minimal, training })[0]?.path).toBe(
        'training.serverOptimizer.learningRate',
      );
    }
  });
});

describe('dataset spec of an uploaded set', () => {
  const base = { name: 'u', schedule: { kind: 'async' }, stop: { maxVersions: 1 } };
  const id = '0f8fad5b-d9cb-469f-a165-70867728950e';

  it('takes name "upload" with an id, and a built-in name without one', () => {
    const parsed = RunConfigSchema.parse({ ...base, dataset: { name: 'upload', id, shards: 2 } });
    expect(parsed.dataset).toEqual({ name: 'upload', id, partition: { kind: 'iid' }, shards: 2 });
    expect(RunConfigSchema.parse(base).dataset.name).toBe('mnist');
  });

  it('refuses upload without an id, an id with a built-in set, and a malformed id', () => {
    for (const dataset of [
      { name: 'upload' },
      { name: 'mnist', id },
      { name: 'upload', id: 'abc' },
    ]) {
      const result = RunConfigSchema.safeParse({ ...base, dataset });
      expect(result.success).toBe(false);
      expect(result.error?.issues[0]?.path).toEqual(['dataset', 'id']);
    }
  });
});
