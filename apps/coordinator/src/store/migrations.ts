import type Database from 'better-sqlite3';
import { StoreError } from './store-error.js';

/**
 * The coordinator's schema, as an append-only list: migration i (0-based) takes a database
 * from `PRAGMA user_version` i to i + 1. Never edit a shipped entry; add one.
 *
 * Version 1: runs, metrics (one JSON point per row plus the columns the queries filter and
 * sort on), per-worker contribution counters, and a key-value settings table. Tables are
 * STRICT so a value of the wrong type is refused at write time instead of read back as
 * something else.
 *
 * Version 2: `run_figures`, one row per run with its latest metrics point, latest
 * evaluation and latest whole-test-set evaluation (each the point's JSON and its `at`), kept
 * current by `appendMetrics`, so a run summary reads one row instead of the whole series.
 * Filled from the existing points (same order as `listMetrics`: `at`, then insertion).
 */
export const STORE_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    config TEXT NOT NULL,
    created_at REAL NOT NULL,
    parameter_count INTEGER NOT NULL,
    version INTEGER NOT NULL,
    elapsed_seconds REAL NOT NULL,
    ended_reason TEXT
  ) STRICT;
  CREATE INDEX runs_by_created_at ON runs (created_at);

  CREATE TABLE metrics (
    seq INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    at REAL NOT NULL,
    version INTEGER NOT NULL,
    point TEXT NOT NULL
  ) STRICT;
  CREATE INDEX metrics_by_run_at ON metrics (run_id, at);

  CREATE TABLE contributions (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    worker_id TEXT NOT NULL,
    applied INTEGER NOT NULL,
    rejected INTEGER NOT NULL,
    samples INTEGER NOT NULL,
    PRIMARY KEY (run_id, worker_id)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) STRICT, WITHOUT ROWID;
  `,
  `
  CREATE TABLE run_figures (
    run_id TEXT PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    latest TEXT,
    latest_at REAL,
    evaluation TEXT,
    evaluation_at REAL,
    full_evaluation TEXT,
    full_at REAL
  ) STRICT, WITHOUT ROWID;

  CREATE TEMP VIEW evaluated_points AS
    SELECT run_id, at, seq, point, json_extract(point, '$.testSet') AS test_set FROM metrics
    WHERE json_extract(point, '$.testLoss') IS NOT NULL
      AND json_extract(point, '$.testAccuracy') IS NOT NULL
      AND json_extract(point, '$.testExamples') IS NOT NULL
      AND json_extract(point, '$.testSet') IS NOT NULL;

  INSERT INTO run_figures (run_id, latest, latest_at, evaluation, evaluation_at, full_evaluation, full_at)
  SELECT r.id, l.point, l.at, e.point, e.at, f.point, f.at
  FROM runs r
  JOIN metrics l ON l.seq = (SELECT seq FROM metrics WHERE run_id = r.id ORDER BY at DESC, seq DESC LIMIT 1)
  LEFT JOIN evaluated_points e ON e.seq = (SELECT seq FROM evaluated_points WHERE run_id = r.id
    ORDER BY at DESC, seq DESC LIMIT 1)
  LEFT JOIN evaluated_points f ON f.seq = (SELECT seq FROM evaluated_points WHERE run_id = r.id
    AND test_set = 'full' ORDER BY at DESC, seq DESC LIMIT 1);

  DROP VIEW evaluated_points;
  `,
];

/**
 * Brings `db` to version `migrations.length` by running the pending entries, all in one
 * transaction together with the `user_version` bump, so a failure leaves the database at
 * exactly the version it had (SQLite DDL is transactional). Running it again is a no-op.
 *
 * @returns the schema version before the call.
 * @throws {@link StoreError} `newer-schema` when the file is ahead of `migrations` (an older
 *   coordinator must not write a schema it does not know), `migration-failed` when an entry
 *   fails (its SQLite error is the `cause`).
 */
export function applyMigrations(db: Database.Database, migrations: readonly string[]): number {
  let current = 0;
  let running = 0;
  const migrate = db.transaction(() => {
    current = db.pragma('user_version', { simple: true }) as number;
    if (current > migrations.length) {
      throw new StoreError(
        'newer-schema',
        `schema version ${current}, this coordinator knows ${migrations.length}`,
      );
    }
    for (running = current; running < migrations.length; running++) {
      db.exec(migrations[running] ?? '');
      // PRAGMA takes no bound parameters; `running + 1` is an integer we computed.
      db.pragma(`user_version = ${running + 1}`);
    }
  });
  try {
    // IMMEDIATE takes the write lock before reading the version, so two processes opening
    // the same file cannot both run the same migration.
    migrate.immediate();
  } catch (error) {
    if (error instanceof StoreError) throw error;
    throw new StoreError(
      'migration-failed',
      `migration ${running} -> ${running + 1}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  return current;
}
