import {
  aggregate,
  contributionNorm,
  createSchedule,
  createServerOptimizer,
  currentPhase,
  stalenessWeight,
  step as stepSchedule,
  type Optimizer,
  type OptimizerState,
  type PhaseCommand,
  type ScheduleCommand,
  type ScheduleEvent,
  type ScheduleState,
  type SparseVector,
} from '@vtrain/optimizer';
import type { RejectReason, RunConfig } from '@vtrain/protocol';
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
  /** Norms of the latest updates, newest last, for `norm-filter`; empty after a restart. */
  private readonly recentNorms: number[] = [];
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
    const cap = config.contributionCap;
    this.share = cap && new ContributionShare(cap.window, cap.slack);
    this.moveDepartedOut();
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
    this.pending.set(key, update);
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
      this.share?.record(meta.workerId);
      this.counters.samples = addCount(this.counters.samples, meta.samples);
      countTrainLoss(this.counters, meta.trainLoss);
    }
    return { verdict, ...observed, ...effects };
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
    const filtering = this.config.aggregation.rule === 'norm-filter';
    const aggregated = aggregate(this.config.aggregation, contributions, {
      ...(this.previousAggregate ? { center: this.previousAggregate } : {}),
      ...(filtering ? { recentNorms: this.recentNorms } : {}),
    });
    if (filtering) {
      // Every update joins the window, dropped ones too: hostile norms stay a minority of it.
      this.recentNorms.push(...contributions.map(contributionNorm));
      this.recentNorms.splice(0, Math.max(0, this.recentNorms.length - RECENT_NORMS));
    }
    this.optimizer.step(this.weightsValue, aggregated);
    if (this.config.aggregation.rule === 'centered-clip' && aggregated instanceof Float32Array) {
      this.previousAggregate = aggregated;
    }
    this.counters.updatesApplied = addCount(this.counters.updatesApplied, updates.length);
    this.history.record(version, this.changedCoordinates(aggregated));
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
