import {
  AcceptedWindow,
  aggregate,
  aggregateNormFilter,
  contributionNorm,
  createSchedule,
  createServerOptimizer,
  currentPhase,
  screenUpdate,
  stalenessWeight,
  step as stepSchedule,
  vectorStats,
  type Optimizer,
  type OptimizerState,
  type PhaseCommand,
  type ScheduleCommand,
  type ScheduleEvent,
  type ScheduleState,
  type SparseVector,
  type UpdateStats,
} from '@vtrain/optimizer';
import { effectiveContributionCap, type RejectReason, type RunConfig } from '@vtrain/protocol';
import { ContributionShare } from './contribution-share.js';
import { PatchHistory } from './patch-history.js';
import {
  addCount,
  clampCounters,
  countRejection,
  countStaleness,
  countTrainLoss,
  emptyCounters,
  type RunCounters,
} from './run-counters.js';

/** What a worker is told about one of its updates. */
export type Verdict =
  | { readonly status: 'applied'; readonly version: number; readonly staleness: number }
  | { readonly status: 'buffered'; readonly version: number }
  | { readonly status: 'rejected'; readonly reason: RejectReason };

/** What the transport must do after an engine call. */
export interface EngineEffects {
  /** The model moved to this version: tell waiting workers. */
  readonly newVersion?: number;
  /** The phase, K, N or H changed: tell workers and dashboards. */
  readonly phase?: PhaseCommand;
  /** Call `tick` at this time (a batch deadline). */
  readonly wakeAt?: number;
}

export interface UpdateMeta {
  readonly workerId: string;
  readonly seq: number;
  readonly baseVersion: number;
  readonly computeMs: number;
  readonly samples: number;
  readonly trainLoss: number;
  readonly payloadBytes: number;
}

/** Everything needed to rebuild an engine exactly: what a checkpoint stores. */
export interface EngineSnapshot {
  readonly version: number;
  readonly weights: Float32Array;
  readonly optimizer: OptimizerState;
  readonly schedule: ScheduleState;
  readonly counters: RunCounters;
}

/** Norms of recent updates `norm-filter` ranks each batch against (its asynchronous window). */
const RECENT_NORMS = 32;

/**
 * The largest |weight| a server step may leave (docs/algorithms.md#the-model-guard): a step
 * that would leave a touched weight non-finite or beyond it is refused as `unsafe-update`.
 * Far above any trained network's weights, far below float32 overflow (3.4e38) in a
 * forward pass through a few layers.
 */
export const WEIGHT_LIMIT = 1e6;

/** Recent versions whose changed coordinates are kept for sparse patches. */
const PATCH_HISTORY_VERSIONS = 256;

/** Bytes per entry of a patch at f32, generously: a 5-byte varint gap and 4 value bytes. */
const PATCH_BYTES_PER_ENTRY = 9;

/**
 * Departed workers whose last seq is remembered (for a replay-safe resume); the
 * least recently departed are forgotten beyond this, and their identities must
 * be revoked (see {@link RunEngine.takeForgotten}). About 50 bytes each in a
 * checkpoint header: 4096 of them are some 200 KB.
 */
export const DEPARTED_SEQ_KEPT = 4096;

/**
 * The model owner of one run: the global weights, the server optimizer and
 * the phase schedule. It takes decoded, validated updates and decides with the
 * schedule (a pure state machine from `@vtrain/optimizer`) whether each is
 * applied, buffered or rejected; applying aggregates the batch with the run's
 * rule, damped by staleness, and steps the server optimizer. No I/O, no
 * timers: the caller passes the time and carries out the effects.
 */
export class RunEngine {
  private weightsValue: Float32Array;
  private readonly optimizer: Optimizer;
  private schedule: ScheduleState;
  private readonly pending = new Map<string, SparseVector>();
  /** Training loss each pending update reported, for the LUPA rule's round means. */
  private readonly pendingLoss = new Map<string, number>();
  /** LUPA adaptive: the period follows the workers' training loss, not the test loss. */
  private readonly periodFromTrainingLoss: boolean;
  private readonly history: PatchHistory;
  readonly counters: RunCounters;
  /** Centre for centred clipping: the previous aggregate (Karimireddy et al. 2021). */
  private previousAggregate: Float32Array | undefined;
  /** Norms of the latest kept updates, newest last, for `norm-filter`; empty after a restart. */
  private readonly recentNorms: number[] = [];
  /** `guarded-mean`: stats of the latest accepted updates; empty after a restart (warm-up). */
  private readonly accepted: AcceptedWindow | undefined;
  /** Updates of the batch being applied whose step was refused as unsafe. */
  private readonly refusedStep = new Set<string>();
  /** The per-worker cap of the run, when it has one; starts empty after a restart. */
  private readonly share: ContributionShare | undefined;
  /**
   * The schedule's `departedLastSeq`, held here instead (least recently departed
   * first, at most {@link DEPARTED_SEQ_KEPT}): the schedule copies its records on
   * every join and leave, so a record that grew with every identity that ever
   * left would make each join O(identities) and every checkpoint header grow
   * without bound. The schedule sees a worker's entry only while it joins.
   */
  private readonly departed = new Map<string, number>();
  /** Identities dropped from {@link departed}, not yet taken by the caller. */
  private forgotten: string[] = [];

  constructor(
    readonly config: RunConfig,
    weights: Float32Array,
    now: number,
    restored?: Omit<EngineSnapshot, 'weights'>,
  ) {
    this.weightsValue = weights;
    this.optimizer = createServerOptimizer(config.training.serverOptimizer, weights.length);
    if (restored) {
      this.optimizer.restore(restored.optimizer);
      // Workers re-join after a restart; the batch in flight was never acknowledged as applied.
      this.schedule = withoutWorkers(restored.schedule);
      // A checkpoint from before counters saturated may hold values past 2^53.
      this.counters = clampCounters(structuredClone(restored.counters));
    } else {
      this.schedule = createSchedule(config.schedule, now);
      this.counters = emptyCounters();
    }
    this.history = new PatchHistory(weights.length, PATCH_HISTORY_VERSIONS, this.version);
    const schedule = config.schedule;
    this.periodFromTrainingLoss =
      schedule.kind === 'local-sgd' && schedule.period.rule === 'lupa-adaptive';
    const cap = effectiveContributionCap(config);
    this.share = cap && new ContributionShare(cap.window, cap.slack);
    this.moveDepartedOut();
    const rule = config.aggregation;
    this.accepted = rule.rule === 'guarded-mean' ? new AcceptedWindow(rule.window) : undefined;
  }

  get version(): number {
    return this.schedule.version;
  }

  get parameterCount(): number {
    return this.weightsValue.length;
  }

  /** The live global weights: read only, never kept across an engine call. */
  get weights(): Float32Array {
    return this.weightsValue;
  }

  get phase(): PhaseCommand {
    return currentPhase(this.schedule);
  }

  get activeWorkers(): number {
    return Object.keys(this.schedule.workers).length;
  }

  join(workerId: string, at: number): EngineEffects {
    const lastSeq = this.departed.get(workerId);
    if (lastSeq !== undefined) {
      this.departed.delete(workerId);
      this.schedule = { ...this.schedule, departedLastSeq: { [workerId]: lastSeq } };
    }
    const effects = this.run({ type: 'worker-joined', workerId, at }).effects;
    this.moveDepartedOut();
    return effects;
  }

  leave(workerId: string, at: number): EngineEffects {
    const effects = this.run({ type: 'worker-left', workerId, at }).effects;
    this.moveDepartedOut();
    return effects;
  }

  /** Departed workers whose last seq is remembered (at most {@link DEPARTED_SEQ_KEPT}). */
  get departedCount(): number {
    return this.departed.size;
  }

  /**
   * The identities whose last seq this engine forgot since the last call: they
   * can no longer resume safely (a resend of an applied update would look new),
   * so the caller revokes them and they start over under a new identity.
   */
  takeForgotten(): string[] {
    const taken = this.forgotten;
    this.forgotten = [];
    return taken;
  }

  tick(at: number): EngineEffects {
    return this.run({ type: 'tick', at }).effects;
  }

  /**
   * A test-set evaluation: drives the plateau threshold. Under the LUPA adaptive
   * period it is not used: the rule takes F, the training objective, which the
   * engine feeds itself from the training losses workers report.
   */
  evaluated(loss: number, at: number): EngineEffects {
    if (this.periodFromTrainingLoss) return {};
    return this.run({ type: 'evaluated', loss, at }).effects;
  }

  /** Counts an update refused before it reached the schedule (bad payload, rate limit...). */
  refuse(reason: RejectReason): void {
    countRejection(this.counters, reason);
  }

  /** Offers a decoded update (its payload already validated against this run's P). */
  submit(meta: UpdateMeta, update: SparseVector, at: number): { verdict: Verdict } & EngineEffects {
    const key = pendingKey(meta.workerId, meta.seq);
    this.counters.bytesIn = addCount(this.counters.bytesIn, meta.payloadBytes);
    if (this.share && !this.share.allows(meta.workerId, this.activeWorkers)) {
      // Over its share of the recent updates: the worker must slow down (its seq stays unused).
      countRejection(this.counters, 'rate-limited');
      return { verdict: { status: 'rejected', reason: 'rate-limited' } };
    }
    // Screened before the schedule sees it: a refused update makes no version and uses no seq.
    const screened = this.screen(update);
    if (screened.status === 'rejected') {
      countRejection(this.counters, screened.reason);
      return { verdict: screened };
    }
    this.pending.set(key, screened.update);
    this.pendingLoss.set(key, meta.trainLoss);
    const observed = this.observeTrainingLoss(at);
    const { commands, effects } = this.run({
      type: 'update-arrived',
      workerId: meta.workerId,
      seq: meta.seq,
      baseVersion: meta.baseVersion,
      stepMs: meta.computeMs,
      at,
    });
    const verdict = this.verdictFor(meta, commands);
    if (verdict.status === 'rejected') {
      this.pending.delete(key);
      this.pendingLoss.delete(key);
    } else {
      if (screened.stats) this.accepted?.record(screened.stats);
      this.share?.record(meta.workerId);
      this.counters.samples = addCount(this.counters.samples, meta.samples);
      countTrainLoss(this.counters, meta.trainLoss);
    }
    return { verdict, ...observed, ...effects };
  }

  /**
   * The checks every update passes before the schedule sees it (docs/algorithms.md#the-model-guard):
   * - no non-zero entry: `empty-update` (it would make a version that changes nothing);
   * - `guarded-mean`: over the bounds of the accepted window, `unsafe-update`; in the warm-up,
   *   scaled down onto the model's own bounds;
   * - server SGD: applied alone it would leave a touched weight non-finite or beyond
   *   {@link WEIGHT_LIMIT}: `unsafe-update` (O(nnz); the other optimizers are checked after
   *   their step, see {@link apply}).
   */
  private screen(
    update: SparseVector,
  ):
    | { status: 'rejected'; reason: RejectReason }
    | { status: 'ok'; update: SparseVector; stats?: UpdateStats } {
    let nonZero = false;
    for (const value of update.values) {
      if (value !== 0) {
        nonZero = true;
        break;
      }
    }
    if (!nonZero) return { status: 'rejected', reason: 'empty-update' };
    let screened = update;
    let stats: UpdateStats | undefined;
    const rule = this.config.aggregation;
    if (rule.rule === 'guarded-mean' && this.accepted) {
      const verdict = screenUpdate(
        rule,
        { update },
        this.accepted.stats,
        () => vectorStats(this.weightsValue),
        this.activeWorkers,
      );
      if (verdict.kind !== 'accept') {
        return {
          status: 'rejected',
          reason: verdict.kind === 'empty' ? 'empty-update' : 'unsafe-update',
        };
      }
      stats = verdict.stats;
      if (verdict.scale < 1) {
        screened = {
          length: update.length,
          indices: update.indices,
          values: update.values.map((v) => v * verdict.scale),
        };
      }
    }
    const server = this.config.training.serverOptimizer;
    if (server.kind === 'sgd') {
      const eta = server.learningRate;
      const { indices, values } = screened;
      for (let j = 0; j < indices.length; j++) {
        // float32, as the step stores it.
        const next = Math.fround(
          (this.weightsValue[indices[j] ?? 0] ?? 0) - eta * (values[j] ?? 0),
        );
        if (!(Math.abs(next) <= WEIGHT_LIMIT))
          return { status: 'rejected', reason: 'unsafe-update' };
      }
    }
    return { status: 'ok', update: screened, ...(stats ? { stats } : {}) };
  }

  /**
   * Replaces the weights and the optimizer state with a good checkpoint's, as a new version
   * (versions never go back: workers holding a newer one would be refused as `future-version`
   * forever). Every coordinate counts as changed, so workers get the whole model.
   *
   * @returns the effects: the new version, to be announced.
   */
  rollBack(weights: Float32Array, optimizer: OptimizerState): EngineEffects {
    if (weights.length !== this.weightsValue.length) {
      throw new Error(
        `rollback weights have ${weights.length} entries, not ${this.parameterCount}`,
      );
    }
    this.optimizer.restore(optimizer);
    this.weightsValue.set(weights);
    const version = this.schedule.version + 1;
    this.schedule = { ...this.schedule, version };
    this.previousAggregate = undefined;
    this.history.record(version, null);
    return { newVersion: version };
  }

  /**
   * LUPA (Haddadpour et al. 2019): tau_i = ceil((F(x_0) / F(x_i))^(1/3)) tau_0 with F the
   * training objective, estimated by the running mean of the training losses the open
   * round's updates reported (the first report stands for F(x_0)). Fed before each update
   * is offered, so the round that closes sets the next round's H from its own mean.
   */
  private observeTrainingLoss(at: number): EngineEffects {
    if (!this.periodFromTrainingLoss) return {};
    let sum = 0;
    for (const loss of this.pendingLoss.values()) sum += loss;
    const mean = sum / this.pendingLoss.size;
    if (!(mean > 0) || !Number.isFinite(mean)) return {};
    return this.run({ type: 'evaluated', loss: mean, at }).effects;
  }

  /**
   * The coordinates changed since `fromVersion`, when fewer than `maxEntries`:
   * sorted, or in no particular order when `ordered` is false.
   */
  changedSince(fromVersion: number, maxEntries: number, ordered = true): Uint32Array | undefined {
    if (fromVersion === this.version) return new Uint32Array(0);
    return this.history.changedSince(fromVersion, maxEntries, ordered);
  }

  /**
   * The coordinates a sparse patch must carry to bring a worker holding
   * `haveVersion` to the current version, or undefined when the full weights
   * are needed (no or a future version, history too short) or are smaller.
   */
  patchCoordinates(haveVersion: number | undefined): Uint32Array | undefined {
    if (haveVersion === undefined || haveVersion > this.version) return undefined;
    return this.changedSince(
      haveVersion,
      Math.floor((this.parameterCount * 4) / PATCH_BYTES_PER_ENTRY),
    );
  }

  snapshot(): EngineSnapshot {
    return {
      version: this.version,
      weights: this.weightsValue.slice(),
      optimizer: this.optimizer.state(),
      schedule: { ...this.schedule, departedLastSeq: Object.fromEntries(this.departed) },
      counters: structuredClone(this.counters),
    };
  }

  /** Moves the schedule's departed seqs into {@link departed}, forgetting the oldest beyond the bound. */
  private moveDepartedOut(): void {
    const record = this.schedule.departedLastSeq;
    const ids = Object.keys(record);
    if (ids.length === 0) return;
    for (const id of ids) {
      this.departed.delete(id); // re-inserted last: the most recently departed
      this.departed.set(id, record[id] ?? 0);
    }
    this.schedule = { ...this.schedule, departedLastSeq: {} };
    for (const id of this.departed.keys()) {
      if (this.departed.size <= DEPARTED_SEQ_KEPT) break;
      this.departed.delete(id);
      this.forgotten.push(id);
    }
  }

  private verdictFor(meta: UpdateMeta, commands: readonly ScheduleCommand[]): Verdict {
    for (const command of commands) {
      if (
        command.type === 'reject' &&
        command.workerId === meta.workerId &&
        command.seq === meta.seq
      ) {
        return { status: 'rejected', reason: command.reason };
      }
      if (command.type === 'apply') {
        const mine = command.updates.find(
          (u) => u.workerId === meta.workerId && u.seq === meta.seq,
        );
        if (mine && this.refusedStep.has(pendingKey(mine.workerId, mine.seq))) {
          return { status: 'rejected', reason: 'unsafe-update' };
        }
        if (mine) return { status: 'applied', version: command.version, staleness: mine.staleness };
      }
      if (
        command.type === 'buffered' &&
        command.workerId === meta.workerId &&
        command.seq === meta.seq
      ) {
        return { status: 'buffered', version: this.version };
      }
    }
    throw new Error(`schedule gave no verdict for update ${meta.workerId}#${meta.seq}`);
  }

  private run(event: ScheduleEvent): {
    commands: readonly ScheduleCommand[];
    effects: EngineEffects;
  } {
    const result = stepSchedule(this.schedule, event);
    this.schedule = result.state;
    this.refusedStep.clear();
    let newVersion: number | undefined;
    let phase: PhaseCommand | undefined;
    let wakeAt: number | undefined;
    for (const command of result.commands) {
      switch (command.type) {
        case 'apply':
          this.apply(command.version, command.updates);
          newVersion = command.version;
          break;
        case 'reject':
          countRejection(this.counters, command.reason);
          break;
        case 'phase':
          phase = command;
          break;
        case 'wake-at':
          wakeAt = command.at;
          break;
        case 'buffered':
          break;
      }
    }
    return {
      commands: result.commands,
      effects: {
        ...(newVersion === undefined ? {} : { newVersion }),
        ...(phase === undefined ? {} : { phase }),
        ...(wakeAt === undefined ? {} : { wakeAt }),
      },
    };
  }

  private apply(
    version: number,
    updates: readonly { workerId: string; seq: number; staleness: number }[],
  ): void {
    const damping = this.config.schedule.staleness.damping;
    const contributions = updates.map((u) => {
      const key = pendingKey(u.workerId, u.seq);
      const update = this.pending.get(key);
      if (!update) throw new Error(`schedule applied ${key}, which the engine never received`);
      this.pending.delete(key);
      this.pendingLoss.delete(key);
      countStaleness(this.counters, u.staleness);
      return { update, weight: stalenessWeight(u.staleness, damping) };
    });
    const aggregated = this.aggregate(contributions);
    if (!this.stepSafely(aggregated)) {
      // Refused whole, the model bit-identical. The version still advances (with no change):
      // workers waiting at a round's barrier are released by it, and pull the same weights.
      for (const u of updates) {
        this.refusedStep.add(pendingKey(u.workerId, u.seq));
        countRejection(this.counters, 'unsafe-update');
      }
      this.history.record(version, new Uint32Array(0));
      return;
    }
    if (this.config.aggregation.rule === 'centered-clip' && aggregated instanceof Float32Array) {
      this.previousAggregate = aggregated;
    }
    this.counters.updatesApplied = addCount(this.counters.updatesApplied, updates.length);
    this.history.record(version, this.changedCoordinates(aggregated));
  }

  private aggregate(contributions: readonly { update: SparseVector; weight: number }[]) {
    const rule = this.config.aggregation;
    if (rule.rule === 'norm-filter') {
      const { update, dropped } = aggregateNormFilter(contributions, rule.factor, this.recentNorms);
      // Only kept updates join the window: dropped (hostile) norms must not move the median.
      const droppedSet = new Set(dropped);
      contributions.forEach((c, i) => {
        if (!droppedSet.has(i)) this.recentNorms.push(contributionNorm(c));
      });
      this.recentNorms.splice(0, Math.max(0, this.recentNorms.length - RECENT_NORMS));
      return update;
    }
    if (rule.rule === 'guarded-mean') {
      // Each update was screened by the rule as it arrived (submit): the batch is the mean.
      return aggregate({ rule: 'mean' }, contributions);
    }
    return aggregate(rule, contributions, {
      ...(this.previousAggregate ? { center: this.previousAggregate } : {}),
    });
  }

  /**
   * One server optimizer step that leaves the model bit-identical when refused: the touched
   * coordinates (all of them for a dense aggregate or a stateful optimizer, whose step is
   * O(P) anyway) and the optimizer state are kept, the step taken, the touched weights checked
   * (finite, |w| <= {@link WEIGHT_LIMIT}), and restored when one is not.
   *
   * @returns whether the step was kept.
   */
  private stepSafely(aggregated: Float32Array | SparseVector): boolean {
    const weights = this.weightsValue;
    const touched =
      this.optimizer.kind === 'sgd' && !(aggregated instanceof Float32Array)
        ? aggregated.indices
        : undefined;
    const before = touched ? gather(weights, touched) : weights.slice();
    const optimizerBefore = this.optimizer.state();
    this.optimizer.step(weights, aggregated);
    if (touched ? touchedAreSafe(weights, touched) : touchedAreSafe(weights)) return true;
    if (touched) touched.forEach((i, j) => (weights[i] = before[j] ?? 0));
    else weights.set(before);
    this.optimizer.restore(optimizerBefore);
    return false;
  }

  /** Plain SGD moves only where the aggregate is non-zero; momentum and Adam move everything. */
  private changedCoordinates(aggregated: Float32Array | SparseVector): Uint32Array | null {
    if (this.optimizer.kind !== 'sgd') return null;
    if (!(aggregated instanceof Float32Array)) return aggregated.indices;
    const changed: number[] = [];
    for (let i = 0; i < aggregated.length; i++) if (aggregated[i] !== 0) changed.push(i);
    return Uint32Array.from(changed);
  }
}

/** `weights` at `indices`, in order (a plain loop: `Float32Array.from` with a map is several times slower). */
function gather(weights: Float32Array, indices: Uint32Array): Float32Array {
  const out = new Float32Array(indices.length);
  for (let j = 0; j < indices.length; j++) out[j] = weights[indices[j] ?? 0] ?? 0;
  return out;
}

/** Whether every weight (or every listed one) is finite and within {@link WEIGHT_LIMIT}. */
function touchedAreSafe(weights: Float32Array, indices?: Uint32Array): boolean {
  if (indices) {
    for (const i of indices)
      if (!(Math.abs(weights[i] ?? Number.NaN) <= WEIGHT_LIMIT)) return false;
    return true;
  }
  for (const w of weights) if (!(Math.abs(w) <= WEIGHT_LIMIT)) return false;
  return true;
}

function pendingKey(workerId: string, seq: number): string {
  return `${workerId}#${seq}`;
}

/**
 * A restored schedule starts with no active workers and an empty batch: after
 * a restart every worker reconnects and joins again, and buffered updates were
 * never acknowledged as applied, so dropping them loses nothing promised.
 */
function withoutWorkers(state: ScheduleState): ScheduleState {
  const departedLastSeq: Record<string, number> = { ...state.departedLastSeq };
  for (const [workerId, worker] of Object.entries(state.workers)) {
    if (worker.lastSeq !== null) departedLastSeq[workerId] = worker.lastSeq;
  }
  return {
    ...state,
    workers: {},
    departedLastSeq,
    batch: { ...state.batch, entries: [] },
  };
}
