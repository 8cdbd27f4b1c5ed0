/** What the volunteers of one process counted since its last report (window counts only). */
export interface LoadDelta {
  /** Updates sent. */
  offered: number;
  /** `ack` `applied`: in the model at once (an asynchronous phase). */
  appliedAtOnce: number;
  /** `ack` `buffered`, then the version notice that closed its round: in the model. */
  appliedAfterBarrier: number;
  /** `ack` `buffered` with no version notice within the barrier timeout (pulled anyway). */
  bufferedUnconfirmed: number;
  /** Sent in the window, still without an answer or behind an open round when it ended. */
  pendingAtEnd: number;
  /** `reject` answers by reason. */
  rejected: Record<string, number>;
  /** Requests without an answer: timeouts, lost connections, pull errors, by kind. */
  errors: Record<string, number>;
  /** ms from sending an update to its answer (ack or reject), updates sent in the window. */
  latenciesMs: number[];
}

/** Child -> parent messages of the load tool. */
export type ChildMessage =
  | {
      readonly type: 'status';
      /** Volunteers of this process holding a run's weights now. */
      readonly joined: number;
      /** Volunteers that gave up joining, by reason (code: message). */
      readonly refused: Readonly<Record<string, number>>;
      /** Volunteers whose join is settled (joined or refused). */
      readonly settled: number;
      readonly delta: LoadDelta;
      /** CPU ms this process used so far (user and system). */
      readonly cpuMs: number;
      /** The run the volunteers were assigned, once one was. */
      readonly run?: AssignedRun;
    }
  | { readonly type: 'done' };

/** Parent -> child messages. */
export type ParentMessage = { readonly type: 'measure' } | { readonly type: 'stop' };

/** What the child processes are started with (one JSON argument). */
export interface ChildConfig {
  readonly url: string;
  readonly clients: number;
  readonly periodMs: number;
  readonly processIndex: number;
}

/** The run the coordinator assigned, from the welcome. */
export interface AssignedRun {
  readonly runId: string;
  readonly runName: string;
  readonly parameterCount: number;
  readonly density: number;
  readonly valueFormat: 'f32' | 'f16';
  readonly localSteps: number;
}

/** An empty delta. */
export function emptyDelta(): LoadDelta {
  return {
    offered: 0,
    appliedAtOnce: 0,
    appliedAfterBarrier: 0,
    bufferedUnconfirmed: 0,
    pendingAtEnd: 0,
    rejected: {},
    errors: {},
    latenciesMs: [],
  };
}

/** Adds `from` into `into`. */
export function addDelta(into: LoadDelta, from: LoadDelta): void {
  into.offered += from.offered;
  into.appliedAtOnce += from.appliedAtOnce;
  into.appliedAfterBarrier += from.appliedAfterBarrier;
  into.bufferedUnconfirmed += from.bufferedUnconfirmed;
  into.pendingAtEnd += from.pendingAtEnd;
  addCounts(into.rejected, from.rejected);
  addCounts(into.errors, from.errors);
  for (const latency of from.latenciesMs) into.latenciesMs.push(latency);
}

/** Adds the counts of `from` into `into`, key by key. */
export function addCounts(
  into: Record<string, number>,
  from: Readonly<Record<string, number>>,
): void {
  for (const [key, n] of Object.entries(from)) into[key] = (into[key] ?? 0) + n;
}

/** The q-quantile (0 < q <= 1) of ascending `sorted` by nearest rank; undefined when empty. */
export function quantile(sorted: readonly number[], q: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
