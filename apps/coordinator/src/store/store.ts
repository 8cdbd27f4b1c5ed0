import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import {
  MetricsPointSchema,
  RunConfigSchema,
  RunStatusSchema,
  safeParseMessage,
  type MetricsPoint,
  type RunConfig,
  type RunStatus,
} from '@vtrain/protocol';
import { STORE_MIGRATIONS, applyMigrations } from './migrations.js';
import { StoreError } from './store-error.js';

/** A run as persisted: its config, where it got to, and how it ended. */
export interface StoredRun {
  /** 1 to 64 characters, unique. */
  id: string;
  name: string;
  status: RunStatus;
  /** The full config, every default filled in (`RunConfigSchema` output). */
  config: RunConfig;
  /** Milliseconds since the Unix epoch. */
  createdAt: number;
  /** P, the length of the flat weight vector. */
  parameterCount: number;
  /** Applied-update counter of the global model at the last progress write. */
  version: number;
  /** Seconds of training so far (excludes time the coordinator was down). */
  elapsedSeconds: number;
  /** Why the run left `active` (stop rule met, researcher stop, error); absent while active. */
  endedReason?: string;
}

/** Increments {@link Store.addContribution} adds to a worker's counters for one run. */
export interface ContributionDelta {
  applied: number;
  rejected: number;
  samples: number;
}

/** A worker's cumulative counters for one run. */
export interface ContributionTotals extends ContributionDelta {
  workerId: string;
}

/** Longest run or worker id, as in the protocol's id schema. */
const MAX_ID_LENGTH = 64;

interface RunRow {
  id: string;
  name: string;
  status: string;
  config: string;
  created_at: number;
  parameter_count: number;
  version: number;
  elapsed_seconds: number;
  ended_reason: string | null;
}

interface MetricsRow {
  seq: number;
  run_id: string;
  at: number;
  version: number;
  point: string;
}

interface FiguresRow {
  latest: string | null;
  latest_at: number | null;
  evaluation: string | null;
  evaluation_at: number | null;
  full_evaluation: string | null;
  full_at: number | null;
}

/**
 * What a run summary shows of a run's series ({@link Store.runFigures}): the latest point,
 * and the latest points carrying an evaluation (sample or full set) and a full-set one.
 */
export interface StoredFigures {
  latest?: MetricsPoint;
  evaluation?: MetricsPoint;
  fullEvaluation?: MetricsPoint;
}

/** A write the database could not make because of the host (disk full, I/O error). */
export interface StoreWriteFault {
  /** What failed, e.g. "appendMetrics: database or disk is full". */
  readonly message: string;
  /** When the first of the failing writes failed, milliseconds since the Unix epoch. */
  readonly since: number;
}

/** Counters saturate here rather than pass 2^53 (where a JS number stops counting by one). */
const MAX_COUNT = Number.MAX_SAFE_INTEGER;

/** SQLite result codes that mean the host, not the data: the same write may succeed later. */
const HOST_FAULT_CODES = /^SQLITE_(FULL|IOERR|CANTOPEN|READONLY|NOLFS)/;

interface ContributionRow {
  worker_id: string;
  applied: number;
  rejected: number;
  samples: number;
}

function prepareStatements(db: Database.Database) {
  return {
    insertRun: db.prepare<[RunRow]>(
      `INSERT INTO runs (id, name, status, config, created_at, parameter_count, version,
         elapsed_seconds, ended_reason)
       VALUES (@id, @name, @status, @config, @created_at, @parameter_count, @version,
         @elapsed_seconds, @ended_reason)`,
    ),
    updateProgress: db.prepare<[{ id: string; version: number; elapsedSeconds: number }]>(
      'UPDATE runs SET version = @version, elapsed_seconds = @elapsedSeconds WHERE id = @id',
    ),
    setStatus: db.prepare<[{ id: string; status: RunStatus; endedReason: string | null }]>(
      'UPDATE runs SET status = @status, ended_reason = @endedReason WHERE id = @id',
    ),
    getRun: db.prepare<[string], RunRow>('SELECT * FROM runs WHERE id = ?'),
    // rowid breaks ties between runs created in the same millisecond: later insert first.
    listRuns: db.prepare<[], RunRow>('SELECT * FROM runs ORDER BY created_at DESC, rowid DESC'),
    insertMetrics: db.prepare<[string, number, number, string]>(
      'INSERT INTO metrics (run_id, at, version, point) VALUES (?, ?, ?, ?)',
    ),
    listMetrics: db.prepare<[string], MetricsRow>(
      'SELECT seq, run_id, at, version, point FROM metrics WHERE run_id = ? ORDER BY at, seq',
    ),
    getFigures: db.prepare<[string], FiguresRow>('SELECT * FROM run_figures WHERE run_id = ?'),
    // A point replaces a figure unless it is older (listMetrics order: at, then insertion).
    upsertFigures: db.prepare<
      [{ runId: string; at: number; point: string; evaluated: 0 | 1; full: 0 | 1 }]
    >(
      `INSERT INTO run_figures (run_id, latest, latest_at, evaluation, evaluation_at,
         full_evaluation, full_at)
       VALUES (@runId, @point, @at,
         CASE WHEN @evaluated THEN @point END, CASE WHEN @evaluated THEN @at END,
         CASE WHEN @full THEN @point END, CASE WHEN @full THEN @at END)
       ON CONFLICT (run_id) DO UPDATE SET
         latest = CASE WHEN latest_at IS NULL OR @at >= latest_at THEN @point ELSE latest END,
         latest_at = CASE WHEN latest_at IS NULL OR @at >= latest_at THEN @at ELSE latest_at END,
         evaluation = CASE WHEN @evaluated AND (evaluation_at IS NULL OR @at >= evaluation_at)
           THEN @point ELSE evaluation END,
         evaluation_at = CASE WHEN @evaluated AND (evaluation_at IS NULL OR @at >= evaluation_at)
           THEN @at ELSE evaluation_at END,
         full_evaluation = CASE WHEN @full AND (full_at IS NULL OR @at >= full_at)
           THEN @point ELSE full_evaluation END,
         full_at = CASE WHEN @full AND (full_at IS NULL OR @at >= full_at)
           THEN @at ELSE full_at END`,
    ),
    addContribution: db.prepare<[{ runId: string; workerId: string } & ContributionDelta]>(
      `INSERT INTO contributions (run_id, worker_id, applied, rejected, samples)
       VALUES (@runId, @workerId, @applied, @rejected, @samples)
       ON CONFLICT (run_id, worker_id) DO UPDATE SET
         applied = MIN(applied + excluded.applied, ${MAX_COUNT}),
         rejected = MIN(rejected + excluded.rejected, ${MAX_COUNT}),
         samples = MIN(samples + excluded.samples, ${MAX_COUNT})`,
    ),
    listContributions: db.prepare<[string], ContributionRow>(
      `SELECT worker_id, applied, rejected, samples FROM contributions
       WHERE run_id = ? ORDER BY worker_id`,
    ),
    getSetting: db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?'),
    setSetting: db.prepare<[string, string]>(
      `INSERT INTO settings (key, value) VALUES (?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
    ),
    deleteSetting: db.prepare<[string]>('DELETE FROM settings WHERE key = ?'),
    // Worker secrets live in settings under WORKER_SECRET_PREFIX, valued "<last seen ms,
    // 15 digits> <hash>": the key range is a prefix scan and the value sorts by age.
    expireWorkerSecrets: db.prepare<[{ low: string; high: string; before: string }]>(
      `DELETE FROM settings WHERE key >= @low AND key < @high
       AND (instr(value, ' ') <> 16 OR substr(value, 1, 15) < @before)`,
    ),
    countWorkerSecrets: db.prepare<[{ low: string; high: string }], { n: number }>(
      'SELECT count(*) AS n FROM settings WHERE key >= @low AND key < @high',
    ),
    dropOldestWorkerSecrets: db.prepare<[{ low: string; high: string; n: number }]>(
      `DELETE FROM settings WHERE key IN (
         SELECT key FROM settings WHERE key >= @low AND key < @high ORDER BY value LIMIT @n)`,
    ),
  };
}

/** Settings keys of worker secrets: `worker-secret:<workerId>`. */
const WORKER_SECRET_PREFIX = 'worker-secret:';
/** The first key after every `worker-secret:...` key (';' follows ':'). */
const WORKER_SECRET_END = 'worker-secret;';
/** Digits of a worker secret's last-seen time: milliseconds since 1970 until the year 33658. */
const SEEN_DIGITS = 15;

/** A worker identity's stored secret hash and when it was last issued or resumed. */
export interface WorkerSecret {
  readonly hash: string;
  readonly lastSeenAt: number;
}

/**
 * The coordinator's embedded database (docs/architecture.md#around-the-update): runs, metrics time
 * series,
 * per-worker contributions and settings in one SQLite file via better-sqlite3.
 *
 * - WAL journal with `synchronous = NORMAL`: a commit is an append to the log with no fsync,
 *   so many metric inserts per second stay cheap; a power cut may lose the last commits but
 *   never corrupts the file (the durable training state is in the checkpoints).
 * - Schema versioned by `PRAGMA user_version` ({@link STORE_MIGRATIONS}).
 * - Config and metrics are JSON text, validated against the protocol schemas on the way in
 *   and again on the way out, so a row damaged outside the coordinator is reported by name
 *   (`corrupt-row`) instead of flowing into the dashboard.
 * - Foreign keys on: metrics and contributions for a run that does not exist are refused.
 *
 * Synchronous by design: better-sqlite3 calls take microseconds and the coordinator is the
 * only writer.
 */
export class Store {
  private readonly db: Database.Database;
  private readonly statements: ReturnType<typeof prepareStatements>;
  private fault: StoreWriteFault | undefined;
  private readonly appendPoint: (
    runId: string,
    at: number,
    version: number,
    point: string,
    evaluated: boolean,
    full: boolean,
  ) => void;

  /**
   * Opens (creating it and its directory if needed) and migrates the database at `path`;
   * `:memory:` works too.
   *
   * @throws {@link StoreError} `newer-schema` or `migration-failed` (see {@link applyMigrations}).
   */
  constructor(path: string) {
    if (path !== ':memory:' && path !== '') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    try {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('foreign_keys = ON');
      this.db.pragma('busy_timeout = 5000');
      applyMigrations(this.db, STORE_MIGRATIONS);
      this.statements = prepareStatements(this.db);
      const statements = this.statements;
      // One transaction: the figures row never disagrees with the series.
      this.appendPoint = this.db.transaction(
        (
          runId: string,
          at: number,
          version: number,
          point: string,
          evaluated: boolean,
          full: boolean,
        ) => {
          statements.insertMetrics.run(runId, at, version, point);
          statements.upsertFigures.run({
            runId,
            at,
            point,
            evaluated: evaluated ? 1 : 0,
            full: full ? 1 : 0,
          });
        },
      );
    } catch (error) {
      this.db.close();
      throw error;
    }
  }

  /**
   * Persists a new run.
   *
   * @throws {@link StoreError} `duplicate-run`, or `invalid-argument` when a field does not fit
   *   (bad id, status or config, negative or fractional counters).
   */
  createRun(run: StoredRun): void {
    checkId('run id', run.id);
    if (typeof run.name !== 'string') throw invalid('run name', run.name);
    const status = RunStatusSchema.safeParse(run.status);
    if (!status.success) throw invalid('run status', run.status);
    const config = safeParseMessage(RunConfigSchema, run.config, 'run config');
    if (!config.ok) {
      throw new StoreError(
        'invalid-argument',
        `run ${JSON.stringify(run.id)}: ${config.error.message}`,
      );
    }
    checkFinite('createdAt', run.createdAt);
    checkCount('parameterCount', run.parameterCount);
    checkCount('version', run.version);
    checkNonNegative('elapsedSeconds', run.elapsedSeconds);
    if (run.endedReason !== undefined && typeof run.endedReason !== 'string') {
      throw invalid('endedReason', run.endedReason);
    }
    try {
      this.write('createRun', () =>
        this.statements.insertRun.run({
          id: run.id,
          name: run.name,
          status: status.data,
          config: JSON.stringify(config.value),
          created_at: run.createdAt,
          parameter_count: run.parameterCount,
          version: run.version,
          elapsed_seconds: run.elapsedSeconds,
          ended_reason: run.endedReason ?? null,
        }),
      );
    } catch (error) {
      if (error instanceof Database.SqliteError && error.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
        throw new StoreError('duplicate-run', JSON.stringify(run.id), { cause: error });
      }
      throw error;
    }
  }

  /**
   * Records where a run got to (written with each checkpoint and on stop).
   *
   * @throws {@link StoreError} `unknown-run`, `invalid-argument`.
   */
  updateRunProgress(id: string, progress: { version: number; elapsedSeconds: number }): void {
    checkCount('version', progress.version);
    checkNonNegative('elapsedSeconds', progress.elapsedSeconds);
    const result = this.write('updateRunProgress', () =>
      this.statements.updateProgress.run({ id, ...progress }),
    );
    if (result.changes === 0) throw new StoreError('unknown-run', JSON.stringify(id));
  }

  /**
   * Sets a run's status; `endedReason` replaces the stored one, and leaving it out clears it
   * (a resumed run is no longer ended).
   *
   * @throws {@link StoreError} `unknown-run`, `invalid-argument`.
   */
  setRunStatus(id: string, status: RunStatus, endedReason?: string): void {
    const parsed = RunStatusSchema.safeParse(status);
    if (!parsed.success) throw invalid('run status', status);
    const result = this.write('setRunStatus', () =>
      this.statements.setStatus.run({
        id,
        status: parsed.data,
        endedReason: endedReason ?? null,
      }),
    );
    if (result.changes === 0) throw new StoreError('unknown-run', JSON.stringify(id));
  }

  /**
   * @returns the run, or undefined when there is none with this id.
   * @throws {@link StoreError} `corrupt-row` when its row does not pass the schemas.
   */
  getRun(id: string): StoredRun | undefined {
    const row = this.statements.getRun.get(id);
    return row === undefined ? undefined : runFromRow(row);
  }

  /**
   * @returns every run, newest `createdAt` first.
   * @throws {@link StoreError} `corrupt-row`, naming the first bad row.
   */
  listRuns(): StoredRun[] {
    return this.statements.listRuns.all().map(runFromRow);
  }

  /**
   * Appends one metrics point and updates the run's figures ({@link runFigures}) in the same
   * transaction (one WAL append).
   *
   * @throws {@link StoreError} `invalid-argument` when the point fails `MetricsPointSchema`,
   *   `unknown-run` when its run does not exist, `storage-unavailable`.
   */
  appendMetrics(point: MetricsPoint): void {
    const parsed = safeParseMessage(MetricsPointSchema, point, 'metrics point');
    if (!parsed.ok) throw new StoreError('invalid-argument', parsed.error.message);
    const { runId, at, version, testSet } = parsed.value;
    const evaluated = isEvaluation(parsed.value);
    try {
      this.write('appendMetrics', () => {
        this.appendPoint(
          runId,
          at,
          version,
          JSON.stringify(parsed.value),
          evaluated,
          evaluated && testSet === 'full',
        );
      });
    } catch (error) {
      throw unknownRunOr(error, runId);
    }
  }

  /**
   * The run's latest point and latest evaluated points, read from one maintained row: the
   * cost does not grow with the run's series.
   *
   * @throws {@link StoreError} `corrupt-row` when a stored point does not pass its schema.
   */
  runFigures(runId: string): StoredFigures {
    const row = this.statements.getFigures.get(runId);
    const figures: StoredFigures = {};
    if (!row) return figures;
    const where = `run_figures row ${JSON.stringify(runId)}`;
    const read = (text: string | null, what: string): MetricsPoint | undefined => {
      if (text === null) return undefined;
      const point = safeParseMessage(
        MetricsPointSchema,
        parseJson(text, `${where}, ${what}`),
        what,
      );
      if (!point.ok) throw new StoreError('corrupt-row', `${where}: ${point.error.message}`);
      return point.value;
    };
    const latest = read(row.latest, 'latest');
    const evaluation = read(row.evaluation, 'evaluation');
    const fullEvaluation = read(row.full_evaluation, 'full_evaluation');
    if (latest) figures.latest = latest;
    if (evaluation) figures.evaluation = evaluation;
    if (fullEvaluation) figures.fullEvaluation = fullEvaluation;
    return figures;
  }

  /**
   * The host fault of the last write, if it failed for one (disk full, I/O error); cleared by
   * the next write that succeeds. Reads keep working meanwhile.
   */
  writeFault(): StoreWriteFault | undefined {
    return this.fault;
  }

  /**
   * @returns the run's metrics points, by `at` ascending (insertion order among equal times).
   * @throws {@link StoreError} `corrupt-row`, naming the bad row.
   */
  listMetrics(runId: string): MetricsPoint[] {
    return this.statements.listMetrics.all(runId).map(metricsFromRow);
  }

  /**
   * Adds `delta` to the worker's counters for the run, creating them at zero first
   * (an upsert: total = previous total + delta).
   *
   * @throws {@link StoreError} `invalid-argument` for a bad id or a negative or fractional
   *   count, `unknown-run` when the run does not exist.
   */
  addContribution(runId: string, workerId: string, delta: ContributionDelta): void {
    checkId('worker id', workerId);
    checkCount('applied', delta.applied);
    checkCount('rejected', delta.rejected);
    checkCount('samples', delta.samples);
    try {
      this.write('addContribution', () =>
        this.statements.addContribution.run({
          runId,
          workerId,
          applied: delta.applied,
          rejected: delta.rejected,
          samples: delta.samples,
        }),
      );
    } catch (error) {
      throw unknownRunOr(error, runId);
    }
  }

  /** @returns every worker's totals for the run, by worker id. */
  listContributions(runId: string): ContributionTotals[] {
    return this.statements.listContributions.all(runId).map((row) => ({
      workerId: row.worker_id,
      applied: row.applied,
      rejected: row.rejected,
      samples: row.samples,
    }));
  }

  /** @returns the setting's value, or undefined when it was never set. */
  getSetting(key: string): string | undefined {
    return this.statements.getSetting.get(key)?.value;
  }

  /** Sets (or replaces) a setting. */
  setSetting(key: string, value: string): void {
    if (typeof key !== 'string' || typeof value !== 'string') {
      throw invalid('setting', `${typeof key} = ${typeof value}`);
    }
    this.write('setSetting', () => this.statements.setSetting.run(key, value));
  }

  /**
   * Runs a write; a host fault (disk full, I/O error) becomes `storage-unavailable` and is
   * remembered in {@link writeFault} until a write succeeds. SQLite rolls the failed
   * statement or transaction back, so nothing half-written stays.
   */
  private write<T>(what: string, run: () => T): T {
    try {
      const result = run();
      this.fault = undefined;
      return result;
    } catch (error) {
      if (error instanceof Database.SqliteError && HOST_FAULT_CODES.test(error.code)) {
        const message = `${what}: ${error.message}`;
        this.fault ??= { message, since: Date.now() };
        throw new StoreError('storage-unavailable', message, { cause: error });
      }
      throw error;
    }
  }

  /** Stores (or refreshes) a worker identity's secret hash, seen at `at` (ms). */
  putWorkerSecret(workerId: string, hash: string, at: number): void {
    if (typeof workerId !== 'string' || workerId === '') throw invalid('workerId', workerId);
    if (typeof hash !== 'string' || !/^[0-9a-f]+$/.test(hash)) throw invalid('hash', hash);
    if (!Number.isSafeInteger(at) || at < 0) throw invalid('at', at);
    const seen = String(at).padStart(SEEN_DIGITS, '0');
    this.statements.setSetting.run(WORKER_SECRET_PREFIX + workerId, `${seen} ${hash}`);
  }

  /** A worker identity's secret, or undefined when unknown (never issued, expired or revoked). */
  getWorkerSecret(workerId: string): WorkerSecret | undefined {
    const value = this.statements.getSetting.get(WORKER_SECRET_PREFIX + workerId)?.value;
    if (value === undefined) return undefined;
    const space = value.indexOf(' ');
    // Written before identities expired: a bare hash, treated as seen at time 0.
    if (space < 0) return { hash: value, lastSeenAt: 0 };
    return { hash: value.slice(space + 1), lastSeenAt: Number(value.slice(0, space)) };
  }

  /** Forgets worker identities (their secrets no longer resume them); one transaction. */
  deleteWorkerSecrets(workerIds: readonly string[]): void {
    if (workerIds.length === 0) return;
    const remove = this.db.transaction((ids: readonly string[]) => {
      for (const id of ids) this.statements.deleteSetting.run(WORKER_SECRET_PREFIX + id);
    });
    remove(workerIds);
  }

  /**
   * Bounds the stored worker identities: drops those last seen before `before` (ms; and
   * any stored without a time), then the least recently seen beyond `keepAtMost`.
   *
   * @returns how many are left.
   */
  expireWorkerSecrets(before: number, keepAtMost: number): number {
    const range = { low: WORKER_SECRET_PREFIX, high: WORKER_SECRET_END };
    const expire = this.db.transaction(() => {
      const cutoff = String(Math.max(0, Math.floor(before))).padStart(SEEN_DIGITS, '0');
      this.statements.expireWorkerSecrets.run({ ...range, before: cutoff });
      const count = this.statements.countWorkerSecrets.get(range)?.n ?? 0;
      if (count > keepAtMost) {
        this.statements.dropOldestWorkerSecrets.run({ ...range, n: count - keepAtMost });
      }
      return Math.min(count, keepAtMost);
    });
    return expire();
  }

  /** Closes the database; further calls throw. Safe to call twice. */
  close(): void {
    if (this.db.open) this.db.close();
  }
}

function runFromRow(row: RunRow): StoredRun {
  const where = `runs row id=${JSON.stringify(row.id)}`;
  const status = RunStatusSchema.safeParse(row.status);
  if (!status.success) {
    throw new StoreError('corrupt-row', `${where}: status ${JSON.stringify(row.status)}`);
  }
  const config = safeParseMessage(
    RunConfigSchema,
    parseJson(row.config, `${where}, config`),
    'config',
  );
  if (!config.ok) throw new StoreError('corrupt-row', `${where}: ${config.error.message}`);
  const run: StoredRun = {
    id: row.id,
    name: row.name,
    status: status.data,
    config: config.value,
    createdAt: row.created_at,
    parameterCount: row.parameter_count,
    version: row.version,
    elapsedSeconds: row.elapsed_seconds,
  };
  if (row.ended_reason !== null) run.endedReason = row.ended_reason;
  return run;
}

function metricsFromRow(row: MetricsRow): MetricsPoint {
  const where = `metrics row seq=${row.seq} (run ${JSON.stringify(row.run_id)})`;
  const point = safeParseMessage(MetricsPointSchema, parseJson(row.point, where), 'point');
  if (!point.ok) throw new StoreError('corrupt-row', `${where}: ${point.error.message}`);
  // The indexed columns drive the queries; a point that disagrees with them was edited by hand.
  const { runId, at, version } = point.value;
  if (runId !== row.run_id || at !== row.at || version !== row.version) {
    throw new StoreError(
      'corrupt-row',
      `${where}: columns (${row.run_id}, ${row.at}, ${row.version}) differ from the point's (${runId}, ${at}, ${version})`,
    );
  }
  return point.value;
}

/** Whether a point carries a whole evaluation (points from before protocol 2 lack the test set). */
function isEvaluation(point: MetricsPoint): boolean {
  return (
    point.testLoss !== undefined &&
    point.testAccuracy !== undefined &&
    point.testExamples !== undefined &&
    point.testSet !== undefined
  );
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new StoreError(
      'corrupt-row',
      `${where}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
}

function unknownRunOr(error: unknown, runId: string): unknown {
  return error instanceof Database.SqliteError && error.code === 'SQLITE_CONSTRAINT_FOREIGNKEY'
    ? new StoreError('unknown-run', JSON.stringify(runId), { cause: error })
    : error;
}

function invalid(what: string, value: unknown): StoreError {
  const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return new StoreError('invalid-argument', `${what} = ${shown}`);
}

function checkId(what: string, value: string): void {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_ID_LENGTH) {
    throw invalid(what, value);
  }
}

function checkCount(what: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw invalid(what, value);
}

function checkFinite(what: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(what, value);
}

function checkNonNegative(what: string, value: number): void {
  checkFinite(what, value);
  if (value < 0) throw invalid(what, value);
}
