import { assignmentDatasetInfo, buildModel, decodeShard } from '@vtrain/ml';
import {
  decodeSparseUpdate,
  encodeSparseUpdate,
  type Assignment,
  type RejectReason,
  type UpdatePush,
  type Weights,
} from '@vtrain/protocol';
import { TrainingEngine, applyWeightsMessage, weightsEpoch } from '@vtrain/worker';
import { mulberry32 } from '@vtrain/optimizer';
import { HELLO, connectRawWorker, type RawSocket } from './raw-worker.js';

/*
 * A worker in the test process: the real training engine of @vtrain/worker
 * (tfjs gradients, top-k with error feedback) on a raw socket, one update at a
 * time. Unlike the CLI it can be told to attack: the hostile-volunteer tests
 * need workers that compute the honest update and then send something else.
 */

/** What a hostile worker sends instead of its honest update. */
export type Attack =
  | { readonly kind: 'none' }
  /** -scale times the honest update, on the same coordinates. */
  | { readonly kind: 'sign-flip'; readonly scale: number }
  /** Gaussian noise of this L2 norm on the honest update's coordinates. */
  | { readonly kind: 'noise'; readonly norm: number };

export interface SimWorker {
  readonly workerId: string;
  /** Present it to resume this identity (its seq and share) on a later connection. */
  readonly identity: { readonly workerId: string; readonly secret: string };
  /** The seq its next update would have had: where a resumed identity goes on. */
  readonly nextSeq: number;
  /** The latest update the coordinator accepted, to replay it. */
  readonly lastAccepted: UpdatePush | undefined;
  /** Settles when the worker stopped by itself (run ended, `maxAccepted`, failure). */
  readonly done: Promise<void>;
  /** Updates the coordinator applied or buffered. */
  readonly accepted: number;
  /** Of those, the buffered ones. */
  readonly buffered: number;
  /** Whether the worker still trains. */
  readonly running: boolean;
  /** Why the worker stopped on its own, if it failed. */
  readonly failure: unknown;
  /** Refusals it went on after (see `keepGoingOn`), by reason. */
  readonly refusals: Readonly<Record<string, number>>;
  /** With `reconnect`: the first weights message after each reconnection (the copy it held was replaced by it). */
  readonly afterReconnect: readonly ReconnectedWeights[];
  stop(): Promise<void>;
}

/** The first weights a reconnected worker applied: how they came and from which history. */
export interface ReconnectedWeights {
  /** The version and epoch of the copy it held when the connection broke. */
  readonly heldVersion: number | undefined;
  readonly heldEpoch: string | undefined;
  /** The restart epoch the new connection's welcome announced. */
  readonly welcomeEpoch: string;
  readonly version: number;
  readonly epoch: string;
  readonly encoding: string;
}

function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

function attackPayload(payload: Uint8Array, attack: Attack, random: () => number): Uint8Array {
  if (attack.kind === 'none') return payload;
  const honest = decodeSparseUpdate(payload, {
    maxLength: Number.MAX_SAFE_INTEGER,
    maxCount: Number.MAX_SAFE_INTEGER,
  });
  const values = new Float32Array(honest.values.length);
  if (attack.kind === 'sign-flip') {
    honest.values.forEach((v, i) => {
      values[i] = -attack.scale * v;
    });
  } else {
    const draws = Array.from(values, () => gaussian(random));
    const scale = attack.norm / Math.hypot(...draws);
    draws.forEach((v, i) => {
      values[i] = v * scale;
    });
  }
  return encodeSparseUpdate(
    { length: honest.length, indices: honest.indices, values },
    { valueFormat: 'f32' },
  );
}

/**
 * Joins the open run and trains until stopped or the run ends: pull, compute,
 * push; a buffered update waits for the next version.
 */
export async function startSimWorker(
  url: string,
  options: {
    seed: number;
    attack?: Attack;
    /** Leave after this many accepted updates. */
    maxAccepted?: number;
    resume?: { workerId: string; secret: string };
    /** First seq to use (a resumed identity must go on above its last one). */
    firstSeq?: number;
    /** Joins at once but trains only once this settles (so a test can start all its workers together). */
    start?: Promise<void>;
    /**
     * Refusals to count and go on after (pull, then compute again) instead of failing; a run
     * under attack may refuse an honest update, and a test wants to know how often.
     */
    keepGoingOn?: readonly RejectReason[];
    /**
     * When the connection breaks (the coordinator restarted or crashed), connect again
     * under the same identity within this many ms, keeping the engine and the copy of the
     * weights it holds, as the real session does; without it the worker stops.
     */
    reconnectWithinMs?: number;
  },
): Promise<SimWorker> {
  const attack = options.attack ?? { kind: 'none' };
  const random = mulberry32(options.seed);
  let socket: RawSocket = await connectRawWorker(url);
  const welcome = await socket.emitWithAck('hello', {
    ...HELLO,
    ...(options.resume ? { resume: options.resume } : {}),
  });
  if (welcome.type !== 'welcome' || !welcome.assignment) throw new Error('no run to join');
  const identity = { workerId: welcome.workerId, secret: welcome.secret };
  const refusals: Record<string, number> = {};
  const afterReconnect: ReconnectedWeights[] = [];
  const keepGoingOn = new Set<string>(options.keepGoingOn ?? []);
  // The reply type is the schema's input side; the coordinator sends every default filled in.
  const assignment = welcome.assignment as Assignment;
  const info = assignmentDatasetInfo(assignment.dataset);
  const shard = new Uint8Array(
    await (await fetch(new URL(assignment.dataset.shardUrl, url))).arrayBuffer(),
  );
  const model = await buildModel(assignment.model, info, 0);
  const engine = new TrainingEngine({
    assignment,
    dataset: decodeShard(shard, info),
    model,
    random,
  });

  let stopped = false;
  let accepted = 0;
  let failure: unknown;
  let lastAccepted: UpdatePush | undefined;
  let buffered = 0;
  let seq = options.firstSeq ?? 0;
  let latestVersion = 0;
  let versionWaiter: (() => void) | undefined;
  let disconnected = false;
  let stoppedByCaller = false;
  const listen = (on: RawSocket): void => {
    on.on('version', (notice) => {
      latestVersion = Math.max(latestVersion, notice.version);
      versionWaiter?.();
    });
    on.on('run-ended', () => {
      stopped = true;
      versionWaiter?.();
    });
    on.on('disconnect', () => {
      disconnected = true;
      if (options.reconnectWithinMs === undefined || stoppedByCaller) stopped = true;
      versionWaiter?.();
    });
  };
  listen(socket);
  // A broken connection: connect and say hello again under the same identity, keeping the engine.
  let reconnected: Omit<ReconnectedWeights, 'version' | 'epoch' | 'encoding'> | undefined;
  const reconnect = async (): Promise<void> => {
    const deadline = Date.now() + (options.reconnectWithinMs ?? 0);
    socket.disconnect();
    for (;;) {
      try {
        const next = await connectRawWorker(url);
        const reply = await next.emitWithAck('hello', { ...HELLO, resume: identity });
        if (reply.type !== 'welcome') {
          next.disconnect();
          throw new Error(`hello refused: ${reply.message}`);
        }
        socket = next;
        disconnected = false;
        listen(next);
        reconnected = {
          heldVersion: engine.version,
          heldEpoch: weightsEpoch(engine),
          welcomeEpoch: reply.epoch,
        };
        return;
      } catch (error) {
        if (Date.now() > deadline || stoppedByCaller) throw error;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  };
  const adopt = (weights: Weights): void => {
    applyWeightsMessage(engine, weights);
    if (reconnected) {
      afterReconnect.push({
        ...reconnected,
        version: weights.version,
        epoch: weights.epoch,
        encoding: weights.encoding,
      });
      reconnected = undefined;
    }
  };
  // Set by socket events and stop(): read through a call, not narrowed away by the compiler.
  const isStopped = (): boolean => stopped;
  const isDisconnected = (): boolean => disconnected;
  const isStoppedByCaller = (): boolean => stoppedByCaller;
  const waitForVersion = (after: number): Promise<void> =>
    new Promise((resolve) => {
      if (stopped || latestVersion > after) {
        resolve();
        return;
      }
      versionWaiter = () => {
        if (stopped || latestVersion > after) {
          versionWaiter = undefined;
          resolve();
        }
      };
    });

  const pull = async (): Promise<void> => {
    const weights = await socket.emitWithAck('pull', {
      type: 'pull',
      runId: assignment.runId,
      ...(engine.version === undefined ? {} : { haveVersion: engine.version }),
      ...(weightsEpoch(engine) === undefined ? {} : { haveEpoch: weightsEpoch(engine) }),
    });
    if (weights.type === 'error' && weights.code === 'rate-limited' && !stopped) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await pull();
      return;
    }
    if (weights.type !== 'weights') throw new Error(`pull refused: ${weights.message}`);
    // socket.io hands binary attachments over as Buffers; the engine wants Uint8Array views.
    adopt({ ...weights, payload: new Uint8Array(weights.payload) });
  };

  const step = async (): Promise<void> => {
    const update = await engine.computeUpdate(1);
    const push: UpdatePush = {
      type: 'update',
      runId: assignment.runId,
      seq: seq++,
      baseVersion: update.baseVersion,
      steps: update.steps,
      samples: update.samples,
      trainLoss: update.trainLoss,
      computeMs: update.computeMs,
      payload: attackPayload(update.payload, attack, random),
    };
    const ack = await socket.emitWithAck('update', push);
    if (ack.type === 'ack') {
      accepted += 1;
      if (ack.status === 'buffered') buffered += 1;
      lastAccepted = push;
      if (ack.status === 'applied' && ack.weights) {
        adopt({ ...ack.weights, payload: new Uint8Array(ack.weights.payload) });
        return;
      }
      if (ack.status === 'buffered') await waitForVersion(update.baseVersion);
    } else if (ack.reason === 'rate-limited' || ack.reason === 'storage-unavailable') {
      // Too fast for the coordinator's limits, or its disk is full: back off as the real worker does.
      refusals[ack.reason] = (refusals[ack.reason] ?? 0) + 1;
      await new Promise((resolve) => setTimeout(resolve, 1000));
      return;
    } else if (keepGoingOn.has(ack.reason)) {
      refusals[ack.reason] = (refusals[ack.reason] ?? 0) + 1;
    } else if (ack.reason === 'late') {
      // The round closed without it: its next version is announced to this worker.
      await waitForVersion(update.baseVersion);
    } else if (ack.reason !== 'stale') {
      throw new Error(`update refused: ${ack.reason} ${ack.message}`);
    }
    // Stale: the model has already moved past the base, and version notices go only to
    // workers waiting on a buffered ack, so waiting for one could be forever: pull now.
    if (!isStopped()) await pull();
  };

  const loop = (async () => {
    await options.start;
    await pull();
    while (!isStopped() && accepted < (options.maxAccepted ?? Number.POSITIVE_INFINITY)) {
      try {
        await step();
      } catch (error) {
        // emitWithAck rejects when the connection breaks: with reconnectWithinMs, join again
        // (the update in flight is lost, as with a real crash) and pull from the copy held.
        if (!isDisconnected() || options.reconnectWithinMs === undefined || isStoppedByCaller()) {
          throw error;
        }
        await reconnect();
        await pull();
      }
    }
  })()
    .catch((error: unknown) => {
      // A diverged model (non-finite loss) ends this worker; leaving lets its round close.
      if (!stopped) failure = error;
    })
    .finally(() => {
      stopped = true;
      socket.disconnect();
    });

  return {
    workerId: welcome.workerId,
    identity,
    refusals,
    afterReconnect,
    get buffered() {
      return buffered;
    },
    get nextSeq() {
      return seq;
    },
    get lastAccepted() {
      return lastAccepted;
    },
    done: loop,
    get accepted() {
      return accepted;
    },
    get running() {
      return !stopped;
    },
    get failure() {
      return failure;
    },
    async stop() {
      stopped = true;
      stoppedByCaller = true;
      versionWaiter?.();
      await loop;
      socket.disconnect();
      engine.dispose();
    },
  };
}
