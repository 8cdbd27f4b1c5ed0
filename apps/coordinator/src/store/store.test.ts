import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { RunConfigSchema, type MetricsPoint } from '@vtrain/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { STORE_MIGRATIONS } from './migrations.js';
import { StoreError } from './store-error.js';
import { Store, type StoredRun } from './store.js';

let dir: string;
let path: string;
const opened: Store[] = [];

function open(): Store {
  const store = new Store(path);
  opened.push(store);
  return store;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vtrain-store-'));
  path = join(dir, 'coordinator.db');
});

afterEach(() => {
  for (const store of opened.splice(0)) store.close();
  rmSync(dir, { recursive: true, force: true });
});

function run(id: string, createdAt: number, overrides: Partial<StoredRun> = {}): StoredRun {
  return {
    id,
    name: `run ${id}`,
    status: 'active',
    config: RunConfigSchema.parse({
      name: `run ${id}`,
      schedule: { kind: 'hybrid', threshold: { shape: 'linear', clock: 'updates', horizon: 500 } },
      stop: { maxVersions: 1000 },
    }),
    createdAt,
    parameterCount: 101_770,
    version: 0,
    elapsedSeconds: 0,
    ...overrides,
  };
}

function point(runId: string, at: number, version: number): MetricsPoint {
  return {
    runId,
    at,
    elapsedSeconds: at / 1000,
    version,
    testLoss: 0.25,
    testAccuracy: 0.9375,
    phase: 'hybrid',
    k: 3,
    activeWorkers: 4,
    localSteps: 1,
    staleness: { p50: 1, p90: 3, max: 7, counts: [2, 5, 0, 1] },
    updatesApplied: version,
    updatesRejected: { stale: 2 },
    samples: 32 * version,
    bytesIn: 1234,
    bytesOut: 5678,
  };
}

function expectStoreError(action: () => unknown, code: StoreError['code']): StoreError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe(code);
    return error as StoreError;
  }
  throw new Error(`expected StoreError ${code}, nothing was thrown`);
}

describe('Store', () => {
  it('round-trips runs, progress and status across close and reopen, newest first', () => {
    const store = open();
    store.createRun(run('a', 1000));
    store.createRun(run('b', 3000));
    store.createRun(run('c', 2000));
    store.updateRunProgress('a', { version: 42, elapsedSeconds: 12.5 });
    store.setRunStatus('a', 'completed', 'target accuracy reached');
    store.close();

    const reopened = open();
    expect(reopened.listRuns().map((r) => r.id)).toEqual(['b', 'c', 'a']);
    expect(reopened.getRun('a')).toEqual({
      ...run('a', 1000),
      version: 42,
      elapsedSeconds: 12.5,
      status: 'completed',
      endedReason: 'target accuracy reached',
    });
    // No ended reason stored: the key is absent, not undefined-valued.
    expect(Object.keys(reopened.getRun('b') ?? {})).not.toContain('endedReason');
    expect(reopened.getRun('missing')).toBeUndefined();
  });

  it('clears the ended reason when a status is set without one', () => {
    const store = open();
    store.createRun(run('a', 1));
    store.setRunStatus('a', 'stopped', 'researcher');
    store.setRunStatus('a', 'active');
    expect(store.getRun('a')?.endedReason).toBeUndefined();
    expect(store.getRun('a')?.status).toBe('active');
  });

  it('breaks createdAt ties by insertion, later first', () => {
    const store = open();
    for (const id of ['x', 'y', 'z']) store.createRun(run(id, 500));
    expect(store.listRuns().map((r) => r.id)).toEqual(['z', 'y', 'x']);
  });

  it('lists metrics by time whatever the append order, and keeps them across reopen', () => {
    const store = open();
    store.createRun(run('a', 1));
    store.createRun(run('b', 2));
    store.appendMetrics(point('a', 3000, 30));
    store.appendMetrics(point('a', 1000, 10));
    store.appendMetrics(point('b', 500, 5));
    store.appendMetrics(point('a', 2000, 20));
    store.close();

    const reopened = open();
    expect(reopened.listMetrics('a')).toEqual([
      point('a', 1000, 10),
      point('a', 2000, 20),
      point('a', 3000, 30),
    ]);
    expect(reopened.listMetrics('b')).toEqual([point('b', 500, 5)]);
    expect(reopened.listMetrics('none')).toEqual([]);
  });

  it('keeps insertion order among points with the same time', () => {
    const store = open();
    store.createRun(run('a', 1));
    store.appendMetrics(point('a', 1000, 7));
    store.appendMetrics(point('a', 1000, 3));
    expect(store.listMetrics('a').map((p) => p.version)).toEqual([7, 3]);
  });

  it('increments contributions: (1, 0, 32) + (2, 1, 64) = (3, 1, 96)', () => {
    const store = open();
    store.createRun(run('a', 1));
    store.addContribution('a', 'w1', { applied: 1, rejected: 0, samples: 32 });
    store.addContribution('a', 'w2', { applied: 5, rejected: 0, samples: 160 });
    store.addContribution('a', 'w1', { applied: 2, rejected: 1, samples: 64 });
    store.close();

    expect(open().listContributions('a')).toEqual([
      { workerId: 'w1', applied: 3, rejected: 1, samples: 96 },
      { workerId: 'w2', applied: 5, rejected: 0, samples: 160 },
    ]);
  });

  it('sums any sequence of contribution deltas per worker (property)', () => {
    const store = open();
    store.createRun(run('p', 1));
    let trial = 0;
    const delta = fc.record({
      worker: fc.constantFrom('w1', 'w2', 'w3'),
      applied: fc.nat(1000),
      rejected: fc.nat(1000),
      samples: fc.nat(100_000),
    });
    fc.assert(
      fc.property(fc.array(delta, { maxLength: 30 }), (deltas) => {
        // A fresh run per trial keeps the totals of earlier trials out.
        const runId = `p${trial++}`;
        store.createRun(run(runId, trial));
        const expected = new Map<string, { applied: number; rejected: number; samples: number }>();
        for (const { worker, ...counts } of deltas) {
          store.addContribution(runId, worker, counts);
          const total = expected.get(worker) ?? { applied: 0, rejected: 0, samples: 0 };
          expected.set(worker, {
            applied: total.applied + counts.applied,
            rejected: total.rejected + counts.rejected,
            samples: total.samples + counts.samples,
          });
        }
        const want = [...expected.entries()]
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([workerId, totals]) => ({ workerId, ...totals }));
        expect(store.listContributions(runId)).toEqual(want);
      }),
      { numRuns: 50 },
    );
  });

  it('stores settings and replaces them', () => {
    const store = open();
    expect(store.getSetting('token-hash')).toBeUndefined();
    store.setSetting('token-hash', 'abc');
    store.setSetting('token-hash', 'def');
    store.setSetting('other', '');
    store.close();
    const reopened = open();
    expect(reopened.getSetting('token-hash')).toBe('def');
    expect(reopened.getSetting('other')).toBe('');
  });

  it('keeps worker secrets bounded: expired, then the least recently seen beyond the cap', () => {
    const store = open();
    for (let i = 0; i < 10; i++) store.putWorkerSecret(`w${i}`, 'ab'.repeat(32), 1000 + i);
    store.setSetting('worker-secret:legacy', 'cd'.repeat(32)); // written before expiry existed
    store.setSetting('worker-secreu', 'not a secret'); // just past the key range: kept
    expect(store.getWorkerSecret('legacy')).toEqual({ hash: 'cd'.repeat(32), lastSeenAt: 0 });
    expect(store.getWorkerSecret('w3')).toEqual({ hash: 'ab'.repeat(32), lastSeenAt: 1003 });
    // Seen before 1002 (w0, w1, and the legacy row without a time) expire; then 5 are kept.
    expect(store.expireWorkerSecrets(1002, 5)).toBe(5);
    expect(store.getWorkerSecret('legacy')).toBeUndefined();
    for (let i = 0; i < 5; i++) expect(store.getWorkerSecret(`w${i}`)).toBeUndefined();
    for (let i = 5; i < 10; i++) expect(store.getWorkerSecret(`w${i}`)).toBeDefined();
    store.deleteWorkerSecrets(['w5', 'w6']);
    expect(store.getWorkerSecret('w5')).toBeUndefined();
    expect(store.expireWorkerSecrets(0, 100)).toBe(3);
    expect(store.getSetting('worker-secreu')).toBe('not a secret');
    expect(() => {
      store.putWorkerSecret('w', 'not hex', 1);
    }).toThrow(StoreError);
  });

  it('uses WAL and reopens at the same schema version without re-running migrations', () => {
    open().close();
    const raw = new Database(path);
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(raw.pragma('user_version', { simple: true })).toBe(STORE_MIGRATIONS.length);
    raw.close();

    const again = open();
    again.createRun(run('a', 1));
    again.close();
    // A second run of migration 1 would fail on CREATE TABLE runs; reopening twice proves it is skipped.
    open().close();
    expect(open().getRun('a')?.id).toBe('a');
  });

  it('creates the directory of a new database file', () => {
    path = join(dir, 'nested', 'deeper', 'coordinator.db');
    open().setSetting('k', 'v');
    expect(open().getSetting('k')).toBe('v');
  });

  it('refuses a database written by a newer schema', () => {
    open().close();
    const raw = new Database(path);
    raw.pragma(`user_version = ${STORE_MIGRATIONS.length + 1}`);
    raw.close();
    expectStoreError(() => new Store(path), 'newer-schema');
  });

  it('refuses a duplicate run and changes to unknown runs', () => {
    const store = open();
    store.createRun(run('a', 1));
    expectStoreError(() => {
      store.createRun(run('a', 2));
    }, 'duplicate-run');
    expectStoreError(() => {
      store.updateRunProgress('b', { version: 1, elapsedSeconds: 1 });
    }, 'unknown-run');
    expectStoreError(() => {
      store.setRunStatus('b', 'stopped');
    }, 'unknown-run');
    expectStoreError(() => {
      store.appendMetrics(point('b', 1, 1));
    }, 'unknown-run');
    expectStoreError(() => {
      store.addContribution('b', 'w', { applied: 1, rejected: 0, samples: 1 });
    }, 'unknown-run');
  });

  it('refuses values that do not fit, before writing anything', () => {
    const store = open();
    expectStoreError(() => {
      store.createRun(run('', 1));
    }, 'invalid-argument');
    expectStoreError(() => {
      store.createRun(run('a', 1, { version: 1.5 }));
    }, 'invalid-argument');
    expectStoreError(() => {
      store.createRun(run('a', 1, { status: 'paused' as never }));
    }, 'invalid-argument');
    const badConfig = { ...run('a', 1).config, schedule: { kind: 'nope' } } as never;
    expectStoreError(() => {
      store.createRun(run('a', 1, { config: badConfig }));
    }, 'invalid-argument');
    expect(store.listRuns()).toEqual([]);

    store.createRun(run('a', 1));
    expectStoreError(() => {
      store.updateRunProgress('a', { version: -1, elapsedSeconds: 0 });
    }, 'invalid-argument');
    expectStoreError(() => {
      store.addContribution('a', 'w', { applied: 1, rejected: 0, samples: Number.NaN });
    }, 'invalid-argument');
    expectStoreError(() => {
      store.appendMetrics({ ...point('a', 1, 1), k: 0 });
    }, 'invalid-argument');
    expect(store.listMetrics('a')).toEqual([]);
    expect(store.listContributions('a')).toEqual([]);
  });

  it('names the row when a stored config or point is corrupt', () => {
    const store = open();
    store.createRun(run('good', 1));
    store.createRun(run('bad', 2));
    store.appendMetrics(point('good', 1000, 1));
    store.close();

    const raw = new Database(path);
    raw.prepare(`UPDATE runs SET config = '{"name": "x"' WHERE id = 'bad'`).run();
    raw.prepare(`UPDATE metrics SET point = json_set(point, '$.k', -4)`).run();
    raw.close();

    const reopened = open();
    expect(reopened.getRun('good')?.id).toBe('good');
    const runError = expectStoreError(() => reopened.getRun('bad'), 'corrupt-row');
    expect(runError.message).toContain('runs row id="bad"');
    expectStoreError(() => reopened.listRuns(), 'corrupt-row');
    const metricsError = expectStoreError(() => reopened.listMetrics('good'), 'corrupt-row');
    expect(metricsError.message).toContain('metrics row seq=1 (run "good")');
    expect(metricsError.message).toContain('k');
  });

  it('reports a point whose indexed columns disagree with its JSON', () => {
    const store = open();
    store.createRun(run('a', 1));
    store.appendMetrics(point('a', 1000, 1));
    store.close();
    const raw = new Database(path);
    raw.prepare('UPDATE metrics SET version = 99').run();
    raw.close();
    expectStoreError(() => open().listMetrics('a'), 'corrupt-row');
  });

  it('keeps run figures in one row that agrees with the whole series (property)', () => {
    const store = open();
    store.createRun(run('f', 1));
    expect(store.runFigures('f')).toEqual({});
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            at: fc.integer({ min: 0, max: 50 }),
            kind: fc.constantFrom('none', 'sample', 'full', 'legacy'),
          }),
          { minLength: 1, maxLength: 20 },
        ),
        (specs) => {
          const id = `p${Math.random().toString(36).slice(2, 10)}`;
          store.createRun(run(id, 2));
          for (const [i, spec] of specs.entries()) {
            const base = point(id, spec.at, i);
            const { testLoss, testAccuracy, ...bare } = base;
            const p: MetricsPoint =
              spec.kind === 'none'
                ? bare
                : spec.kind === 'legacy'
                  ? base // test metrics without testSet/testExamples: not an evaluation
                  : { ...base, testAccuracy, testLoss, testExamples: 10, testSet: spec.kind };
            store.appendMetrics(p);
          }
          // What a scan of the series gives (the old way): the last point in list order.
          const series = store.listMetrics(id);
          const evaluated = series.filter(
            (q) => q.testSet !== undefined && q.testExamples !== undefined,
          );
          const last = series.at(-1);
          if (!last) throw new Error('no series');
          const expected: Record<string, MetricsPoint> = { latest: last };
          const lastEval = evaluated.at(-1);
          const lastFull = evaluated.filter((q) => q.testSet === 'full').at(-1);
          if (lastEval) expected.evaluation = lastEval;
          if (lastFull) expected.fullEvaluation = lastFull;
          expect(store.runFigures(id)).toEqual(expected);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('fills run figures from the existing series when migrating from version 1', () => {
    const raw = new Database(path);
    raw.exec(STORE_MIGRATIONS[0] ?? '');
    raw.pragma('user_version = 1');
    raw.close();
    // Write the version-1 rows through a store at version 2, then drop the figures table
    // back to version 1 so the migration sees a database as a version-1 coordinator left it.
    const writer = open();
    writer.createRun(run('old', 1));
    const sample = { ...point('old', 30, 3), testExamples: 10, testSet: 'sample' as const };
    const full = { ...point('old', 20, 2), testExamples: 100, testSet: 'full' as const };
    const bare: MetricsPoint = { ...point('old', 40, 4) };
    delete bare.testLoss;
    delete bare.testAccuracy;
    for (const p of [point('old', 10, 1), full, sample, bare]) writer.appendMetrics(p);
    writer.close();
    const downgrade = new Database(path);
    downgrade.exec('DROP TABLE run_figures');
    downgrade.pragma('user_version = 1');
    downgrade.close();

    const store = open();
    expect(store.runFigures('old')).toEqual({
      latest: bare,
      evaluation: sample,
      fullEvaluation: full,
    });
  });

  it('saturates contribution counters at 2^53 - 1 instead of overflowing', () => {
    const store = open();
    store.createRun(run('big', 1));
    const near = Number.MAX_SAFE_INTEGER - 5;
    store.addContribution('big', 'w', { applied: near, rejected: 0, samples: near });
    store.addContribution('big', 'w', { applied: 100, rejected: 1, samples: 1e9 });
    expect(store.listContributions('big')).toEqual([
      {
        workerId: 'w',
        applied: Number.MAX_SAFE_INTEGER,
        rejected: 1,
        samples: Number.MAX_SAFE_INTEGER,
      },
    ]);
  });

  it('turns a full disk into storage-unavailable, keeps what was written, and recovers', () => {
    const store = open();
    store.createRun(run('disk', 1));
    store.appendMetrics(point('disk', 1, 1));
    // A real SQLITE_FULL: the file may not grow past its current pages.
    const limiter = new Database(path);
    const pages = limiter.pragma('page_count', { simple: true }) as number;
    limiter.close();
    (store as unknown as { db: Database.Database }).db.pragma(`max_page_count = ${pages}`);
    (store as unknown as { db: Database.Database }).db.pragma('wal_checkpoint(TRUNCATE)');
    const big = 'x'.repeat(64 * 1024);
    let error: StoreError | undefined;
    for (let i = 0; i < 200 && !error; i++) {
      try {
        store.setSetting(`filler-${i}`, big);
        (store as unknown as { db: Database.Database }).db.pragma('wal_checkpoint(TRUNCATE)');
      } catch (caught) {
        error = caught as StoreError;
      }
    }
    expect(error).toBeInstanceOf(StoreError);
    expect(error?.code).toBe('storage-unavailable');
    expect(store.writeFault()?.message).toMatch(/full/);
    // Reads go on; what was durable is still there.
    expect(store.listMetrics('disk')).toHaveLength(1);
    expect(store.getRun('disk')?.status).toBe('active');
    // Space returns: the next write succeeds and clears the fault.
    (store as unknown as { db: Database.Database }).db.pragma('max_page_count = 1073741823');
    store.appendMetrics(point('disk', 2, 2));
    expect(store.writeFault()).toBeUndefined();
    expect(store.listMetrics('disk').map((p) => p.version)).toEqual([1, 2]);
  });
});
