import type { Backend, Phase, RejectReason } from '@vtrain/protocol';

/**
 * Where a worker session is:
 * - `connecting`: no socket connection yet, or it dropped (socket.io retries with backoff);
 * - `waiting-for-run`: connected, the coordinator has no run open (hello again every ~5 s);
 * - `loading`: fetching the shard and building the model of an assignment;
 * - `training`: computing and sending updates;
 * - `paused`: connected and assigned, not computing (see `WorkerSession.pause`);
 * - `stopped`: `stop()` was called, the socket is closed;
 * - `error`: a fatal error (a protocol version mismatch); the session stopped by itself.
 */
export type WorkerState =
  'connecting' | 'waiting-for-run' | 'loading' | 'training' | 'paused' | 'stopped' | 'error';

/** The compute backend a worker trains on, and why a better one was not used. */
export interface BackendChoice {
  readonly name: Backend;
  readonly reason?: string;
}

/**
 * A snapshot of a worker session for a UI or a status line; every counter
 * counts since `start()`.
 *
 * Byte counters: every binary attachment exactly, plus the estimated JSON
 * envelope of each socket.io message (`estimatedMessageBytes`), both
 * directions; the shard download (HTTP, cached by the browser) is not counted.
 */
export interface WorkerStatus {
  readonly state: WorkerState;
  /** The identity the coordinator gave this worker. */
  readonly workerId?: string;
  readonly runId?: string;
  readonly runName?: string;
  /** The run's model, e.g. "mlp [128]" or "custom". */
  readonly model?: string;
  /** P of the run's model. */
  readonly parameterCount?: number;
  readonly backend: BackendChoice;
  /** Version of the global weights the worker holds (0 before the first pull). */
  readonly version: number;
  /** New updates sent (a resend of the same seq after a reconnect is not counted twice). */
  readonly updatesSent: number;
  /** Updates the coordinator applied on arrival (`ack` with status `applied`). */
  readonly updatesApplied: number;
  /** Updates the coordinator put in an open batch (`ack` with status `buffered`). */
  readonly updatesBuffered: number;
  /** Rejected updates by reason. */
  readonly updatesRejected: Readonly<Partial<Record<RejectReason, number>>>;
  /** Local steps computed, in total. */
  readonly steps: number;
  /** Training examples processed, in total. */
  readonly samples: number;
  /**
   * Throughput: an EWMA (alpha 0.2) of samples / wall time between the ends of
   * consecutive update computations, so communication and duty-cycle idling count.
   */
  readonly samplesPerSecond: number;
  readonly bytesUp: number;
  readonly bytesDown: number;
  /** Local steps H of the next update (the assignment's, then the last phase notice's). */
  readonly localSteps?: number;
  /** Schedule phase, and K (updates per batch) and N (active workers) of the last phase notice. */
  readonly phase?: Phase;
  readonly k?: number;
  readonly n?: number;
  /** Staleness the coordinator measured for the last acknowledged update. */
  readonly lastStaleness?: number;
  /** What is going on or wrong, in words (a retry, an error), when there is something to say. */
  readonly message?: string;
}

/** The status before `start()`: connecting, every counter at zero. */
export function initialStatus(backend: BackendChoice): WorkerStatus {
  return {
    state: 'connecting',
    backend,
    version: 0,
    updatesSent: 0,
    updatesApplied: 0,
    updatesBuffered: 0,
    updatesRejected: {},
    steps: 0,
    samples: 0,
    samplesPerSecond: 0,
    bytesUp: 0,
    bytesDown: 0,
  };
}
