import { randomUUID } from 'node:crypto';
import type { PhaseCommand, ScheduleState, SparseVector } from '@vtrain/optimizer';
import {
  RunConfigSchema,
  parseMessage,
  type Assignment,
  type Evaluation,
  type Hello,
  type MetricsPoint,
  type RejectReason,
  type RunEnded,
  type RunEventNotice,
  type RunSummary,
  type StorageFault,
  type WorkerSummary,
} from '@vtrain/protocol';
import type { EvaluationResult, Evaluator } from '../evaluation/evaluator.js';
import type { Checkpoint } from '../store/checkpoint-format.js';
import type { CheckpointStore } from '../store/checkpoints.js';
import { StoreError } from '../store/store-error.js';
import type { Store, StoredFigures, StoredRun } from '../store/store.js';
import { clientFamilies } from '../net/client-description.js';
import { WorkerReplicas } from './downstream.js';
import { elapsedSeconds, leastCoveredShard, workerSummary, type LiveRun } from './live-run.js';
import { addCount, summariseStaleness, type RunCounters } from './run-counters.js';
import { RunEngine, type EngineEffects, type UpdateMeta, type Verdict } from './run-engine.js';
import { DatasetFileError } from '../datasets/dataset-file.js';
import {
  RunSetupError,
  buildRunModel,
  buildShards,
  initialWeights,
  type DatasetCache,
} from './run-setup.js';

/** What the transport tells workers and dashboards; the manager decides when. */
export interface RunListener {
  version(runId: string, version: number): void;
  phase(runId: string, phase: PhaseCommand): void;
  runEnded(runId: string, reason: RunEnded['reason']): void;
  metrics(point: MetricsPoint): void;
  runStatus(run: RunSummary): void;
  workers(runId: string, workers: WorkerSummary[]): void;
  /** Something the coordinator did to a run on its own (a rollback), for dashboards. */
  runEvent(event: RunEventNotice): void;
}

export interface RunManagerDeps {
  readonly store: Store;
  readonly checkpoints: CheckpointStore;
  readonly evaluator: Evaluator;
  readonly datasets: DatasetCache;
  readonly listener: RunListener;
  /** Largest message the transport accepts; runs whose updates exceed it are refused. */
  readonly maxMessageBytes: number;
  readonly now?: () => number;
  readonly log?: (message: string) => void;
}

/** Metrics points are written at most this often between evaluations. */
const METRICS_INTERVAL_MS = 2000;

/** What a run summary shows of a run's series, kept current as points are recorded. */
interface RunFigures {
  /** The latest point, as recorded. */
  latest?: MetricsPoint;
  /** The latest evaluation, sample or full set. */
  evaluation?: Evaluation;
  /** The latest evaluation on the whole test set. */
  fullEvaluation?: Evaluation;
}

/**
 * Owns every run: creates and resumes them, assigns workers, feeds updates to
 * each run's engine, and carries out what the engines decide (notices,
 * evaluations, checkpoints, stop rules, metrics). Transport-free: sockets and
 * HTTP call it and implement {@link RunListener}.
 */
export class RunManager {
  private readonly live = new Map<string, LiveRun>();
  /** Per run, read from the database once, then updated as points are recorded. */
  private readonly figures = new Map<string, RunFigures>();
  private readonly now: () => number;
  private readonly log: (message: string) => void;
  private readonly housekeeping: ReturnType<typeof setInterval>;
  /** Runs whose last checkpoint write failed: what failed and since when. */
  private readonly checkpointFaults = new Map<string, { message: string; since: number }>();
  /** Runs whose rollback is in progress (one at a time per run). */
  private readonly rollingBack = new Set<string>();

  constructor(private readonly deps: RunManagerDeps) {
    this.now = deps.now ?? Date.now;
    this.log = deps.log ?? (() => undefined);
    this.housekeeping = setInterval(() => {
      for (const run of this.live.values()) this.periodic(run);
    }, METRICS_INTERVAL_MS);
    this.housekeeping.unref();
  }

  /** Re-opens every run that was active when the coordinator stopped, from its last checkpoint. */
  async resumeAll(): Promise<void> {
    for (const stored of this.deps.store.listRuns()) {
      if (stored.status !== 'active') continue;
      const checkpoint = await this.deps.checkpoints.readLatest(stored.id);
      if (!checkpoint) {
        this.log(`run ${stored.id} has no checkpoint; marking it failed`);
        this.deps.store.setRunStatus(stored.id, 'failed', 'no checkpoint to resume from');
        continue;
      }
      try {
        await this.open(stored, checkpoint);
      } catch (error) {
        // An uploaded set deleted or changed on disk (SHA-256): the run cannot go on as it began.
        if (!(error instanceof DatasetFileError || error instanceof RunSetupError)) throw error;
        this.log(`run ${stored.id} cannot resume: ${error.message}; marking it failed`);
        this.deps.store.setRunStatus(stored.id, 'failed', `data set: ${error.message}`);
        continue;
      }
      this.log(`resumed run ${stored.id} "${stored.name}" at version ${checkpoint.version}`);
    }
  }

  /**
   * Validates and creates a run, persists it with its version-0 checkpoint,
   * and opens it to workers.
   *
   * @throws ValidationError (per-field issues) or RunSetupError.
   */
  async createRun(input: unknown): Promise<string> {
    const config = parseMessage(RunConfigSchema, input, 'run config');
    const id = randomUUID();
    const model = await buildRunModel(
      config,
      this.deps.maxMessageBytes,
      this.deps.datasets.info(config.dataset),
    );
    const weights = initialWeights(model);
    model.model.dispose();
    const stored: StoredRun = {
      id,
      name: config.name,
      status: 'active',
      config,
      createdAt: this.now(),
      parameterCount: weights.length,
      version: 0,
      elapsedSeconds: 0,
    };
    const checkpoint = toCheckpoint(new RunEngine(config, weights, this.now()), 0, this.now());
    await this.deps.checkpoints.write(id, checkpoint);
    this.deps.store.createRun(stored);
    await this.open(stored, checkpoint);
    return id;
  }

  listRuns(): RunSummary[] {
    return this.deps.store.listRuns().map((stored) => this.summary(stored));
  }

  getRun(id: string): RunSummary | undefined {
    const stored = this.storedRun(id);
    return stored && this.summary(stored);
  }

  storedRun(id: string): StoredRun | undefined {
    return this.live.get(id)?.stored ?? this.deps.store.getRun(id);
  }

  metrics(id: string): MetricsPoint[] {
    return this.deps.store.listMetrics(id);
  }

  workers(id: string): WorkerSummary[] {
    return [...(this.live.get(id)?.workers.values() ?? [])].map(workerSummary);
  }

  liveRun(id: string): LiveRun | undefined {
    return this.live.get(id);
  }

  /**
   * The host fault that keeps a run (or, without `runId`, any run) from making its progress
   * durable: the database's last write failed, or the run's last checkpoint did. Updates
   * are refused while it lasts; it clears once the writes succeed again.
   */
  storageFault(runId?: string): StorageFault | undefined {
    const store = this.deps.store.writeFault();
    const checkpoint =
      runId === undefined
        ? this.checkpointFaults.values().next().value
        : this.checkpointFaults.get(runId);
    const fault = checkpoint ?? store;
    if (!fault) return undefined;
    return {
      code: 'storage-unavailable',
      message: fault.message.slice(0, 500),
      since: Math.min(fault.since, store?.since ?? Infinity),
    };
  }

  /** The run a new worker should join: the active run with the fewest workers. */
  pickRun(): LiveRun | undefined {
    let best: LiveRun | undefined;
    for (const run of this.live.values()) {
      if (run.stopping) continue;
      if (!best || run.workers.size < best.workers.size) best = run;
    }
    return best;
  }

  /** Registers a worker with a run and returns what it needs to train. */
  join(run: LiveRun, workerId: string, hello: Hello): Assignment {
    const shardIndex = leastCoveredShard(run);
    const at = this.now();
    run.workers.set(workerId, {
      workerId,
      kind: hello.client.kind,
      // Families only: the raw user agent is not kept (docs/api.md, privacy).
      ...clientFamilies(hello.client.kind, hello.client.description),
      backend: hello.backend,
      samplesPerSecond: hello.speedProbe?.samplesPerSecond ?? 0,
      updatesApplied: 0,
      updatesRejected: 0,
      lastSeenAt: at,
      shardIndex,
      unsaved: { applied: 0, rejected: 0, samples: 0 },
    });
    this.handle(run, run.engine.join(workerId, at));
    this.deps.listener.workers(run.id, this.workers(run.id));
    return {
      runId: run.id,
      runName: run.config.name,
      model: run.config.model,
      parameterCount: run.engine.parameterCount,
      dataset: {
        name: run.config.dataset.name,
        shardUrl: `/api/runs/${run.id}/shards/${shardIndex}`,
        shardIndex,
        shardCount: run.shards.length,
        ...(run.config.dataset.id === undefined
          ? {}
          : {
              upload: {
                id: run.config.dataset.id,
                inputShape: [...run.model.info.inputShape],
                inputDtype: run.model.info.inputDtype,
                classes: run.model.info.classes,
              },
            }),
      },
      training: run.config.training,
      compression: run.config.compression,
      localSteps: run.engine.phase.localSteps ?? 1,
      initialWeights: { seed: run.config.seed, sha256: run.model.initialWeightsHash },
    };
  }

  leave(run: LiveRun, workerId: string): void {
    const record = run.workers.get(workerId);
    if (!record) return;
    this.flushContribution(run, workerId);
    run.workers.delete(workerId);
    run.downstream.depart(workerId);
    this.handle(run, run.engine.leave(workerId, this.now()));
    this.deps.listener.workers(run.id, this.workers(run.id));
  }

  /** Counts an update refused before the schedule saw it (invalid payload, rate limit...). */
  refuse(run: LiveRun, workerId: string, reason: RejectReason): void {
    run.engine.refuse(reason);
    const record = run.workers.get(workerId);
    if (record) {
      record.updatesRejected += 1;
      record.unsaved.rejected += 1;
    }
  }

  /**
   * What an update must wait for, if anything (in arrival order; once it settles, a run that
   * is stopping refuses the update):
   * - the checkpoint write, while one is being written and the run is a whole interval
   *   (`checkpoint.everyVersions`) past the last durable one: applying more would let a crash
   *   lose more than one interval. The wait is one write per interval; without it the bound
   *   would be an interval plus whatever arrives during a write;
   * - the whole-test-set check of a target the sample reached (about a second), so the run,
   *   if it passes, ends with the weights that passed rather than newer, unchecked ones.
   */
  checkpointBarrier(run: LiveRun): Promise<void> | undefined {
    const sinceDurable = run.engine.version - run.lastCheckpoint.version;
    const checkpoint =
      run.checkpointing !== undefined && sinceDurable >= run.config.checkpoint.everyVersions
        ? run.checkpointing
        : undefined;
    const check = run.targetCheck;
    if (check === undefined) return checkpoint;
    return checkpoint === undefined
      ? check
      : Promise.all([checkpoint, check]).then(() => undefined);
  }

  submit(run: LiveRun, meta: UpdateMeta, update: SparseVector): Verdict {
    // Nothing could be made durable: applying more would widen what a crash loses.
    if (this.storageFault(run.id)) {
      this.refuse(run, meta.workerId, 'storage-unavailable');
      return { status: 'rejected', reason: 'storage-unavailable' };
    }
    const at = this.now();
    const { verdict, ...effects } = run.engine.submit(meta, update, at);
    const record = run.workers.get(meta.workerId);
    if (record) {
      record.lastSeenAt = at;
      if (verdict.status === 'rejected') {
        record.updatesRejected += 1;
        record.unsaved.rejected += 1;
      } else {
        record.updatesApplied += 1;
        record.unsaved.applied += 1;
        record.unsaved.samples = addCount(record.unsaved.samples, meta.samples);
        if (meta.computeMs > 0) {
          const rate = (meta.samples / meta.computeMs) * 1000;
          record.samplesPerSecond += 0.2 * (rate - record.samplesPerSecond);
        }
      }
    }
    this.handle(run, effects);
    return verdict;
  }

  /** Counts bytes sent to workers (weights, patches). */
  countBytesOut(run: LiveRun, bytes: number): void {
    run.engine.counters.bytesOut = addCount(run.engine.counters.bytesOut, bytes);
  }

  /** Stops a run: final evaluation and checkpoint, workers told, status stored. */
  async stopRun(id: string, reason: RunEnded['reason'] = 'stopped'): Promise<boolean> {
    const run = this.live.get(id);
    if (!run) return false;
    // A second stop (a researcher's, while the run ends by its own rule) answers once the run has ended.
    if (run.ending) {
      await run.ending;
      return true;
    }
    if (run.stopping) return true; // the coordinator is closing: the run stays active for the next start
    run.ending = this.end(run, reason);
    try {
      await run.ending;
    } finally {
      run.ending = undefined;
    }
    return true;
  }

  private async end(run: LiveRun, reason: RunEnded['reason']): Promise<void> {
    const id = run.id;
    run.stopping = true;
    clearTimeout(run.wakeTimer);
    this.deps.listener.runEnded(id, reason);
    await this.evaluateNow(run, true);
    await this.checkpoint(run);
    for (const workerId of run.workers.keys()) this.flushContribution(run, workerId);
    const status = reason === 'stopped' ? 'stopped' : 'completed';
    try {
      this.deps.store.setRunStatus(id, status, reason);
    } catch (error) {
      // Disk full: the run ends now all the same; at the next start it resumes from its
      // checkpoint as active (nothing durable is lost), and can be stopped again.
      this.log(`run ${id}: storing its end failed: ${String(error)}`);
    }
    run.stored = { ...run.stored, status, endedReason: reason };
    this.live.delete(id);
    this.deps.listener.runStatus(this.summary(run.stored));
    this.log(`run ${id} ${status} (${reason}) at version ${run.engine.version}`);
  }

  /** Final checkpoints of every live run; the runs stay active and resume at next start. */
  async close(): Promise<void> {
    clearInterval(this.housekeeping);
    for (const run of this.live.values()) {
      clearTimeout(run.wakeTimer);
      run.stopping = true;
      await run.checkpointing;
      await this.checkpoint(run);
      for (const workerId of run.workers.keys()) this.flushContribution(run, workerId);
    }
    this.live.clear();
  }

  private async open(stored: StoredRun, checkpoint: Checkpoint): Promise<void> {
    const config = stored.config;
    const [model, shards] = await Promise.all([
      buildRunModel(config, this.deps.maxMessageBytes, this.deps.datasets.info(config.dataset)),
      buildShards(config, this.deps.datasets),
    ]);
    const now = this.now();
    // Checkpoints are written by this process from engine snapshots (and hash-verified on
    // read), so their schedule and counters have the shapes the engine wrote.
    const engine = new RunEngine(config, checkpoint.weights, now, {
      version: checkpoint.version,
      optimizer: checkpoint.optimizer,
      schedule: checkpoint.schedule as ScheduleState,
      counters: checkpoint.extra as RunCounters,
    });
    const run: LiveRun = {
      id: stored.id,
      config,
      stored: { ...stored, version: checkpoint.version, elapsedSeconds: checkpoint.elapsedSeconds },
      engine,
      model,
      downstream: new WorkerReplicas(model.initialWeights, model.downstreamBudget, {
        steps: config.compression.downstreamValueFormat === 'f16',
      }),
      shards,
      workers: new Map(),
      elapsedBase: checkpoint.elapsedSeconds,
      resumedAt: now,
      lastEvaluatedVersion: -1,
      evaluating: false,
      lastCheckpoint: { version: checkpoint.version, at: now },
      checkpointing: undefined,
      wakeTimer: undefined,
      stopping: false,
    };
    this.live.set(stored.id, run);
    this.deps.listener.runStatus(this.summary(run.stored));
    void this.evaluateNow(run, false);
  }

  /** Whether an active run trains on the uploaded set `id` (which may then not be deleted). */
  datasetInUse(id: string): boolean {
    return this.deps.store
      .listRuns()
      .some((run) => run.status === 'active' && run.config.dataset.id === id);
  }

  /** The data sets runs train on. */
  get datasets(): DatasetCache {
    return this.deps.datasets;
  }

  /** Carries out an engine call's effects. */
  private handle(run: LiveRun, effects: EngineEffects): void {
    if (effects.phase) this.deps.listener.phase(run.id, effects.phase);
    if (effects.wakeAt !== undefined) this.wakeAt(run, effects.wakeAt);
    if (effects.newVersion === undefined) return;
    this.deps.listener.version(run.id, effects.newVersion);
    const { evaluation, stop } = run.config;
    if (effects.newVersion - run.lastEvaluatedVersion >= evaluation.everyVersions) {
      void this.evaluateNow(run, false);
    }
    if (stop.maxVersions !== undefined && effects.newVersion >= stop.maxVersions) {
      void this.stopRun(run.id, 'max-versions');
      return;
    }
    this.maybeCheckpoint(run);
  }

  private wakeAt(run: LiveRun, at: number): void {
    clearTimeout(run.wakeTimer);
    const tick = (): void => {
      if (!run.stopping) this.handle(run, run.engine.tick(Math.max(at, this.now())));
    };
    run.wakeTimer = setTimeout(
      () => {
        // A batch closing during a target check would move the weights being checked past.
        if (run.targetCheck) void run.targetCheck.then(tick);
        else tick();
      },
      Math.max(0, at - this.now()),
    );
  }

  private periodic(run: LiveRun): void {
    if (run.stopping) return;
    const now = this.now();
    const { maxSeconds } = run.config.stop;
    if (maxSeconds !== undefined && elapsedSeconds(run, now) >= maxSeconds) {
      void this.stopRun(run.id, 'max-time');
      return;
    }
    if (!allFinite(run.engine.weights)) void this.rollBack(run, 'non-finite weights');
    const faultBefore = this.storageFault(run.id)?.message;
    try {
      this.recordMetrics(run, undefined);
    } catch (error) {
      // A timer must never throw (the process would die): the point is skipped, the next
      // tick tries again, and a full disk shows as the run's fault meanwhile.
      this.log(`metrics of run ${run.id} not recorded: ${String(error)}`);
    }
    this.maybeCheckpoint(run);
    for (const workerId of run.workers.keys()) this.flushContribution(run, workerId);
    this.deps.listener.workers(run.id, this.workers(run.id));
    if (this.storageFault(run.id)?.message !== faultBefore) {
      this.deps.listener.runStatus(this.summary(run.stored));
    }
  }

  /**
   * Evaluates the current weights in the evaluation thread; one at a time per run. Periodic
   * evaluations use the run's fixed random sample of `evaluation.testExamples` examples; the
   * final one, and the check before a run ends as `target-reached`, the whole test set.
   */
  private async evaluateNow(run: LiveRun, final: boolean): Promise<void> {
    if (run.evaluating && !final) return;
    run.evaluating = true;
    const version = run.engine.version;
    run.lastEvaluatedVersion = version;
    try {
      const weights = run.engine.weights.slice();
      if (!final && !allFinite(weights)) {
        await this.rollBack(
          run,
          `non-finite weights at version ${version}, found before evaluating`,
        );
        return;
      }
      if (final) {
        // A run that just passed the whole-set check has that version's figures already.
        if (this.figuresOf(run.id).fullEvaluation?.version !== version) {
          await this.evaluateWeights(run, version, weights, undefined);
        }
        return;
      }
      const sample = run.config.evaluation.testExamples;
      const result = await this.evaluateWeights(run, version, weights, sample);
      if (!Number.isFinite(result.loss) && !allFinite(run.engine.weights)) {
        await this.rollBack(
          run,
          `non-finite weights at version ${version}, evaluation loss ${result.loss}`,
        );
        return;
      }
      if (!run.stopping) this.handle(run, run.engine.evaluated(result.loss, this.now()));
      const target = run.config.stop.targetAccuracy;
      if (target !== undefined && result.accuracy >= target && !run.stopping) {
        // Evaluated on the whole set already, and nothing applied since: that was the check.
        if (result.testSet === 'full' && run.engine.version === version) {
          void this.stopRun(run.id, 'target-reached');
        } else {
          await this.checkTarget(run, target);
        }
      }
    } catch (error) {
      this.log(`evaluation of run ${run.id} failed: ${String(error)}`);
    } finally {
      run.evaluating = false;
    }
  }

  /**
   * A sample can pass the target where the whole test set does not: only the whole set ends
   * a run as `target-reached`. Training waits for the check (updates queue behind it as
   * behind a checkpoint, see {@link checkpointBarrier}), so the weights checked are the ones
   * the run ends with, and its final evaluation is this one. If the whole set falls short,
   * the queued updates go on.
   */
  private async checkTarget(run: LiveRun, target: number): Promise<void> {
    let release = (): void => undefined;
    run.targetCheck = new Promise<void>((resolve) => {
      release = resolve;
    });
    try {
      const version = run.engine.version;
      const full = await this.evaluateWeights(run, version, run.engine.weights.slice(), undefined);
      // Read through a call: the run may have begun stopping during the check. end() marks it
      // stopping at once, before the queued updates are released below (they are refused).
      if (full.accuracy >= target && isOpen(run)) void this.stopRun(run.id, 'target-reached');
    } finally {
      run.targetCheck = undefined;
      release();
    }
  }

  /** Evaluates `weights` (transferred) of `version` and records the figures as a metrics point. */
  private async evaluateWeights(
    run: LiveRun,
    version: number,
    weights: Float32Array,
    sample: number | undefined,
  ): Promise<EvaluationResult> {
    const result = await this.deps.evaluator.evaluate({
      runId: run.id,
      model: run.config.model,
      dataset: this.deps.datasets.forEvaluation(run.config.dataset),
      seed: run.config.seed,
      weights,
      ...(sample === undefined ? {} : { sample }),
    });
    this.recordMetrics(run, {
      version,
      testLoss: result.loss,
      testAccuracy: result.accuracy,
      testExamples: result.examples,
      testSet: result.testSet,
    });
    return result;
  }

  /**
   * The whole-test-set figures of a run's weights at `version`: the recorded ones when that
   * version was evaluated on the whole set, else an evaluation now (for an export; not
   * recorded in the run's series).
   */
  async fullEvaluationOf(
    runId: string,
    version: number,
    weights: Float32Array,
  ): Promise<Evaluation | undefined> {
    const recorded = this.figuresOf(runId).fullEvaluation;
    if (recorded?.version === version) return recorded;
    const stored = this.storedRun(runId);
    if (!stored) return undefined;
    const result = await this.deps.evaluator.evaluate({
      runId,
      model: stored.config.model,
      dataset: this.deps.datasets.forEvaluation(stored.config.dataset),
      seed: stored.config.seed,
      weights: weights.slice(),
    });
    return {
      version,
      at: this.now(),
      testLoss: result.loss,
      testAccuracy: result.accuracy,
      testExamples: result.examples,
      testSet: result.testSet,
    };
  }

  private recordMetrics(run: LiveRun, evaluation: Omit<Evaluation, 'at'> | undefined): void {
    const now = this.now();
    const counters = run.engine.counters;
    const phase = run.engine.phase;
    const point: MetricsPoint = {
      runId: run.id,
      at: now,
      elapsedSeconds: elapsedSeconds(run, now),
      version: evaluation?.version ?? run.engine.version,
      ...(evaluation
        ? {
            testLoss: evaluation.testLoss,
            testAccuracy: evaluation.testAccuracy,
            testExamples: evaluation.testExamples,
            testSet: evaluation.testSet,
          }
        : {}),
      ...(counters.trainLoss === undefined ? {} : { trainLoss: counters.trainLoss }),
      phase: phase.phase,
      k: phase.k,
      activeWorkers: run.engine.activeWorkers,
      localSteps: phase.localSteps ?? 1,
      staleness: summariseStaleness(counters.stalenessCounts),
      updatesApplied: counters.updatesApplied,
      updatesRejected: { ...counters.updatesRejected },
      samples: counters.samples,
      bytesIn: counters.bytesIn,
      bytesOut: counters.bytesOut,
    };
    counters.stalenessCounts.fill(0);
    const figures = this.figuresOf(run.id);
    this.deps.store.appendMetrics(point);
    figures.latest = point;
    if (evaluation) {
      figures.evaluation = { ...evaluation, at: now };
      if (evaluation.testSet === 'full') figures.fullEvaluation = figures.evaluation;
    }
    this.deps.listener.metrics(point);
    // Every dashboard's run list follows the run from the same points the run view draws.
    this.deps.listener.runStatus(this.summary(run.stored));
  }

  private maybeCheckpoint(run: LiveRun): void {
    if (run.checkpointing || run.stopping) return;
    const { everyVersions, everySeconds } = run.config.checkpoint;
    const dueByVersion = run.engine.version - run.lastCheckpoint.version >= everyVersions;
    const dueByTime =
      run.engine.version > run.lastCheckpoint.version &&
      this.now() - run.lastCheckpoint.at >= everySeconds * 1000;
    if (dueByVersion || dueByTime) void this.checkpoint(run);
  }

  /** Writes a checkpoint atomically; the snapshot is taken synchronously, so it is consistent. */
  private async checkpoint(run: LiveRun): Promise<void> {
    await run.checkpointing;
    const now = this.now();
    const checkpoint = toCheckpoint(run.engine, elapsedSeconds(run, now), now);
    if (!allFinite(checkpoint.weights)) {
      // Never over a good checkpoint: the last good one is what a rollback restores.
      this.log(
        `run ${run.id}: version ${checkpoint.version} has non-finite weights; not checkpointed`,
      );
      if (!run.stopping) void this.rollBack(run, 'non-finite weights found at a checkpoint');
      return;
    }
    run.checkpointing = (async () => {
      try {
        await this.deps.checkpoints.write(run.id, checkpoint);
        run.lastCheckpoint = { version: checkpoint.version, at: now };
        this.deps.store.updateRunProgress(run.id, {
          version: checkpoint.version,
          elapsedSeconds: checkpoint.elapsedSeconds,
        });
        run.stored = {
          ...run.stored,
          version: checkpoint.version,
          elapsedSeconds: checkpoint.elapsedSeconds,
        };
        if (this.checkpointFaults.delete(run.id)) {
          this.log(`checkpoint of run ${run.id} written again; taking updates`);
          this.deps.listener.runStatus(this.summary(run.stored));
        }
      } catch (error) {
        this.log(`checkpoint of run ${run.id} failed: ${String(error)}`);
        // Refuse updates until a checkpoint is durable again (see storageFault); the
        // periodic timer retries every tick, as the interval is already due.
        if (!this.checkpointFaults.has(run.id)) {
          this.checkpointFaults.set(run.id, {
            message: `checkpoint: ${error instanceof Error ? error.message : String(error)}`,
            since: this.now(),
          });
          this.deps.listener.runStatus(this.summary(run.stored));
        }
      } finally {
        run.checkpointing = undefined;
      }
    })();
    await run.checkpointing;
  }

  /**
   * Restores the weights and optimizer state of the run's last checkpoint (never written with
   * non-finite weights) as a new version, and tells dashboards (a `rollback` event) and
   * workers (the new version). The last line of defence behind the engine's step check
   * (docs/algorithms.md#the-model-guard).
   */
  private async rollBack(run: LiveRun, why: string): Promise<void> {
    if (this.rollingBack.has(run.id)) return;
    this.rollingBack.add(run.id);
    try {
      await run.checkpointing;
      const checkpoint = await this.deps.checkpoints.readLatest(run.id);
      if (run.stopping || allFinite(run.engine.weights)) return;
      if (!checkpoint || !allFinite(checkpoint.weights)) {
        this.log(`run ${run.id}: ${why}, and no good checkpoint to roll back to`);
        return;
      }
      const foundAtVersion = run.engine.version;
      const effects = run.engine.rollBack(checkpoint.weights, checkpoint.optimizer);
      const message = `${why}; rolled back to the checkpoint of version ${checkpoint.version}`;
      this.log(`run ${run.id}: ${message}, now version ${run.engine.version}`);
      this.deps.listener.runEvent({
        type: 'run-event',
        runId: run.id,
        at: this.now(),
        kind: 'rollback',
        version: run.engine.version,
        foundAtVersion,
        checkpointVersion: checkpoint.version,
        message: message.slice(0, 500),
      });
      this.handle(run, effects);
    } catch (error) {
      this.log(`rollback of run ${run.id} failed: ${String(error)}`);
    } finally {
      this.rollingBack.delete(run.id);
    }
  }

  private flushContribution(run: LiveRun, workerId: string): void {
    const record = run.workers.get(workerId);
    if (!record) return;
    const { applied, rejected, samples } = record.unsaved;
    if (applied + rejected + samples === 0) return;
    try {
      this.deps.store.addContribution(run.id, workerId, record.unsaved);
    } catch (error) {
      // Kept in memory and added on a later flush (for a departed worker: lost with it).
      if (error instanceof StoreError && error.code === 'storage-unavailable') return;
      throw error;
    }
    record.unsaved = { applied: 0, rejected: 0, samples: 0 };
  }

  private summary(stored: StoredRun): RunSummary {
    const run = this.live.get(stored.id);
    const { latest, evaluation, fullEvaluation } = this.figuresOf(stored.id);
    return {
      id: stored.id,
      name: stored.name,
      status: stored.status,
      createdAt: stored.createdAt,
      version: run?.engine.version ?? stored.version,
      parameterCount: stored.parameterCount,
      activeWorkers: run?.engine.activeWorkers ?? 0,
      config: stored.config,
      ...(latest ? { latest } : {}),
      ...(evaluation ? { evaluation } : {}),
      ...(fullEvaluation ? { fullEvaluation } : {}),
      ...(run ? faultField(this.storageFault(stored.id)) : {}),
    };
  }

  /** A run's latest point and evaluations: from the database the first time, then kept current. */
  private figuresOf(runId: string): RunFigures {
    let figures = this.figures.get(runId);
    if (!figures) {
      figures = figuresOf(this.deps.store.runFigures(runId));
      this.figures.set(runId, figures);
    }
    return figures;
  }
}

/** The figures of a run's maintained row (one read, whatever the length of its series). */
function figuresOf(stored: StoredFigures): RunFigures {
  const figures: RunFigures = {};
  if (stored.latest) figures.latest = stored.latest;
  const evaluation = stored.evaluation && evaluationOf(stored.evaluation);
  if (evaluation) figures.evaluation = evaluation;
  const fullEvaluation = stored.fullEvaluation && evaluationOf(stored.fullEvaluation);
  if (fullEvaluation) figures.fullEvaluation = fullEvaluation;
  return figures;
}

function faultField(fault: StorageFault | undefined): { fault?: StorageFault } {
  return fault ? { fault } : {};
}

/** The evaluation a point carries, if any (accuracy 0 is one). */
function evaluationOf(point: MetricsPoint): Evaluation | undefined {
  const { testLoss, testAccuracy, testExamples, testSet } = point;
  if (
    testLoss === undefined ||
    testAccuracy === undefined ||
    testExamples === undefined ||
    testSet === undefined
  ) {
    return undefined;
  }
  return { version: point.version, at: point.at, testLoss, testAccuracy, testExamples, testSet };
}

/** Whether every weight is finite (O(P), cheap next to an evaluation or a checkpoint). */
function allFinite(weights: Float32Array): boolean {
  for (const w of weights) if (!Number.isFinite(w)) return false;
  return true;
}

function isOpen(run: LiveRun): boolean {
  return !run.stopping;
}

function toCheckpoint(engine: RunEngine, elapsed: number, now: number): Checkpoint {
  const snapshot = engine.snapshot();
  return {
    version: snapshot.version,
    elapsedSeconds: elapsed,
    savedAt: now,
    weights: snapshot.weights,
    optimizer: snapshot.optimizer,
    schedule: snapshot.schedule,
    extra: snapshot.counters,
  };
}
