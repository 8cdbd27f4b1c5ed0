import type { LateUpdateRule, ScheduleConfig } from './config.js';
import { ScheduleError } from './errors.js';
import type {
  PhaseCommand,
  RejectReason,
  ScheduleCommand,
  ScheduleEvent,
  UpdateArrivedEvent,
} from './events.js';
import { initialLocalSteps, localSteps } from './local-steps.js';
import { INITIAL_PLATEAU_PROGRESS, observePlateauLoss } from './plateau.js';
import { hasKey, ownValue, sizeOf, withEntry, withoutEntry } from './records.js';
import { currentPhase, openBatch, type CyclePosition, type ScheduleState } from './state.js';
import { validateEvent } from './validate-event.js';

/** The outcome of one event: the next state and what the coordinator must do, in order. */
export interface StepResult {
  readonly state: ScheduleState;
  readonly commands: readonly ScheduleCommand[];
}

function samePhase(a: PhaseCommand, b: PhaseCommand | null): boolean {
  return (
    b !== null && a.phase === b.phase && a.k === b.k && a.n === b.n && a.localSteps === b.localSteps
  );
}

function announce(state: ScheduleState, commands: ScheduleCommand[]): ScheduleState {
  const phase = currentPhase(state);
  if (samePhase(phase, state.announced)) return state;
  commands.push(phase);
  return { ...state, announced: phase };
}

// Local SGD averages models that all left the same global point, so a delta from an older
// round is never mixed in: the rule is fixed to 'reject' there.
function lateRuleOf(config: ScheduleConfig): LateUpdateRule {
  switch (config.kind) {
    case 'async':
      return 'next-round';
    case 'local-sgd':
      return 'reject';
    default:
      return config.lateUpdates;
  }
}

function nextCyclePosition(
  config: ScheduleConfig,
  cycle: CyclePosition | null,
  applied: number,
): CyclePosition | null {
  if (config.kind !== 'cyclic' || cycle === null) return cycle;
  // A synchronous part counts rounds (flushes), an asynchronous part counts applied updates.
  const remaining = Math.max(0, cycle.remaining - (cycle.part === 'sync' ? 1 : applied));
  if (remaining > 0) return { part: cycle.part, remaining };
  const toAsync = cycle.part === 'sync' ? config.asyncUpdates > 0 : config.syncRounds === 0;
  return toAsync
    ? { part: 'async', remaining: config.asyncUpdates }
    : { part: 'sync', remaining: config.syncRounds };
}

/**
 * Applies the whole open batch: staleness `v - baseVersion` per update, version + 1, then a new
 * empty batch opened now (with the next round's H under local SGD, and the next cyclic part).
 */
function flush(state: ScheduleState, commands: ScheduleCommand[]): ScheduleState {
  const { config } = state;
  const updates = state.batch.entries.map((entry) => ({
    workerId: entry.workerId,
    seq: entry.seq,
    staleness: state.version - entry.baseVersion,
  }));
  const version = state.version + 1;
  commands.push({ type: 'apply', version, updates });
  let next: ScheduleState = {
    ...state,
    version,
    appliedUpdates: state.appliedUpdates + updates.length,
    cycle: nextCyclePosition(config, state.cycle, updates.length),
  };
  if (config.kind === 'local-sgd') {
    const h = localSteps(config.period, version, next.initialLoss, next.latestLoss);
    next = { ...next, localSteps: h };
  }
  next = { ...next, batch: openBatch(next, next.now) };
  return announce(next, commands);
}

// Entries of workers that left still get applied, but only active workers count towards K:
// under K = N a round completes when every remaining worker has reported, never earlier.
function activeEntryCount(state: ScheduleState): number {
  let count = 0;
  for (const entry of state.batch.entries) {
    if (hasKey(state.workers, entry.workerId)) count += 1;
  }
  return count;
}

function flushIfComplete(state: ScheduleState, commands: ScheduleCommand[]): ScheduleState {
  if (state.batch.entries.length === 0) return state;
  return activeEntryCount(state) >= currentPhase(state).k ? flush(state, commands) : state;
}

/** Time has reached `now`: a non-empty batch past its deadline is applied, an empty one re-opens. */
function closeExpiredBatch(state: ScheduleState, commands: ScheduleCommand[]): ScheduleState {
  const { deadline, entries } = state.batch;
  if (deadline === null || state.now < deadline) return state;
  if (entries.length > 0) return flush(state, commands);
  return { ...state, batch: openBatch(state, state.now) };
}

function reject(
  state: ScheduleState,
  event: UpdateArrivedEvent,
  reason: RejectReason,
  commands: ScheduleCommand[],
): ScheduleState {
  commands.push({ type: 'reject', workerId: event.workerId, seq: event.seq, reason });
  return { ...state, rejected: { ...state.rejected, [reason]: state.rejected[reason] + 1 } };
}

/**
 * Keeps the last `window` step times. Under local SGD a sample is rescaled to tau_0 local steps
 * and taken only from updates of the open round, the only ones whose H is known here.
 */
function recordStepSample(state: ScheduleState, stepMs: number, staleness: number): ScheduleState {
  const { config } = state;
  if (config.kind === 'async') return state;
  let sample = stepMs;
  if (config.kind === 'local-sgd') {
    if (staleness !== 0) return state;
    const tau0 = initialLocalSteps(config.period);
    sample = (stepMs * tau0) / (state.localSteps ?? tau0);
  }
  const samples = [...state.stepSamples, sample];
  const excess = samples.length - config.deadline.window;
  return { ...state, stepSamples: excess > 0 ? samples.slice(excess) : samples };
}

function receiveUpdate(
  state: ScheduleState,
  event: UpdateArrivedEvent,
  commands: ScheduleCommand[],
): ScheduleState {
  const { workerId, seq, baseVersion } = event;
  const worker = ownValue(state.workers, workerId);
  if (worker === undefined) return reject(state, event, 'unknown-worker', commands);
  if (worker.lastSeq !== null && seq <= worker.lastSeq) {
    return reject(state, event, 'duplicate', commands);
  }
  // Every seq gets exactly one verdict: from here on a replay of it is a duplicate.
  let next: ScheduleState = {
    ...state,
    workers: withEntry(state.workers, workerId, { lastSeq: seq }),
  };
  if (baseVersion > next.version) return reject(next, event, 'future-version', commands);
  const staleness = next.version - baseVersion;
  // Stale and late updates still measure how long workers take, which the deadline must cover.
  next = recordStepSample(next, event.stepMs, staleness);
  if (staleness > next.config.staleness.maxStaleness) {
    return reject(next, event, 'stale', commands);
  }
  if (next.batch.entries.some((entry) => entry.workerId === workerId)) {
    return reject(next, event, 'late', commands);
  }
  const { k } = currentPhase(next);
  // Whether the update would join a round is a property of the batch, not only of K now: with
  // K = 1 an active worker's update is applied at once, so a batch that still holds updates is a
  // round opened under K > 1 whose workers left (N, and so K, fell). A late update joining it
  // would be averaged with that round's updates, exactly what 'reject' rules out.
  const joinsRound = next.batch.entries.length > 0;
  const barrier = next.config.kind === 'local-sgd' || k > 1 || joinsRound;
  if (barrier && staleness > 0 && lateRuleOf(next.config) === 'reject') {
    return reject(next, event, 'late', commands);
  }
  const entries = [...next.batch.entries, { workerId, seq, baseVersion }];
  next = { ...next, batch: { ...next.batch, entries } };
  if (activeEntryCount(next) >= k) return flush(next, commands);
  commands.push({ type: 'buffered', workerId, seq });
  if (entries.length === 1 && next.batch.deadline !== null) {
    commands.push({ type: 'wake-at', at: next.batch.deadline });
  }
  return next;
}

function joinWorker(state: ScheduleState, workerId: string): ScheduleState {
  if (hasKey(state.workers, workerId)) return state;
  const lastSeq = ownValue(state.departedLastSeq, workerId) ?? null;
  return {
    ...state,
    workers: withEntry(state.workers, workerId, { lastSeq }),
    departedLastSeq: withoutEntry(state.departedLastSeq, workerId),
  };
}

function leaveWorker(state: ScheduleState, workerId: string): ScheduleState {
  const worker = ownValue(state.workers, workerId);
  if (worker === undefined) return state;
  return {
    ...state,
    workers: withoutEntry(state.workers, workerId),
    departedLastSeq:
      worker.lastSeq === null
        ? state.departedLastSeq
        : withEntry(state.departedLastSeq, workerId, worker.lastSeq),
  };
}

function observeLoss(state: ScheduleState, loss: number): ScheduleState {
  const { config } = state;
  if (config.kind === 'local-sgd' && config.period.rule === 'lupa-adaptive' && !(loss > 0)) {
    throw new ScheduleError(
      'invalid-event',
      `loss must be > 0 under the LUPA adaptive rule (it takes F(x_0) / F(x_i)), got ${loss}`,
    );
  }
  let next: ScheduleState = {
    ...state,
    initialLoss: state.initialLoss ?? loss,
    latestLoss: loss,
  };
  if (config.kind === 'hybrid' && config.threshold.shape === 'plateau') {
    const progress = next.plateau ?? INITIAL_PLATEAU_PROGRESS;
    next = {
      ...next,
      plateau: observePlateauLoss(config.threshold, progress, loss, sizeOf(next.workers)),
    };
  }
  return next;
}

/**
 * Advances a schedule by one event (pure: no clock, no randomness, the input state untouched).
 *
 * Model (docs/algorithms.md#the-schedule-state-machine; Smooth Switch, arXiv 2407.00101): updates
 * are buffered in one open
 * batch, applied as a whole (`apply`, version + 1) when it holds K updates from K distinct active
 * workers, or when time reaches its deadline (`openedAt + roundDeadlineMs`), whichever is first.
 * K = 1 is asynchronous, K = N synchronous rounds, in between the hybrid. Time is only `at`:
 * first the batch is closed if `at >= deadline` (an empty batch just re-opens at `at`), then the
 * event is handled.
 *
 * Verdict rules for an update, checked in this order (each seq gets exactly one verdict):
 * 1. worker not active: reject `'unknown-worker'`;
 * 2. `seq <= ` the last seq seen from the worker (whatever that one's verdict was, and across a
 *    leave and rejoin): reject `'duplicate'`, so no update is applied twice;
 * 3. `baseVersion > v`: reject `'future-version'`;
 * 4. staleness `v - baseVersion > maxStaleness`: reject `'stale'`;
 * 5. the worker already has an update in the open batch (it did not wait at the barrier): reject
 *    `'late'`; one contribution per worker per batch, and `'duplicate'` stays reserved for
 *    replays so it always means "already decided, nothing lost";
 * 6. a barrier (K > 1, local SGD, or an open batch that already holds updates: a round that
 *    began under K > 1 and kept them after its workers left) and `baseVersion < v` (its round
 *    closed): reject `'late'` under `lateUpdates: 'reject'` (always under local SGD), else
 *    buffered with its staleness;
 * 7. otherwise it joins the batch: `apply` if that completes K, else `buffered`, plus `wake-at`
 *    (the deadline) when it is the batch's first update.
 * Under `'reject'` every batch of more than one update therefore holds only staleness 0.
 *
 * A joining or leaving worker changes N and so K; the batch re-checks K, so a leaver never
 * stalls a round (its delivered update is still applied). `phase` is emitted whenever the phase,
 * K, N or H changes. Cost per update event is O(N + window); a join or leave also copies the
 * record of departed workers' last seqs.
 *
 * @throws ScheduleError `invalid-event` for a malformed event, `time-went-backwards` when `at`
 *   is earlier than an event already stepped.
 */
export function step(state: ScheduleState, event: ScheduleEvent): StepResult {
  validateEvent(event);
  if (event.at < state.now) {
    throw new ScheduleError(
      'time-went-backwards',
      `${event.type} at ${event.at} is earlier than the last event at ${state.now}`,
    );
  }
  const commands: ScheduleCommand[] = [];
  let next: ScheduleState = event.at === state.now ? state : { ...state, now: event.at };
  // Time alone can change K (a time-clocked threshold); announce the rule the event is judged by.
  next = announce(closeExpiredBatch(next, commands), commands);
  switch (event.type) {
    case 'worker-joined':
      next = joinWorker(next, event.workerId);
      break;
    case 'worker-left':
      next = leaveWorker(next, event.workerId);
      break;
    case 'update-arrived':
      next = receiveUpdate(next, event, commands);
      break;
    case 'tick':
      break;
    case 'evaluated':
      next = observeLoss(next, event.loss);
      break;
  }
  next = flushIfComplete(next, commands);
  return { state: announce(next, commands), commands };
}

/**
 * Folds {@link step} over `events` in order and concatenates their commands: replays an event
 * log on a restored checkpoint, or drives a schedule in tests and benchmarks.
 *
 * @throws ScheduleError as {@link step} does, at the first bad event.
 */
export function stepAll(state: ScheduleState, events: Iterable<ScheduleEvent>): StepResult {
  const commands: ScheduleCommand[] = [];
  let current = state;
  for (const event of events) {
    const result = step(current, event);
    current = result.state;
    commands.push(...result.commands);
  }
  return { state: current, commands };
}
