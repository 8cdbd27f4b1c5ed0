import * as z from 'zod';
import { BackendSchema, PhaseSchema, REJECT_REASONS } from './messages.js';
import { RunConfigSchema } from './run-config.js';

/*
 * Messages of the dashboard namespace and the HTTP API's run views. A
 * dashboard connects with `auth: { token }`; without the researcher token it
 * may only read.
 */

const id = () => z.string().min(1).max(64);

export const RUN_STATUSES = ['active', 'stopped', 'completed', 'failed'] as const;
export const RunStatusSchema = z.enum(RUN_STATUSES);
export type RunStatus = z.output<typeof RunStatusSchema>;

/** Count per reject reason; absent reasons are zero. */
export const RejectCountsSchema = z.partialRecord(z.enum(REJECT_REASONS), z.int().min(0));
export type RejectCounts = z.output<typeof RejectCountsSchema>;

/** All rejected updates of a count per reason: the sum over the reasons present. */
export function totalRejected(counts: Readonly<RejectCounts>): number {
  let total = 0;
  for (const count of Object.values(counts)) total += count;
  return total;
}

/** Staleness of updates applied since the previous point. */
export const StalenessSummarySchema = z.strictObject({
  p50: z.number().min(0),
  p90: z.number().min(0),
  max: z.number().min(0),
  /** Histogram: counts[i] updates had staleness i; the last bucket holds everything larger. */
  counts: z.array(z.int().min(0)).max(64),
});

/**
 * Which held-out examples an evaluation used: `sample` is the run's fixed random sample of
 * `evaluation.testExamples` examples (seeded from the run's seed, so every periodic
 * evaluation of a run, before and after a restart, sees the same examples); `full` is the
 * whole test set (final evaluations, the check behind `target-reached`, exports).
 */
export const TEST_SETS = ['sample', 'full'] as const;
export const TestSetSchema = z.enum(TEST_SETS);
export type TestSet = z.output<typeof TestSetSchema>;

/**
 * One point of a run's time series. Test metrics are present on points where
 * an evaluation finished, and such a point's `version` is the version evaluated
 * (which can be older than the previous point's); counters are cumulative since
 * the run started, so a client computes rates from two points.
 */
export const MetricsPointSchema = z.strictObject({
  runId: id(),
  /** Milliseconds since the Unix epoch. */
  at: z.number(),
  /** Seconds of training since the run started (excludes time the coordinator was down). */
  elapsedSeconds: z.number().min(0),
  version: z.int().min(0),
  testLoss: z.number().optional(),
  testAccuracy: z.number().min(0).max(1).optional(),
  /**
   * With the test metrics: how many held-out examples they are over (absent on points
   * written before protocol version 2).
   */
  testExamples: z.int().min(1).optional(),
  /** With the test metrics: the examples' set (absent on points written before protocol version 2). */
  testSet: TestSetSchema.optional(),
  trainLoss: z.number().optional(),
  phase: PhaseSchema,
  k: z.int().min(1),
  activeWorkers: z.int().min(0),
  localSteps: z.int().min(1),
  staleness: StalenessSummarySchema,
  updatesApplied: z.int().min(0),
  updatesRejected: RejectCountsSchema,
  samples: z.int().min(0),
  bytesIn: z.int().min(0),
  bytesOut: z.int().min(0),
});
export type MetricsPoint = z.output<typeof MetricsPointSchema>;

/**
 * A row of the worker table, sent only to dashboards holding the researcher token.
 * Never carries an IP address nor the full user agent: a volunteer shows as the
 * browser family, the operating system and the backend, which is what a researcher
 * needs to read speeds and failures and too little to single one out.
 */
export const WorkerSummarySchema = z.strictObject({
  workerId: id(),
  kind: z.enum(['browser', 'node']),
  /** Browser family with its major version ("Chrome 131"), or "Node.js 20" for a headless worker; "" when unknown. */
  browser: z.string().max(60),
  /** Operating system family ("Windows", "macOS", "Linux"...); "" when unknown. */
  os: z.string().max(60),
  backend: BackendSchema,
  samplesPerSecond: z.number().min(0),
  updatesApplied: z.int().min(0),
  updatesRejected: z.int().min(0),
  lastSeenAt: z.number(),
});
export type WorkerSummary = z.output<typeof WorkerSummarySchema>;

/**
 * One evaluation of a run's weights: the figures always travel with the version they
 * belong to, which can be older than the run's current version.
 */
export const EvaluationSchema = z.strictObject({
  /** The model version evaluated. */
  version: z.int().min(0),
  /** When the evaluation finished, milliseconds since the Unix epoch. */
  at: z.number(),
  /** Mean softmax cross-entropy, in nats. */
  testLoss: z.number(),
  /** Fraction of the examples classified correctly; 0 is a value like any other. */
  testAccuracy: z.number().min(0).max(1),
  /** How many held-out examples the figures are over. */
  testExamples: z.int().min(1),
  testSet: TestSetSchema,
});
export type Evaluation = z.output<typeof EvaluationSchema>;

/**
 * A host fault that stops a run from making anything durable (disk full, I/O errors on
 * the database or the checkpoints). While it lasts the coordinator serves reads and
 * refuses updates with the reject reason `storage-unavailable`; it clears by itself once
 * writes succeed again.
 */
export const StorageFaultSchema = z.strictObject({
  code: z.literal('storage-unavailable'),
  /** What failed, for the researcher (e.g. "checkpoint: ENOSPC: no space left on device"). */
  message: z.string().max(500),
  /** When the fault began, milliseconds since the Unix epoch. */
  since: z.number(),
});
export type StorageFault = z.output<typeof StorageFaultSchema>;

/** What `GET /api/runs/:id` returns and the dashboard shows in the run list. */
export const RunSummarySchema = z.strictObject({
  id: id(),
  name: z.string(),
  status: RunStatusSchema,
  createdAt: z.number(),
  version: z.int().min(0),
  parameterCount: z.int().min(0),
  activeWorkers: z.int().min(0),
  config: RunConfigSchema,
  /** The run's latest metrics point, as recorded (its test metrics, if any, are of its `version`). */
  latest: MetricsPointSchema.optional(),
  /** The run's latest evaluation (sample or full set), with the version it evaluated. */
  evaluation: EvaluationSchema.optional(),
  /** The run's latest evaluation on the whole test set, with the version it evaluated. */
  fullEvaluation: EvaluationSchema.optional(),
  /** Present while the run cannot make its progress durable; updates are refused meanwhile. */
  fault: StorageFaultSchema.optional(),
});
export type RunSummary = z.output<typeof RunSummarySchema>;

/** Dashboard asks to follow a run: answered with the run and its series so far. */
export const SubscribeSchema = z.strictObject({ type: z.literal('subscribe'), runId: id() });
export type Subscribe = z.output<typeof SubscribeSchema>;

/**
 * The answer to {@link SubscribeSchema}. `workers` (the worker table) is present only for a
 * dashboard connected with the researcher token, and only such dashboards get `workers`
 * notices; anyone else sees the number of workers (`run.activeWorkers`, the points'
 * `activeWorkers`).
 */
export const SubscribedSchema = z.strictObject({
  type: z.literal('subscribed'),
  run: RunSummarySchema,
  metrics: z.array(MetricsPointSchema),
  workers: z.array(WorkerSummarySchema).optional(),
});
export type Subscribed = z.output<typeof SubscribedSchema>;

/**
 * `GET /api/health`. The coordinator listens only once it is ready (runs resumed and, on a
 * first start, the demo run created), so any answer with `ready: true` means the API and
 * socket.io serve the runs; while it shuts down it answers 503 with `ready: false`.
 */
export const HealthSchema = z.strictObject({
  ok: z.boolean(),
  ready: z.boolean(),
  protocolVersion: z.int().min(1),
  /**
   * `unavailable` while the coordinator's last database or checkpoint write failed (disk
   * full, I/O error): it serves reads and refuses updates until writes succeed again.
   */
  storage: z.enum(['ok', 'unavailable']),
});
export type Health = z.output<typeof HealthSchema>;

/** A researcher action over the socket; needs the token given at connection. */
export const StopRunSchema = z.strictObject({ type: z.literal('stop-run'), runId: id() });
export type StopRun = z.output<typeof StopRunSchema>;

export const RunStatusNoticeSchema = z.strictObject({
  type: z.literal('run-status'),
  run: RunSummarySchema,
});
export type RunStatusNotice = z.output<typeof RunStatusNoticeSchema>;

export const WorkersNoticeSchema = z.strictObject({
  type: z.literal('workers'),
  runId: id(),
  workers: z.array(WorkerSummarySchema),
});
export type WorkersNotice = z.output<typeof WorkersNoticeSchema>;

/**
 * Something the coordinator did to a run on its own, for the dashboard's event list (since
 * protocol 3). `rollback`: non-finite weights were found (at `foundAtVersion`) and the
 * weights and optimizer state of the last good checkpoint (`checkpointVersion`) were
 * restored, as the new version `version` (versions never go back).
 */
export const RunEventNoticeSchema = z.strictObject({
  type: z.literal('run-event'),
  runId: id(),
  /** Milliseconds since the Unix epoch. */
  at: z.number(),
  kind: z.enum(['rollback']),
  /** The run's version after the event. */
  version: z.int().min(0),
  foundAtVersion: z.int().min(0),
  checkpointVersion: z.int().min(0),
  /** What was found, in words. */
  message: z.string().max(500),
});
export type RunEventNotice = z.output<typeof RunEventNoticeSchema>;

export const OkReplySchema = z.strictObject({ type: z.literal('ok') });
export type OkReply = z.output<typeof OkReplySchema>;

/**
 * The files of a run's export, by their path under `/api/runs/:id/export/`: the
 * TensorFlow.js model (loadable by `tf.loadLayersModel`), the same weights as
 * safetensors, and the manifest with the run config, metrics and SHA-256 of each file.
 */
export const EXPORT_FILE_NAMES = [
  'tfjs/model.json',
  'tfjs/weights.bin',
  'model.safetensors',
  'manifest.json',
] as const;

/** One of {@link EXPORT_FILE_NAMES}. */
export type ExportFileName = (typeof EXPORT_FILE_NAMES)[number];
