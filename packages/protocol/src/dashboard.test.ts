import { describe, expect, it } from 'vitest';
import {
  EvaluationSchema,
  HealthSchema,
  MetricsPointSchema,
  RunSummarySchema,
  StorageFaultSchema,
  SubscribedSchema,
  WorkerSummarySchema,
} from './dashboard.js';
import { RunConfigSchema } from './run-config.js';
import { safeParseMessage } from './validation.js';

function summaryInput(): Record<string, unknown> {
  return {
    id: 'run-1',
    name: 'r',
    status: 'active',
    createdAt: 1,
    version: 0,
    parameterCount: 10,
    activeWorkers: 0,
    config: RunConfigSchema.parse({
      name: 'r',
      schedule: { kind: 'async' },
      stop: { maxVersions: 10 },
    }),
  };
}

const point = {
  runId: 'run-1',
  at: 1_700_000_000_000,
  elapsedSeconds: 12,
  version: 50,
  testLoss: 2.3,
  testAccuracy: 0,
  testExamples: 2000,
  testSet: 'sample',
  phase: 'async',
  k: 1,
  activeWorkers: 2,
  localSteps: 1,
  staleness: { p50: 0, p90: 0, max: 0, counts: [] },
  updatesApplied: 50,
  updatesRejected: {},
  samples: 1600,
  bytesIn: 0,
  bytesOut: 0,
};

const evaluation = {
  version: 50,
  at: 1_700_000_000_000,
  testLoss: 2.3,
  testAccuracy: 0,
  testExamples: 2000,
  testSet: 'sample',
};

describe('evaluation figures on the wire', () => {
  it('carry the examples and the set they are over; accuracy 0 is a value', () => {
    expect(MetricsPointSchema.parse(point)).toEqual(point);
    expect(EvaluationSchema.parse(evaluation).testAccuracy).toBe(0);
    // Points stored before protocol 2 have neither field and still read.
    const older: Record<string, unknown> = { ...point };
    delete older.testExamples;
    delete older.testSet;
    expect(MetricsPointSchema.safeParse(older).success).toBe(true);
  });

  it('refuses figures without their scope, or out of range', () => {
    const bad = [
      { ...point, testExamples: 0 },
      { ...point, testSet: 'half' },
      { ...point, testAccuracy: 1.5 },
    ];
    for (const input of bad) {
      expect(safeParseMessage(MetricsPointSchema, input, 'point').ok).toBe(false);
    }
    for (const key of Object.keys(evaluation)) {
      const missing = Object.fromEntries(Object.entries(evaluation).filter(([k]) => k !== key));
      expect(EvaluationSchema.safeParse(missing).success).toBe(false);
    }
    expect(EvaluationSchema.safeParse({ ...evaluation, testAccuracy: -0.1 }).success).toBe(false);
    expect(EvaluationSchema.safeParse({ ...evaluation, extra: 1 }).success).toBe(false);
  });

  it('a run summary names its evaluations apart from its latest point', () => {
    const summary = RunSummarySchema.shape;
    expect(Object.keys(summary)).toEqual(
      expect.arrayContaining(['latest', 'evaluation', 'fullEvaluation']),
    );
  });
});

describe('HealthSchema', () => {
  it('says whether the coordinator is ready', () => {
    expect(
      HealthSchema.parse({ ok: true, ready: true, protocolVersion: 3, storage: 'ok' }).ready,
    ).toBe(true);
    expect(HealthSchema.safeParse({ ok: true, protocolVersion: 3, storage: 'ok' }).success).toBe(
      false,
    );
  });
});

describe('worker table rows', () => {
  const row = {
    workerId: 'w-1',
    kind: 'browser',
    browser: 'Chrome 131',
    os: 'Linux',
    backend: 'webgpu',
    samplesPerSecond: 100,
    updatesApplied: 3,
    updatesRejected: 0,
    lastSeenAt: 1,
  };

  it('carry families, and refuse a user agent or an over-long family', () => {
    expect(WorkerSummarySchema.parse(row)).toEqual(row);
    expect(
      WorkerSummarySchema.safeParse({ ...row, description: 'Mozilla/5.0 (X11; Linux x86_64)' })
        .success,
    ).toBe(false);
    expect(WorkerSummarySchema.safeParse({ ...row, browser: 'x'.repeat(61) }).success).toBe(false);
  });

  it('are optional in a subscription answer (researcher token only)', () => {
    const base = { type: 'subscribed', run: RunSummarySchema.parse(summaryInput()), metrics: [] };
    expect(SubscribedSchema.parse(base).workers).toBeUndefined();
    expect(SubscribedSchema.parse({ ...base, workers: [row] }).workers).toHaveLength(1);
  });
});

describe('storage faults', () => {
  it('name the fault on a run summary and in health', () => {
    const fault = { code: 'storage-unavailable', message: 'checkpoint: ENOSPC', since: 5 };
    expect(StorageFaultSchema.parse(fault)).toEqual(fault);
    expect(StorageFaultSchema.safeParse({ ...fault, code: 'other' }).success).toBe(false);
    expect(RunSummarySchema.parse({ ...summaryInput(), fault }).fault).toEqual(fault);
    expect(
      HealthSchema.safeParse({ ok: true, ready: true, protocolVersion: 3, storage: 'full' })
        .success,
    ).toBe(false);
  });
});
