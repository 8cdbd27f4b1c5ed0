/**
 * The input and output vocabulary of the schedules: the coordinator translates socket messages
 * and timers into {@link ScheduleEvent}s and carries out the {@link ScheduleCommand}s. Time is
 * always the event's `at` (ms on one non-decreasing clock); the schedule never reads a clock.
 */

/** A worker became active; N grows by one. Joining twice is a no-op (reconnects happen). */
export interface WorkerJoinedEvent {
  readonly type: 'worker-joined';
  readonly workerId: string;
  readonly at: number;
}

/**
 * A worker became inactive; N shrinks by one and the open batch re-checks K, so a leaver never
 * stalls a round. An update it already delivered stays in the batch and is applied with it.
 */
export interface WorkerLeftEvent {
  readonly type: 'worker-left';
  readonly workerId: string;
  readonly at: number;
}

/** A worker delivered an update computed on `baseVersion` (staleness `s_i = v - baseVersion`). */
export interface UpdateArrivedEvent {
  readonly type: 'update-arrived';
  readonly workerId: string;
  /** Per-worker, strictly increasing non-negative integer: the idempotency key. */
  readonly seq: number;
  /** The global version the worker computed on, a non-negative integer. */
  readonly baseVersion: number;
  /** The worker's compute time for this update in ms (for local SGD: all H local steps). */
  readonly stepMs: number;
  readonly at: number;
}

/** A wake-up time asked for with `wake-at` was reached. */
export interface TickEvent {
  readonly type: 'tick';
  readonly at: number;
}

/** The global model was evaluated on held-out data; drives plateau K and LUPA adaptive H. */
export interface EvaluatedEvent {
  readonly type: 'evaluated';
  /** Held-out loss, finite (and `> 0` under the LUPA adaptive rule, which takes a ratio). */
  readonly loss: number;
  readonly at: number;
}

/** Everything a schedule reacts to. */
export type ScheduleEvent =
  WorkerJoinedEvent | WorkerLeftEvent | UpdateArrivedEvent | TickEvent | EvaluatedEvent;

/** One update of an applied batch; `staleness = v - baseVersion` at flush time. */
export interface AppliedUpdate {
  readonly workerId: string;
  readonly seq: number;
  readonly staleness: number;
}

/**
 * Aggregate the named updates (their weighted average) into the model; `version` is the global
 * version after this flush (it grows by exactly one per flush).
 */
export interface ApplyCommand {
  readonly type: 'apply';
  readonly version: number;
  readonly updates: readonly AppliedUpdate[];
}

/** Ack: the update waits in the open batch; the worker waits for the flush (the barrier). */
export interface BufferedCommand {
  readonly type: 'buffered';
  readonly workerId: string;
  readonly seq: number;
}

/**
 * Why an update was refused:
 * - `unknown-worker`: the worker has not joined (or has left);
 * - `duplicate`: its seq is `<=` the last seq seen from that worker (a replay or retry; the
 *   earlier delivery of that seq was already decided, so nothing is lost);
 * - `future-version`: `baseVersion` is newer than the current version;
 * - `stale`: staleness above `maxStaleness`;
 * - `late`: K > 1, local SGD, or an open batch that already holds updates (a round that kept
 *   them after its workers left and K fell), and the update either belongs to a round that
 *   already closed (under `lateUpdates: 'reject'`), or comes from a worker whose earlier update
 *   still waits in the open batch (it did not wait for the barrier; one contribution per worker
 *   per batch).
 */
export type RejectReason = 'stale' | 'duplicate' | 'unknown-worker' | 'future-version' | 'late';

/** Nack: the update is dropped; the coordinator may free its payload. */
export interface RejectCommand {
  readonly type: 'reject';
  readonly workerId: string;
  readonly seq: number;
  readonly reason: RejectReason;
}

/** The coordinator must send a `tick` at (or after) this time: the open batch's deadline. */
export interface WakeAtCommand {
  readonly type: 'wake-at';
  readonly at: number;
}

/** Phase labels the dashboard plots: K = 1 is async, K = N is sync, in between hybrid. */
export type Phase = 'async' | 'sync' | 'hybrid';

/**
 * The current rule, emitted whenever the phase, K, N or H changes (the dashboard plots it).
 * `k` is the effective threshold, at least 1; `localSteps` (H) only under local SGD.
 */
export interface PhaseCommand {
  readonly type: 'phase';
  readonly phase: Phase;
  readonly k: number;
  readonly n: number;
  readonly localSteps?: number;
}

/** Everything a schedule asks the coordinator to do. */
export type ScheduleCommand =
  ApplyCommand | BufferedCommand | RejectCommand | WakeAtCommand | PhaseCommand;
