import type { ScheduleConfig } from './config.js';
import { ScheduleError } from './errors.js';
import type { Phase, PhaseCommand, RejectReason } from './events.js';
import { initialLocalSteps } from './local-steps.js';
import { INITIAL_PLATEAU_PROGRESS, plateauK, type PlateauProgress } from './plateau.js';
import { sizeOf } from './records.js';
import { roundDeadlineMs } from './round-deadline.js';
import { thresholdK } from './threshold.js';
import { validateScheduleConfig } from './validate-config.js';

/** An update waiting in the open batch; its payload stays with the coordinator, keyed by id. */
export interface BatchEntry {
  readonly workerId: string;
  readonly seq: number;
  readonly baseVersion: number;
}

/**
 * The batch updates are buffered in. It is flushed at K updates from K distinct active workers,
 * or at `deadline` (`null` for the async schedule, which never buffers), whichever comes first.
 */
export interface OpenBatch {
  readonly openedAt: number;
  readonly deadline: number | null;
  readonly entries: readonly BatchEntry[];
}

/** An active worker; `lastSeq` is the highest seq seen from it (null before its first update). */
export interface ActiveWorker {
  readonly lastSeq: number | null;
}

/** Where the cyclic schedule stands: which part, and how many rounds or updates it has left. */
export interface CyclePosition {
  readonly part: 'sync' | 'async';
  readonly remaining: number;
}

/**
 * Everything a schedule remembers, as plain data (records and arrays, no Map or Set), so that
 * `JSON.parse(JSON.stringify(state))` is an equivalent state the coordinator can checkpoint.
 * Treat it as opaque and immutable: `step` returns a new one.
 */
export interface ScheduleState {
  readonly config: ScheduleConfig;
  /** `at` of `createSchedule`: s = 0 of a time-clocked threshold. */
  readonly startedAt: number;
  /** Latest event time stepped; events may not go back before it. */
  readonly now: number;
  /** Global version: the number of flushes so far (for local SGD also the round index). */
  readonly version: number;
  /** Updates applied so far: s of an update-clocked threshold. */
  readonly appliedUpdates: number;
  /** Active workers by id; N is their count. */
  readonly workers: Readonly<Record<string, ActiveWorker>>;
  /** Last seq of workers that left, so a rejoining worker cannot replay an applied update. */
  readonly departedLastSeq: Readonly<Record<string, number>>;
  readonly batch: OpenBatch;
  /**
   * Recent stepMs reports, oldest first, at most `deadline.window`. Under local SGD they are
   * rescaled to tau_0 local steps (`stepMs * tau_0 / H`), so rounds with a different H compare.
   */
  readonly stepSamples: readonly number[];
  /** Cyclic schedule only. */
  readonly cycle: CyclePosition | null;
  /** Hybrid schedule with the plateau threshold only. */
  readonly plateau: PlateauProgress | null;
  /** F(x_0): the first evaluated loss. */
  readonly initialLoss: number | null;
  /** The latest evaluated loss. */
  readonly latestLoss: number | null;
  /** Local SGD only: H of the open round. */
  readonly localSteps: number | null;
  /** The rule last made known (emitted, or the initial one), so only changes are emitted. */
  readonly announced: PhaseCommand | null;
  /** Rejections so far, by reason (reported to the dashboard). */
  readonly rejected: Readonly<Record<RejectReason, number>>;
}

function phaseLabel(k: number, n: number): Phase {
  if (k <= 1) return 'async';
  return k >= n ? 'sync' : 'hybrid';
}

function hybridK(
  state: ScheduleState,
  config: Extract<ScheduleConfig, { kind: 'hybrid' }>,
  n: number,
): number {
  const t = config.threshold;
  if (t.shape === 'plateau') return plateauK(state.plateau ?? INITIAL_PLATEAU_PROGRESS, n);
  const s = t.clock === 'time' ? state.now - state.startedAt : state.appliedUpdates;
  return thresholdK(t, n, s);
}

/**
 * The rule in force now: phase label, effective K (at least 1, so a batch is never flushed
 * empty), N and, under local SGD, H. K = 1 is labelled async, K = N > 1 sync, else hybrid;
 * the sync, cyclic-sync and local-SGD schedules use K = max(1, N).
 */
export function currentPhase(state: ScheduleState): PhaseCommand {
  const n = sizeOf(state.workers);
  const { config } = state;
  const sync: PhaseCommand = { type: 'phase', phase: 'sync', k: Math.max(1, n), n };
  switch (config.kind) {
    case 'async':
      return { type: 'phase', phase: 'async', k: 1, n };
    case 'sync':
      return sync;
    case 'hybrid': {
      const k = hybridK(state, config, n);
      return { type: 'phase', phase: phaseLabel(k, n), k, n };
    }
    case 'cyclic':
      return state.cycle?.part === 'async' ? { type: 'phase', phase: 'async', k: 1, n } : sync;
    case 'local-sgd':
      return { ...sync, localSteps: state.localSteps ?? initialLocalSteps(config.period) };
  }
}

/**
 * How long a batch opened now may stay open. Under local SGD an update is H local steps, so the
 * whole deadline (clamps included) scales with `H / tau_0` against samples rescaled to tau_0.
 */
function batchSpanMs(state: ScheduleState): number | null {
  const { config } = state;
  if (config.kind === 'async') return null;
  const span = roundDeadlineMs(config.deadline, state.stepSamples);
  if (config.kind !== 'local-sgd') return span;
  const tau0 = initialLocalSteps(config.period);
  return (span * (state.localSteps ?? tau0)) / tau0;
}

/** A fresh, empty batch opened at `at`, its deadline fixed from the samples known now. */
export function openBatch(state: ScheduleState, at: number): OpenBatch {
  const span = batchSpanMs(state);
  return { openedAt: at, deadline: span === null ? null : at + span, entries: [] };
}

/**
 * A new schedule started at time `at` (ms): version 0, no workers, an empty batch; cyclic starts
 * with its synchronous part (or the asynchronous one when `syncRounds` is 0); local SGD with
 * H = tau_0; the plateau threshold at K = 1. Its rule is `currentPhase(state)`; `step` emits a
 * `phase` command whenever the rule differs from the last one known (this one at first).
 *
 * @throws ScheduleError `invalid-config` for an out-of-range config, `invalid-event` for a
 *   non-finite `at`.
 */
export function createSchedule(config: ScheduleConfig, at: number): ScheduleState {
  validateScheduleConfig(config);
  if (!Number.isFinite(at)) {
    throw new ScheduleError('invalid-event', `createSchedule: at must be finite, got ${at}`);
  }
  const initial: ScheduleState = {
    config,
    startedAt: at,
    now: at,
    version: 0,
    appliedUpdates: 0,
    workers: {},
    departedLastSeq: {},
    batch: { openedAt: at, deadline: null, entries: [] },
    stepSamples: [],
    cycle:
      config.kind === 'cyclic'
        ? config.syncRounds > 0
          ? { part: 'sync', remaining: config.syncRounds }
          : { part: 'async', remaining: config.asyncUpdates }
        : null,
    plateau:
      config.kind === 'hybrid' && config.threshold.shape === 'plateau'
        ? INITIAL_PLATEAU_PROGRESS
        : null,
    initialLoss: null,
    latestLoss: null,
    localSteps: config.kind === 'local-sgd' ? initialLocalSteps(config.period) : null,
    announced: null,
    rejected: { stale: 0, duplicate: 0, 'unknown-worker': 0, 'future-version': 0, late: 0 },
  };
  const opened = { ...initial, batch: openBatch(initial, at) };
  return { ...opened, announced: currentPhase(opened) };
}
