import {
  safeParseMessage,
  UpdateAckSchema,
  UpdateRejectSchema,
  type RejectReason,
  type UpdateAck,
  type UpdateReject,
  type WorkerClientToServerEvents,
} from '@vtrain/protocol';
import type { CoordinatorConnection } from './connection.js';
import { unwrap } from './connection.js';
import type { ComputedUpdate } from './engine.js';

/** An update as it is emitted (the schema's input side: the payload is a plain ArrayBuffer's view). */
export type OutgoingUpdate = Parameters<WorkerClientToServerEvents['update']>[0];

/** The one update of a worker that was sent and not yet answered (or must be resent). */
export interface PendingUpdate {
  readonly push: OutgoingUpdate;
  /** The entries the payload carries, to give back to the residual on a rejection. */
  readonly computed: ComputedUpdate;
  /** Times it was emitted: 1 after the first send, 2 after the one resend allowed. */
  attempts: number;
}

/**
 * Rejections that leave the update unapplied for sure, so its sent mass goes back to
 * the error-feedback residual (and is sent again later):
 * - `stale`, `late`, `future-version`, `rate-limited`, `storage-unavailable`: the
 *   coordinator decided "not applied" for this seq;
 * - `run-not-active`, `unknown-worker`: refused before the schedule saw it.
 *
 * Not given back:
 * - `duplicate`: a replay of a seq that already had a verdict, possibly "applied"
 *   (the resend after a lost ack); giving it back could apply the mass twice;
 * - `invalid-message`, `invalid-payload`, `non-finite`, `payload-too-large`: the update
 *   itself is broken (a worker bug); its values must not be sent again;
 * - `unsafe-update`, `empty-update`: over the run's bounds, or nothing; given back, the mass
 *   would make the next update larger still.
 */
export function rejectionReturnsMass(reason: RejectReason): boolean {
  switch (reason) {
    case 'stale':
    case 'late':
    case 'future-version':
    case 'rate-limited':
    case 'storage-unavailable':
    case 'run-not-active':
    case 'unknown-worker':
      return true;
    case 'duplicate':
    case 'invalid-message':
    case 'invalid-payload':
    case 'non-finite':
    case 'payload-too-large':
    case 'unsafe-update':
    case 'empty-update':
      return false;
  }
}

/** An answer or the error that stood in for one, so an awaited-later promise never rejects unhandled. */
export type Settled<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

/** Wraps a promise that is awaited only later (while the worker computes). */
export function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

/**
 * The update half of the protocol: per-worker sequence numbers (strictly increasing,
 * the coordinator's idempotency key) and the one update in flight.
 *
 * Bound: at most ONE update is in flight. The training loop emits update n, computes
 * the local steps of update n + 1 while n travels, and compresses and emits n + 1 only
 * after n's verdict was followed (weights adopted or mass given back). So an update is
 * never compressed while another is unanswered, which keeps the residual's give-back
 * exact, and the steps behind an update were computed at most one update's round trip
 * before its base version.
 *
 * Resend rule (the contract's): an update that got no answer (ack timeout, lost
 * connection) is resent once with the same seq and payload after the next hello; after
 * a second miss it is dropped (it may have been applied, so its mass is not given back).
 * A hello that did not resume this worker's identity drops it too: the coordinator could
 * no longer tell a resend from a new update.
 */
export class UpdatePipeline {
  private nextSeq = 0;
  private current: PendingUpdate | undefined;

  constructor(
    private readonly connection: CoordinatorConnection,
    private readonly ackTimeoutMs: () => number,
    private readonly log: (level: 'info' | 'warn', message: string) => void,
  ) {}

  /** The update awaiting its answer or its resend, if any. */
  get pending(): PendingUpdate | undefined {
    return this.current;
  }

  /** Forgets the pending update (a new identity or a new run: it must not be resent). */
  forget(): void {
    this.current = undefined;
  }

  /** Forgets a pending update of another run. */
  keepOnlyRun(runId: string): void {
    if (this.current !== undefined && this.current.push.runId !== runId) this.current = undefined;
  }

  /** Makes the next update out of a compressed one, with the next seq; it becomes pending. */
  prepare(runId: string, computed: ComputedUpdate): PendingUpdate {
    const push: OutgoingUpdate = {
      type: 'update',
      runId,
      seq: this.nextSeq++,
      baseVersion: computed.baseVersion,
      steps: computed.steps,
      samples: computed.samples,
      trainLoss: computed.trainLoss,
      computeMs: computed.computeMs,
      payload: computed.payload,
    };
    this.current = { push, computed, attempts: 0 };
    return this.current;
  }

  /**
   * Emits the pending update (a resend keeps seq and payload) and returns the validated
   * answer; drops the update after the one resend allowed.
   *
   * @throws an Interruption when the connection fails or no answer comes in time,
   *   `SessionError` `invalid-reply` for an answer that fails its schema.
   */
  async send(pending: PendingUpdate): Promise<UpdateAck | UpdateReject> {
    pending.attempts++;
    if (pending.attempts > 1) this.log('info', `resending update seq ${pending.push.seq}`);
    let raw: unknown;
    try {
      raw = await this.connection.request('update', pending.push, (socket) =>
        socket.timeout(this.ackTimeoutMs()).emitWithAck('update', pending.push),
      );
    } catch (error) {
      if (pending.attempts >= 2 && this.current === pending) {
        this.log('warn', `update seq ${pending.push.seq} got no answer twice; dropping it`);
        this.current = undefined;
      }
      throw error;
    }
    if (this.current === pending) this.current = undefined;
    return unwrap(safeParseMessage(UpdateAckSchema.or(UpdateRejectSchema), raw, 'update reply'));
  }
}
