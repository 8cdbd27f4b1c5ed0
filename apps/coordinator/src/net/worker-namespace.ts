import { randomBytes } from 'node:crypto';
import {
  CodecError,
  HelloSchema,
  PROTOCOL_VERSION,
  PullRequestSchema,
  UpdatePushSchema,
  WORKER_NAMESPACE,
  checkProtocolVersion,
  decodeSparseUpdate,
  safeParseMessage,
  type ErrorReply,
  type RejectReason,
  type UpdateAck,
  type UpdatePush,
  type UpdateReject,
  type WorkerClientToServerEvents,
  type WorkerServerToClientEvents,
} from '@vtrain/protocol';
import type { SparseVector } from '@vtrain/optimizer';
import type { Namespace, Server, Socket } from 'socket.io';
import type { LiveRun } from '../runs/live-run.js';
import type { RunManager } from '../runs/run-manager.js';
import { Admission, ByteBudget, DEFAULT_WORKER_LIMITS, type WorkerLimits } from './admission.js';
import { RateLimiter } from './rate-limiter.js';
import { queuedBytes } from './send-backlog.js';
import { WeightsReplies } from './weights-message.js';
import type { WorkerIdentities } from './worker-identities.js';

type WorkerSocket = Socket<WorkerClientToServerEvents, WorkerServerToClientEvents>;
export type WorkerNamespace = Namespace<WorkerClientToServerEvents, WorkerServerToClientEvents>;

/** Messages per second a worker may send, and the burst allowed. */
const RATE_PER_SECOND = 50;
const RATE_BURST = 100;
/** A connection refused this many times in a row is flooding: cut it. */
const FLOOD_DISCONNECT_AFTER = 200;
/**
 * Unread bytes a connection may have queued: a few full models (a slow link downloading
 * the weights, plus notices), at least 16 MiB. Beyond that the peer has stopped reading.
 */
const MIN_QUEUED_BYTES = 16 * 2 ** 20;
const QUEUED_MODELS = 3;
/** How often connections that only receive (notices) are checked for a stalled reader. */
const BACKLOG_SWEEP_MS = 5000;
/** How often expired worker identities are dropped from the database. */
const IDENTITY_SWEEP_MS = 10 * 60 * 1000;
/** (run, worker) pairs whose last weights are remembered; the least recently sent go first. */
const SENT_RECORDS_KEPT = 65_536;

/** The events a worker may send; anything else is refused. */
const WORKER_EVENTS: ReadonlySet<string> = new Set<keyof WorkerClientToServerEvents>([
  'hello',
  'pull',
  'update',
]);

export function runRoom(runId: string): string {
  return `run:${runId}`;
}

/**
 * The workers of a run holding a `buffered` ack, waiting for the next version.
 * Version notices go only to them: a broadcast to the whole run would cost one
 * message per worker per applied update, most of them to asynchronous workers
 * that learn the version from their own acks.
 */
function waitingRoom(runId: string): string {
  return `waiting:${runId}`;
}

interface Connection {
  workerId?: string;
  run?: LiveRun;
  readonly limiter: RateLimiter;
  /** Pulls only: a pull may cost a dense model's bytes, so it has its own, tighter bucket. */
  readonly pulls: RateLimiter;
  /** The address admission counted this connection under (released on disconnect). */
  readonly address: string;
  /** When the connection joined its run: the start of its first observed round trip. */
  joinedAt: number;
}

/**
 * What the coordinator last sent a worker of a run: the version of the weights
 * and when. An update's staleness and step time are taken from this, not from
 * the worker's claims: a worker cannot hold weights newer than the coordinator
 * sent it (version 0 excepted, which it builds itself), and the time from
 * sending the weights to the update's arrival is a round trip the coordinator
 * saw for itself.
 */
interface SentRecord {
  readonly version: number;
  readonly at: number;
}

/** Options of {@link attachWorkerNamespace}. */
export interface WorkerNamespaceOptions {
  readonly limits?: WorkerLimits;
  /** This process's restart epoch, stamped on the welcome and every weights message. */
  readonly epoch: string;
  readonly now?: () => number;
  /** Where a handler's unexpected failure is written (its text never goes to the worker). */
  readonly log: (message: string) => void;
}

function errorReply(
  code: ErrorReply['code'],
  message: string,
  issues?: ErrorReply['issues'],
): ErrorReply {
  return { type: 'error', code, message, ...(issues ? { issues } : {}) };
}

/**
 * The answer to a failure no handler expected, as the HTTP API answers one: the error's
 * own text (paths, internal state) goes to the operator's log under a reference, and
 * the anonymous peer gets only the reference.
 */
function internalError(event: string, error: unknown, log: (message: string) => void): ErrorReply {
  const ref = randomBytes(6).toString('hex');
  log(
    `internal error ${ref} on worker ${event}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
  return errorReply('internal', `internal error (reference ${ref} in the coordinator log)`);
}

function reject(seq: number | undefined, reason: RejectReason, message: string): UpdateReject {
  return { type: 'reject', ...(seq === undefined ? {} : { seq }), reason, message };
}

/**
 * The worker namespace: translates socket.io messages into RunManager calls
 * and answers. Every message is validated against its protocol schema, binary
 * payloads are decoded defensively against the run's dimensions, and every
 * connection is rate-limited. Workers are anonymous: nothing here is a
 * researcher action.
 */
export function attachWorkerNamespace(
  io: Server,
  manager: RunManager,
  identities: WorkerIdentities,
  options: WorkerNamespaceOptions,
): {
  namespace: WorkerNamespace;
  stopSweep: () => void;
  replies: WeightsReplies;
  admission: Admission;
} {
  const now = options.now ?? Date.now;
  const limits = options.limits ?? DEFAULT_WORKER_LIMITS;
  const namespace: WorkerNamespace = io.of(WORKER_NAMESPACE);
  const connections = new Map<WorkerSocket, Connection>();
  const admission = new Admission(limits, now);
  const replies = new WeightsReplies(options.epoch);
  const budget = new ByteBudget(limits.bytesOutPerSecond, now());
  const sent = new Map<string, SentRecord>();
  const sentKey = (run: LiveRun, workerId: string): string => `${run.id}\n${workerId}`;
  const recordSent = (run: LiveRun, workerId: string, version: number): void => {
    const key = sentKey(run, workerId);
    sent.delete(key); // re-inserted last: Map order is least recently sent first
    sent.set(key, { version, at: now() });
    if (sent.size > SENT_RECORDS_KEPT) {
      const oldest = sent.keys().next();
      if (oldest.done !== true) sent.delete(oldest.value);
    }
  };
  /** Revokes the identities a run forgot the last seq of (see `RunEngine.takeForgotten`). */
  const revokeForgotten = (run: LiveRun): void => {
    const forgotten = run.engine.takeForgotten();
    if (forgotten.length > 0) identities.revoke(forgotten);
  };
  /** Cuts a connection whose peer stopped reading; true when it did. */
  const cutIfStalled = (socket: WorkerSocket, connection: Connection): boolean => {
    const model = (connection.run?.engine.parameterCount ?? 0) * 4;
    if (queuedBytes(socket) <= Math.max(MIN_QUEUED_BYTES, QUEUED_MODELS * model)) return false;
    socket.disconnect(true);
    return true;
  };
  const sweep = setInterval(() => {
    for (const [socket, connection] of connections) cutIfStalled(socket, connection);
  }, BACKLOG_SWEEP_MS);
  sweep.unref();
  identities.sweep();
  const identitySweep = setInterval(() => {
    identities.sweep();
  }, IDENTITY_SWEEP_MS);
  identitySweep.unref();

  // Admission: a connection costs a token of its address's bucket and a slot of its counts.
  namespace.use((socket, next) => {
    const { handshake } = socket;
    const address = admission.addressOf(handshake.address, handshake.headers['x-forwarded-for']);
    const refused = admission.connect(address);
    if (refused) {
      const error = new Error(refused.message) as Error & { data?: ErrorReply };
      error.data = errorReply(refused.code, refused.message);
      next(error);
      return;
    }
    (socket.data as { address?: string }).address = address;
    next();
  });

  namespace.on('connection', (socket: WorkerSocket) => {
    const at = now();
    const connection: Connection = {
      limiter: new RateLimiter(RATE_BURST, RATE_PER_SECOND, at),
      pulls: new RateLimiter(limits.pullBurst, limits.pullsPerSecond, at),
      address: (socket.data as { address?: string }).address ?? socket.handshake.address,
      joinedAt: at,
    };
    connections.set(socket, connection);

    /** Wraps a handler: a missing ack or a flood ends the connection, a throw becomes an error reply. */
    function on(
      event: keyof WorkerClientToServerEvents,
      handler: (message: unknown, ack: (reply: unknown) => void) => void,
    ): void {
      socket.on(
        event as never,
        ((message: unknown, ack: unknown) => {
          if (typeof ack !== 'function') {
            socket.disconnect(true); // every worker request expects an answer
            return;
          }
          const reply = ack as (reply: unknown) => void;
          // Answers to a peer that reads nothing would only pile up: cut it instead.
          if (cutIfStalled(socket, connection)) return;
          if (!connection.limiter.allow(now())) {
            if (connection.limiter.refusedInARow >= FLOOD_DISCONNECT_AFTER) socket.disconnect(true);
            reply(
              event === 'update'
                ? reject(undefined, 'rate-limited', 'too many messages: slow down')
                : errorReply('rate-limited', 'too many messages: slow down'),
            );
            return;
          }
          try {
            handler(message, reply);
          } catch (error) {
            reply(internalError(event, error, options.log));
          }
        }) as never,
      );
    }

    // An event no handler knows still costs a token, gets a typed answer when it asks for one,
    // and ends the connection when it does not: nothing a client sends goes unanswered.
    socket.onAny((event: unknown, ...args: unknown[]) => {
      if (typeof event === 'string' && WORKER_EVENTS.has(event)) return;
      const ack = args.at(-1);
      if (typeof ack !== 'function' || !connection.limiter.allow(now())) {
        socket.disconnect(true);
        return;
      }
      (ack as (reply: unknown) => void)(
        errorReply('invalid-message', `unknown event "${String(event).slice(0, 64)}"`),
      );
    });

    on('hello', (message, ack) => {
      const parsed = safeParseMessage(HelloSchema, message, 'hello');
      if (!parsed.ok) {
        ack(errorReply('invalid-message', parsed.error.message, [...parsed.error.issues]));
        return;
      }
      const hello = parsed.value;
      const version = checkProtocolVersion(hello.protocolVersion);
      if (!version.ok) {
        ack(errorReply('protocol-version', version.message));
        return;
      }
      const resumed =
        hello.resume !== undefined && identities.verify(hello.resume.workerId, hello.resume.secret);
      if (!resumed) {
        // A new identity costs a token of the address's bucket and of the global one.
        const refused = admission.newIdentity(connection.address);
        if (refused) {
          ack(errorReply(refused.code, refused.message));
          return;
        }
      }
      leaveRun(connection, socket, manager);
      const identity = resumed && hello.resume ? hello.resume : identities.issue();
      connection.workerId = identity.workerId;
      const welcome = {
        type: 'welcome' as const,
        protocolVersion: PROTOCOL_VERSION,
        ...identity,
        epoch: replies.epoch,
      };
      const run = manager.pickRun();
      if (!run) {
        ack(welcome);
        return;
      }
      const assignment = manager.join(run, identity.workerId, hello);
      revokeForgotten(run);
      connection.run = run;
      connection.joinedAt = now();
      // Until the coordinator sends weights, all this worker can hold is version 0 (the seed's).
      if (!sent.has(sentKey(run, identity.workerId))) recordSent(run, identity.workerId, 0);
      void socket.join(runRoom(run.id));
      ack({ ...welcome, assignment });
    });

    on('pull', (message, ack) => {
      const parsed = safeParseMessage(PullRequestSchema, message, 'pull');
      if (!parsed.ok) {
        ack(errorReply('invalid-message', parsed.error.message, [...parsed.error.issues]));
        return;
      }
      const run = connection.run;
      const workerId = connection.workerId;
      if (run?.id !== parsed.value.runId || run.stopping || workerId === undefined) {
        ack(errorReply('no-active-run', 'this connection is not assigned to that run: say hello'));
        return;
      }
      if (!connection.pulls.allow(now())) {
        ack(errorReply('rate-limited', 'too many pulls on this connection: slow down'));
        return;
      }
      const weights = replies.reply(
        run,
        workerId,
        parsed.value.haveVersion,
        parsed.value.haveEpoch,
      );
      const bytes = weights.payload.byteLength;
      const spent = budget.take(bytes, now());
      if (!spent.ok) {
        ack(
          errorReply(
            'rate-limited',
            `the coordinator's upload budget (${limits.bytesOutPerSecond} bytes/s) is spent: retry in ${spent.retryAfterMs} ms`,
          ),
        );
        return;
      }
      manager.countBytesOut(run, bytes);
      recordSent(run, workerId, weights.version);
      ack(weights);
    });

    on('update', (message, ack) => {
      const parsed = safeParseMessage(UpdatePushSchema, message, 'update');
      if (!parsed.ok) {
        ack(reject(undefined, 'invalid-message', parsed.error.message));
        return;
      }
      const update = parsed.value;
      const run = connection.run;
      const workerId = connection.workerId;
      if (run?.id !== update.runId || run.stopping || workerId === undefined) {
        ack(reject(update.seq, 'run-not-active', 'this connection is not assigned to that run'));
        return;
      }
      const refuse = (reason: RejectReason, why: string): void => {
        manager.refuse(run, workerId, reason);
        ack(reject(update.seq, reason, why));
      };
      if (update.payload.byteLength > run.model.maxUpdateBytes) {
        refuse(
          'payload-too-large',
          `${update.payload.byteLength} bytes > ${run.model.maxUpdateBytes}`,
        );
        return;
      }
      let sparse;
      try {
        sparse = decodeSparseUpdate(update.payload, {
          maxLength: run.engine.parameterCount,
          expectedLength: run.engine.parameterCount,
          maxCount: run.model.k,
        });
      } catch (error) {
        if (!(error instanceof CodecError)) throw error;
        refuse(error.code === 'non-finite' ? 'non-finite' : 'invalid-payload', error.message);
        return;
      }
      const barrier = manager.checkpointBarrier(run);
      if (barrier) {
        // Held until the checkpoint is durable (arrival order is kept: the waits resolve in order).
        void barrier.then(() => {
          try {
            if (run.stopping) {
              ack(reject(update.seq, 'run-not-active', 'the run ended'));
              return;
            }
            decide(run, workerId, update, sparse, ack);
          } catch (error) {
            ack(internalError('update', error, options.log));
          }
        });
        return;
      }
      decide(run, workerId, update, sparse, ack);
    });

    /** Offers a validated, decoded update to its run and answers with the verdict. */
    function decide(
      run: LiveRun,
      workerId: string,
      update: UpdatePush,
      sparse: SparseVector,
      ack: (reply: unknown) => void,
    ): void {
      // The coordinator's own record, not the worker's claims: a base newer than the weights
      // it was sent would escape staleness damping; a claimed compute time would set the
      // round deadlines of everyone.
      const record = sent.get(sentKey(run, workerId));
      // A base beyond the current version stays as claimed: the schedule refuses it as
      // future-version, which tells a worker of the previous history to pull dense.
      const baseVersion =
        update.baseVersion > run.engine.version
          ? update.baseVersion
          : Math.min(update.baseVersion, record?.version ?? 0);
      const observedMs = Math.max(0, now() - (record?.at ?? connection.joinedAt));
      const verdict = manager.submit(
        run,
        {
          workerId,
          seq: update.seq,
          baseVersion,
          computeMs: observedMs,
          samples: update.samples,
          trainLoss: update.trainLoss,
          payloadBytes: update.payload.byteLength,
        },
        sparse,
      );
      if (verdict.status === 'rejected') {
        ack(reject(update.seq, verdict.reason, `update ${update.seq} rejected: ${verdict.reason}`));
        return;
      }
      const reply: UpdateAck = {
        type: 'ack',
        seq: update.seq,
        status: verdict.status,
        version: verdict.version,
        staleness: verdict.status === 'applied' ? verdict.staleness : 0,
      };
      if (verdict.status === 'applied') {
        // The patch starts where the worker says it is (the replica record checks that).
        const weights = replies.reply(run, workerId, update.baseVersion, replies.epoch);
        manager.countBytesOut(run, weights.payload.byteLength);
        budget.spend(weights.payload.byteLength);
        recordSent(run, workerId, weights.version);
        reply.weights = weights;
      } else {
        void socket.join(waitingRoom(run.id));
      }
      ack(reply);
    }

    socket.on('disconnect', () => {
      connections.delete(socket);
      admission.release(connection.address);
      leaveRun(connection, socket, manager);
    });
  });
  // engine.io's close emits no event to hang this on: the coordinator calls it when it closes.
  const stopSweep = (): void => {
    clearInterval(sweep);
    clearInterval(identitySweep);
  };

  function leaveRun(connection: Connection, socket: WorkerSocket, manager: RunManager): void {
    const run = connection.run;
    if (run && connection.workerId !== undefined) {
      manager.leave(run, connection.workerId);
      revokeForgotten(run);
      void socket.leave(runRoom(run.id));
      void socket.leave(waitingRoom(run.id));
    }
    connection.run = undefined;
  }

  return { namespace, stopSweep, replies, admission };
}

/** Drops every connection's membership in a run that ended (they will say hello again). */
export function endRunForWorkers(namespace: WorkerNamespace, runId: string): void {
  namespace.in(runRoom(runId)).socketsLeave(runRoom(runId));
  namespace.in(waitingRoom(runId)).socketsLeave(waitingRoom(runId));
}

/** Tells the workers waiting on a buffered update that the model moved; each wait is answered once. */
export function notifyWaitingWorkers(
  namespace: WorkerNamespace,
  runId: string,
  version: number,
): void {
  namespace.to(waitingRoom(runId)).emit('version', { type: 'version', runId, version });
  namespace.in(waitingRoom(runId)).socketsLeave(waitingRoom(runId));
}
