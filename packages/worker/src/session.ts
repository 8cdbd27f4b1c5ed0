import {
  buildInitialModel,
  DATASET_INFO,
  decodeShard,
  weightsHash,
  type Dataset,
} from '@vtrain/ml';
import {
  ErrorReplySchema,
  MAX_PARAMETER_COUNT,
  PhaseNoticeSchema,
  PROTOCOL_VERSION,
  RunEndedSchema,
  safeParseMessage,
  UpdateAckSchema,
  UpdateRejectSchema,
  VersionNoticeSchema,
  WeightsSchema,
  WelcomeSchema,
  WORKER_NAMESPACE,
  type Assignment,
  type Hello,
  type ModelSpec,
  type ParseResult,
  type PhaseNotice,
  type RejectReason,
  type UpdateAck,
  type UpdateReject,
  type Weights,
  type Welcome,
  type WorkerClientToServerEvents,
  type WorkerServerToClientEvents,
} from '@vtrain/protocol';
import { io, type Socket } from 'socket.io-client';
import type * as tf from '@tensorflow/tfjs';
import { TrainingEngine } from './engine.js';
import { estimatedMessageBytes } from './envelope.js';
import { SessionError } from './session-error.js';
import { initialStatus, type BackendChoice, type WorkerStatus } from './status.js';
import {
  assertDutyCycle,
  backoffDelayMs,
  dutyCycleIdleMs,
  ewma,
  jittered,
  type BackoffPolicy,
} from './timing.js';
import { Wakeup } from './wakeup.js';
import { applyWeightsMessage } from './weights-message.js';

/** The socket.io client socket of the worker namespace, typed by the protocol's event maps. */
export type WorkerSocket = Socket<WorkerServerToClientEvents, WorkerClientToServerEvents>;

/** An update as it is emitted (the schema's input side: the payload is a plain ArrayBuffer's view). */
type OutgoingUpdate = Parameters<WorkerClientToServerEvents['update']>[0];

/** Severity of a session log line. */
export type SessionLogLevel = 'info' | 'warn' | 'error';

/** Delays and timeouts of the protocol loop; the defaults are the coordinator contract's. */
export interface SessionTiming {
  /** Wait for an update's ack before resending it after a re-hello (60 s). */
  readonly ackTimeoutMs: number;
  /** Wait for the answer to a hello or a pull (30 s). */
  readonly requestTimeoutMs: number;
  /** Hello again after this long (jittered) while no run is open (5 s). */
  readonly helloRetryMs: number;
  /** After a `buffered` ack, pull anyway when no version notice came for this long (2 min). */
  readonly barrierTimeoutMs: number;
  /** Retries after an error or a `rate-limited` answer (1 s doubling to 30 s, jittered). */
  readonly retryBackoff: BackoffPolicy;
  /** socket.io reconnection delays (0.5 s doubling to 10 s, randomization 0.5). */
  readonly reconnect: BackoffPolicy;
}

/** The contract's timing: see each field of {@link SessionTiming}. */
export const DEFAULT_SESSION_TIMING: SessionTiming = {
  ackTimeoutMs: 60_000,
  requestTimeoutMs: 30_000,
  helloRetryMs: 5_000,
  barrierTimeoutMs: 120_000,
  retryBackoff: { initialMs: 1_000, maxMs: 30_000 },
  reconnect: { initialMs: 500, maxMs: 10_000 },
};

/** What a {@link WorkerSession} needs from its host (browser Web Worker or Node CLI). */
export interface WorkerSessionOptions {
  /** The coordinator's base URL, e.g. `http://localhost:3000`; the worker namespace is resolved against it. */
  readonly url: string;
  /** Who is training, for the coordinator's worker table. */
  readonly client: Hello['client'];
  /** The tfjs backend in use (the host picked and initialised it). */
  readonly backend: BackendChoice;
  /** GET a URL as bytes (the browser host caches shards; Node uses fetch). */
  readonly fetchBytes: (url: string) => Promise<Uint8Array>;
  /** Called with a fresh snapshot on every status change. */
  readonly onStatus?: (status: WorkerStatus) => void;
  /** Uniform source in [0, 1) for jitter, batch order and top-k sampling; default Math.random. */
  readonly random?: () => number;
  /** Where the session's log lines go; default: nowhere. */
  readonly log?: (level: SessionLogLevel, message: string) => void;
  /**
   * Called before the model of a new assignment is built, to switch to a backend that
   * can train it (Node: wasm lacks the conv gradient kernels); its answer is reported
   * in the next hello.
   */
  readonly prepareBackend?: (assignment: Assignment) => Promise<BackendChoice>;
  /** Hardware facts for the hello. */
  readonly capabilities?: Hello['capabilities'];
  /** Result of a speed probe for the hello. */
  readonly speedProbe?: Hello['speedProbe'];
  /** Initial duty cycle in (0, 1]; default 1 (see {@link WorkerSession.setDutyCycle}). */
  readonly dutyCycle?: number;
  /** Overrides of {@link DEFAULT_SESSION_TIMING} (tests shorten them). */
  readonly timing?: Partial<SessionTiming>;
}

/** Control flow of the loop, never shown to a user: why the current step was abandoned. */
type InterruptionCode = 'stopped' | 'disconnected' | 'ack-timeout' | 'run-ended' | 'rehello';

class Interruption extends Error {
  override readonly name = 'Interruption';
  constructor(
    readonly code: InterruptionCode,
    message: string,
  ) {
    super(message);
  }
}

interface LoadedRun {
  /** runId and shard: a new shard for the same run means a new engine. */
  readonly key: string;
  readonly assignment: Assignment;
  readonly engine: TrainingEngine;
}

interface PendingUpdate {
  readonly push: OutgoingUpdate;
  readonly computeMs: number;
  /** Times it was emitted: 1 after the first send, 2 after the one resend allowed. */
  attempts: number;
}

/** Weight of a new throughput sample in the samples/s EWMA. */
const THROUGHPUT_ALPHA = 0.2;
/** Largest hello fields (the schema's bounds), so a long user agent cannot make a hello invalid. */
const MAX_DESCRIPTION = 200;
const MAX_BACKEND_REASON = 300;

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The reason behind a socket.io connect error: engine.io reports "websocket error"
 * and keeps the transport's own error (ECONNREFUSED, a DNS failure) in `description`.
 */
function describeConnectError(error: Error): string {
  const description = (error as Error & { description?: unknown }).description;
  const cause =
    typeof description === 'object' && description !== null && 'message' in description
      ? String(description.message)
      : undefined;
  return cause === undefined || cause === '' ? error.message : `${error.message}: ${cause}`;
}

function describeModel(spec: ModelSpec): string {
  switch (spec.kind) {
    case 'mlp':
      return `mlp [${spec.hiddenUnits.join(', ')}]`;
    case 'cnn':
      return `cnn [${spec.filters.join(', ')}]`;
    case 'custom':
      return 'custom topology';
  }
}

function resolveNamespaceUrl(url: string): URL {
  let base: URL;
  try {
    base = new URL(url);
  } catch (error) {
    throw new SessionError('invalid-url', JSON.stringify(url), { cause: error });
  }
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(base.protocol)) {
    throw new SessionError('invalid-url', `${url} (protocol ${base.protocol})`);
  }
  return new URL(WORKER_NAMESPACE, base);
}

/**
 * The worker's protocol loop over socket.io (DESIGN.md §3 steps 3-5, §5), the
 * same in a browser Web Worker and in the Node CLI: it imports no Node module.
 *
 * 1. connect to the worker namespace (websocket, socket.io's jittered reconnection);
 * 2. on every (re)connect, `hello` (with `resume` once it has an identity, so the
 *    coordinator keeps this worker's id and last seq); no run -> hello again every ~5 s;
 * 3. with an assignment: fetch and decode the shard, build the model, check P;
 * 4. `pull` the weights (dense, or a patch from the version it holds);
 * 5. loop: compute an update, push it with a strictly increasing seq, and follow the
 *    answer: `applied` -> adopt `ack.weights`; `buffered` -> wait for a version notice
 *    (the synchronous barrier), then pull; `stale`/`late`/`future-version`/`duplicate`
 *    -> pull; `rate-limited` -> back off; `run-not-active` -> hello again; a payload
 *    rejection -> count and log it (a bug here), pull. An ack timeout or a disconnect
 *    -> after reconnect and hello, resend the same seq and payload once.
 * 6. `phase` notices set the local steps of the next update; `run-ended` -> hello again.
 *
 * Every message from the coordinator is validated with its schema on arrival.
 */
export class WorkerSession {
  private readonly options: WorkerSessionOptions;
  private readonly namespaceUrl: URL;
  private readonly random: () => number;
  private readonly timing: SessionTiming;
  private readonly wakeup = new Wakeup();
  private socket: WorkerSocket | undefined;
  private loop: Promise<void> | undefined;
  private stopped = false;
  private paused = false;
  private dutyCycle: number;
  private backend: BackendChoice;
  private identity: { workerId: string; secret: string } | undefined;
  private nextSeq = 0;
  private run: LoadedRun | undefined;
  private pending: PendingUpdate | undefined;
  private localSteps = 1;
  private endedRunId: string | undefined;
  private noticedVersion: { runId: string; version: number } | undefined;
  private phaseSinceHello: PhaseNotice | undefined;
  private failures = 0;
  private rateLimitStreak = 0;
  private connectFailures = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private lastComputeEnd: number | undefined;
  private throughput: number | undefined;
  private current: WorkerStatus;

  /**
   * @param options - see {@link WorkerSessionOptions}.
   * @throws {@link SessionError} `invalid-url` for a URL that is not absolute http(s)/ws(s);
   *   DutyCycleError for a duty cycle outside (0, 1].
   */
  constructor(options: WorkerSessionOptions) {
    this.options = options;
    this.namespaceUrl = resolveNamespaceUrl(options.url);
    this.random = options.random ?? Math.random;
    this.timing = { ...DEFAULT_SESSION_TIMING, ...options.timing };
    this.dutyCycle = options.dutyCycle ?? 1;
    assertDutyCycle(this.dutyCycle);
    this.backend = options.backend;
    this.current = initialStatus(options.backend);
  }

  /** A snapshot of where the session is (see {@link WorkerStatus}). */
  get status(): WorkerStatus {
    return this.current;
  }

  /** Settles when the loop has ended: after {@link WorkerSession.stop}, or by itself on a fatal error. */
  get finished(): Promise<void> {
    return this.loop ?? Promise.resolve();
  }

  /**
   * Connects and starts the loop in the background; progress is reported through
   * `onStatus` and {@link WorkerSession.status}.
   *
   * @throws {@link SessionError} `already-started` on a second call.
   */
  start(): void {
    if (this.loop !== undefined) throw new SessionError('already-started', 'create a new session');
    const socket: WorkerSocket = io(this.namespaceUrl.href, {
      transports: ['websocket'],
      reconnection: true,
      reconnectionDelay: this.timing.reconnect.initialMs,
      reconnectionDelayMax: this.timing.reconnect.maxMs,
      randomizationFactor: 0.5,
      // A session owns its connection: socket.io's manager cache would otherwise share it
      // between sessions (and tests) that name the same URL.
      forceNew: true,
      autoConnect: false,
    });
    this.socket = socket;
    this.listen(socket);
    this.setStatus({ state: 'connecting', message: `connecting to ${this.namespaceUrl.origin}` });
    socket.connect();
    this.loop = this.runLoop();
  }

  /**
   * Stops training and closes the socket cleanly (the coordinator sees a normal
   * disconnect), waiting for an update being computed to finish; disposes the model.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer);
    this.wakeup.notify();
    this.socket?.disconnect();
    await this.loop;
    if (this.current.state !== 'error') this.setStatus({ state: 'stopped', message: undefined });
  }

  /**
   * Stops computing once the update in progress has been answered (the connection and
   * the assignment are kept); the state turns 'paused' at that moment, so 'paused'
   * always means that nothing is being computed.
   */
  pause(): void {
    this.paused = true;
    this.wakeup.notify();
  }

  /** Computes again after {@link WorkerSession.pause}. */
  resume(): void {
    this.paused = false;
    this.wakeup.notify();
  }

  /**
   * Sets the fraction d of wall time spent computing: after each update the worker
   * idles computeMs * (1 - d) / d (`dutyCycleIdleMs`), e.g. as long as it computed for d = 0.5.
   *
   * @param fraction - d in (0, 1].
   * @throws DutyCycleError for d outside (0, 1].
   */
  setDutyCycle(fraction: number): void {
    assertDutyCycle(fraction);
    this.dutyCycle = fraction;
    this.wakeup.notify();
  }

  // ---------------------------------------------------------------- the loop

  private async runLoop(): Promise<void> {
    try {
      while (!this.stopped) {
        try {
          await this.waitUntilConnected();
          if (this.isStopped()) break;
          const welcome = await this.hello();
          if (welcome.assignment === undefined) {
            await this.waitForRun();
            continue;
          }
          const run = await this.load(welcome.assignment);
          await this.train(run);
        } catch (error) {
          if (this.isStopped()) break;
          if (error instanceof SessionError && error.code === 'protocol-version') {
            this.log('error', error.message);
            this.setStatus({ state: 'error', message: error.message });
            break;
          }
          await this.recover(error);
        }
      }
    } finally {
      this.stopped = true;
      if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer);
      this.socket?.disconnect();
      this.unload();
    }
  }

  /**
   * After a failed step: a lost connection waits for socket.io's reconnection; the first
   * re-hello after an interruption is immediate; anything else backs off exponentially.
   */
  private async recover(error: unknown): Promise<void> {
    this.lastComputeEnd = undefined;
    if (error instanceof Interruption) {
      if (error.code === 'disconnected' || error.code === 'stopped') return;
      this.log('info', `${error.message}; saying hello again`);
      this.failures++;
      if (this.failures === 1) return;
    } else {
      this.failures++;
    }
    const delay = backoffDelayMs(this.failures - 1, this.timing.retryBackoff, this.random);
    if (!(error instanceof Interruption)) {
      const message = `${describeError(error)}; retrying in ${(delay / 1000).toFixed(1)} s`;
      this.log('warn', message);
      this.setStatus({ message });
    }
    await this.wakeup.until(() => this.stopped, delay);
  }

  private async waitUntilConnected(): Promise<void> {
    if (this.isConnected()) return;
    this.setStatus({ state: 'connecting' });
    await this.wakeup.until(() => this.stopped || this.isConnected(), Infinity);
  }

  private async waitForRun(): Promise<void> {
    this.unload();
    this.setStatus({
      state: 'waiting-for-run',
      runId: undefined,
      runName: undefined,
      model: undefined,
      parameterCount: undefined,
      phase: undefined,
      k: undefined,
      n: undefined,
      message: 'connected; the coordinator has no run open',
    });
    this.failures = 0;
    const delay = jittered(this.timing.helloRetryMs, this.random);
    await this.wakeup.until(() => this.stopped || !this.isConnected(), delay);
  }

  private async hello(): Promise<Welcome> {
    const hello: Hello = {
      type: 'hello',
      protocolVersion: PROTOCOL_VERSION,
      client: {
        kind: this.options.client.kind,
        description: this.options.client.description.slice(0, MAX_DESCRIPTION),
      },
      backend: this.backend.name,
      ...(this.backend.reason === undefined
        ? {}
        : { backendReason: this.backend.reason.slice(0, MAX_BACKEND_REASON) }),
      capabilities: this.options.capabilities ?? {},
      ...(this.options.speedProbe === undefined ? {} : { speedProbe: this.options.speedProbe }),
      ...(this.identity === undefined ? {} : { resume: this.identity }),
    };
    this.phaseSinceHello = undefined;
    this.countUp('hello', hello);
    const raw = await this.request((socket) =>
      socket.timeout(this.timing.requestTimeoutMs).emitWithAck('hello', hello),
    );
    this.countDown('hello', raw);
    const reply = this.unwrap(
      safeParseMessage(WelcomeSchema.or(ErrorReplySchema), raw, 'hello reply'),
    );
    if (reply.type === 'error') {
      if (reply.code === 'protocol-version') {
        throw new SessionError('protocol-version', reply.message);
      }
      throw new SessionError('hello-refused', `${reply.code}: ${reply.message}`);
    }
    if (reply.protocolVersion !== PROTOCOL_VERSION) {
      throw new SessionError(
        'protocol-version',
        `the coordinator welcomed with version ${reply.protocolVersion}, this worker speaks ${PROTOCOL_VERSION}`,
      );
    }
    if (this.identity !== undefined && this.identity.workerId !== reply.workerId) {
      this.log(
        'info',
        `the coordinator did not resume ${this.identity.workerId}; now ${reply.workerId}`,
      );
      // Under a new identity the coordinator cannot tell a resend from a new update,
      // so an update it may already have applied must not be sent again.
      this.pending = undefined;
    }
    this.identity = { workerId: reply.workerId, secret: reply.secret };
    this.endedRunId = undefined;
    this.setStatus({ workerId: reply.workerId, message: undefined });
    return reply;
  }

  private async load(assignment: Assignment): Promise<LoadedRun> {
    const key = `${assignment.runId}\n${assignment.dataset.shardUrl}`;
    if (this.run?.key === key) return this.run;
    this.unload();
    this.pending = undefined;
    this.setStatus({
      state: 'loading',
      runId: assignment.runId,
      runName: assignment.runName,
      model: describeModel(assignment.model),
      parameterCount: assignment.parameterCount,
      version: 0,
      phase: undefined,
      k: undefined,
      n: undefined,
      localSteps: assignment.localSteps,
      message: `loading run "${assignment.runName}"`,
    });
    if (this.options.prepareBackend !== undefined) {
      this.backend = await this.options.prepareBackend(assignment);
      this.setStatus({ backend: this.backend });
    }
    const info = DATASET_INFO[assignment.dataset.name];
    const shardUrl = new URL(assignment.dataset.shardUrl, this.options.url).href;
    let dataset: Dataset;
    try {
      dataset = decodeShard(await this.options.fetchBytes(shardUrl), info);
    } catch (error) {
      throw new SessionError('load-failed', `shard ${shardUrl}: ${describeError(error)}`, {
        cause: error,
      });
    }
    let model: tf.LayersModel;
    let initialWeights: Float32Array;
    try {
      // Version 0 from the run's seed, as the coordinator built it: no dense download on join.
      ({ model, weights: initialWeights } = await buildInitialModel(
        assignment.model,
        info,
        assignment.initialWeights.seed,
        { maxParameters: Math.min(assignment.parameterCount, MAX_PARAMETER_COUNT) },
      ));
    } catch (error) {
      throw new SessionError('load-failed', `model: ${describeError(error)}`, { cause: error });
    }
    let engine: TrainingEngine;
    try {
      engine = new TrainingEngine({ assignment, dataset, model, random: this.random });
    } catch (error) {
      model.dispose();
      throw new SessionError('load-failed', describeError(error), { cause: error });
    }
    if (weightsHash(initialWeights) === assignment.initialWeights.sha256) {
      engine.setWeights(initialWeights, 0); // the first pull asks for a patch from version 0
    } else {
      this.log('warn', "version-0 weights differ from the coordinator's; pulling them dense");
    }
    this.run = { key, assignment, engine };
    this.localSteps = assignment.localSteps;
    // A phase notice sent right after the welcome is newer than the assignment.
    if (this.phaseSinceHello?.runId === assignment.runId) this.adoptPhase(this.phaseSinceHello);
    this.log(
      'info',
      `loaded run "${assignment.runName}": ${describeModel(assignment.model)}, P = ${engine.parameterCount}, k = ${engine.k}`,
    );
    return this.run;
  }

  private unload(): void {
    if (this.run === undefined) return;
    this.run.engine.dispose();
    this.run = undefined;
  }

  private async train(run: LoadedRun): Promise<void> {
    const runId = run.assignment.runId;
    const { engine } = run;
    if (this.pending !== undefined && this.pending.push.runId !== runId) this.pending = undefined;
    this.lastComputeEnd = undefined;
    // A pending update is resent first: the engine still holds its base version.
    if (this.pending === undefined) await this.pull(run, engine.version);
    for (;;) {
      this.throwIfInterrupted(runId);
      if (this.paused) {
        this.setStatus({ state: 'paused', message: undefined });
        this.lastComputeEnd = undefined;
        await this.wakeup.until(
          () => !this.paused || this.stopped || this.endedRunId === runId || !this.isConnected(),
          Infinity,
        );
        continue;
      }
      if (this.current.state !== 'training')
        this.setStatus({ state: 'training', message: undefined });
      const pending = this.pending ?? (await this.computePush(run));
      this.throwIfInterrupted(runId);
      const reply = await this.send(pending);
      await this.follow(run, pending.push, reply);
      this.failures = 0;
      const idle = dutyCycleIdleMs(pending.computeMs, this.dutyCycle);
      if (idle > 0) {
        await this.wakeup.until(
          () => this.stopped || this.paused || this.endedRunId === runId,
          idle,
        );
      }
    }
  }

  private async computePush(run: LoadedRun): Promise<PendingUpdate> {
    const update = await run.engine.computeUpdate(this.localSteps);
    const now = performance.now();
    const seconds =
      (this.lastComputeEnd === undefined ? update.computeMs : now - this.lastComputeEnd) / 1000;
    this.lastComputeEnd = now;
    if (seconds > 0) {
      this.throughput = ewma(this.throughput, update.samples / seconds, THROUGHPUT_ALPHA);
    }
    this.setStatus({
      steps: this.current.steps + update.steps,
      samples: this.current.samples + update.samples,
      samplesPerSecond: this.throughput ?? 0,
    });
    const push: OutgoingUpdate = {
      type: 'update',
      runId: run.assignment.runId,
      seq: this.nextSeq++,
      baseVersion: update.baseVersion,
      steps: update.steps,
      samples: update.samples,
      trainLoss: update.trainLoss,
      computeMs: update.computeMs,
      payload: update.payload,
    };
    const pending = { push, computeMs: update.computeMs, attempts: 0 };
    this.pending = pending;
    return pending;
  }

  /** Emits the update (a resend keeps seq and payload); drops it after the one resend allowed. */
  private async send(pending: PendingUpdate): Promise<UpdateAck | UpdateReject> {
    pending.attempts++;
    if (pending.attempts === 1) this.setStatus({ updatesSent: this.current.updatesSent + 1 });
    else this.log('info', `resending update seq ${pending.push.seq}`);
    this.countUp('update', pending.push);
    let raw: unknown;
    try {
      raw = await this.request((socket) =>
        socket.timeout(this.timing.ackTimeoutMs).emitWithAck('update', pending.push),
      );
    } catch (error) {
      if (pending.attempts >= 2 && this.pending === pending) {
        this.log('warn', `update seq ${pending.push.seq} got no answer twice; dropping it`);
        this.pending = undefined;
      }
      throw error;
    }
    this.pending = undefined;
    this.countDown('update', raw);
    return this.unwrap(
      safeParseMessage(UpdateAckSchema.or(UpdateRejectSchema), raw, 'update reply'),
    );
  }

  /** What the coordinator's answer to an update asks for (step 5 of the class comment). */
  private async follow(
    run: LoadedRun,
    push: OutgoingUpdate,
    reply: UpdateAck | UpdateReject,
  ): Promise<void> {
    const { engine } = run;
    const runId = run.assignment.runId;
    if (reply.type === 'ack') {
      this.rateLimitStreak = 0;
      if (reply.seq !== push.seq) {
        this.log('warn', `ack for seq ${reply.seq}, sent ${push.seq}; pulling`);
        await this.pull(run, engine.version);
        return;
      }
      this.setStatus({ lastStaleness: reply.staleness });
      if (reply.status === 'applied') {
        this.setStatus({ updatesApplied: this.current.updatesApplied + 1 });
        if (reply.weights === undefined) await this.pull(run, engine.version);
        else await this.adopt(run, reply.weights);
        return;
      }
      this.setStatus({
        updatesBuffered: this.current.updatesBuffered + 1,
        message: 'update buffered; waiting for the batch to be applied',
      });
      const barrier = Math.max(push.baseVersion, reply.version);
      const arrived = await this.wakeup.until(
        () =>
          (this.noticedVersion?.runId === runId && this.noticedVersion.version > barrier) ||
          this.stopped ||
          this.endedRunId === runId ||
          !this.isConnected(),
        this.timing.barrierTimeoutMs,
      );
      this.throwIfInterrupted(runId);
      if (!arrived) this.log('warn', `no version notice above ${barrier} in time; pulling anyway`);
      this.setStatus({ message: undefined });
      await this.pull(run, engine.version);
      return;
    }
    this.countRejection(reply.reason);
    if (reply.reason !== 'rate-limited') this.rateLimitStreak = 0;
    switch (reply.reason) {
      case 'stale':
      case 'late':
      case 'duplicate':
        await this.pull(run, engine.version);
        return;
      case 'future-version':
        // The coordinator is behind the version we hold (it restarted): take its weights whole.
        await this.pull(run, undefined);
        return;
      case 'rate-limited': {
        const delay = backoffDelayMs(this.rateLimitStreak++, this.timing.retryBackoff, this.random);
        this.setStatus({ message: `rate-limited; waiting ${(delay / 1000).toFixed(1)} s` });
        await this.wakeup.until(() => this.stopped, delay);
        this.throwIfInterrupted(runId);
        this.setStatus({ message: undefined });
        await this.pull(run, engine.version);
        return;
      }
      case 'run-not-active':
      case 'unknown-worker':
        throw new Interruption('rehello', `update rejected: ${reply.reason}`);
      case 'invalid-message':
      case 'invalid-payload':
      case 'non-finite':
      case 'payload-too-large':
        this.log(
          'error',
          `update seq ${push.seq} rejected as ${reply.reason} (a worker bug): ${reply.message}`,
        );
        await this.pull(run, engine.version);
        return;
    }
  }

  /** Adopts the weights an `applied` ack carries; anything that does not fit is replaced by a dense pull. */
  private async adopt(run: LoadedRun, weights: Weights): Promise<void> {
    try {
      this.applyWeights(run, weights);
    } catch (error) {
      this.log(
        'warn',
        `could not apply the ack's weights (${describeError(error)}); pulling dense`,
      );
      await this.pull(run, undefined);
    }
  }

  /**
   * Pulls the weights: a patch from `haveVersion` when the coordinator finds it smaller,
   * else dense. A patch that does not fit is followed by one dense pull.
   */
  private async pull(run: LoadedRun, haveVersion: number | undefined): Promise<void> {
    const runId = run.assignment.runId;
    let have = haveVersion;
    for (let attempt = 0; ; attempt++) {
      this.throwIfInterrupted(runId);
      const request = {
        type: 'pull' as const,
        runId,
        ...(have === undefined ? {} : { haveVersion: have }),
      };
      this.countUp('pull', request);
      const raw = await this.request((socket) =>
        socket.timeout(this.timing.requestTimeoutMs).emitWithAck('pull', request),
      );
      this.countDown('pull', raw);
      const reply = this.unwrap(
        safeParseMessage(WeightsSchema.or(ErrorReplySchema), raw, 'pull reply'),
      );
      if (reply.type === 'error') {
        if (reply.code === 'no-active-run' || reply.code === 'not-found') {
          throw new Interruption('rehello', `pull refused: ${reply.code}`);
        }
        if (reply.code === 'rate-limited') {
          const delay = backoffDelayMs(attempt, this.timing.retryBackoff, this.random);
          await this.wakeup.until(() => this.stopped, delay);
          continue;
        }
        throw new SessionError('pull-refused', `${reply.code}: ${reply.message}`);
      }
      try {
        this.applyWeights(run, reply);
        return;
      } catch (error) {
        if (have === undefined || error instanceof SessionError) throw error;
        this.log(
          'warn',
          `the patch from ${have} did not apply (${describeError(error)}); pulling dense`,
        );
        have = undefined;
      }
    }
  }

  private applyWeights(run: LoadedRun, weights: Weights): void {
    if (weights.runId !== run.assignment.runId) {
      throw new SessionError(
        'invalid-reply',
        `weights of run ${weights.runId}, training ${run.assignment.runId}`,
      );
    }
    applyWeightsMessage(run.engine, weights);
    this.setStatus({ version: run.engine.version ?? 0 });
  }

  /** Read through a call, so that TypeScript does not narrow it across an await. */
  private isStopped(): boolean {
    return this.stopped;
  }

  private isConnected(): boolean {
    return this.socket?.connected === true;
  }

  private throwIfInterrupted(runId: string): void {
    if (this.stopped) throw new Interruption('stopped', 'stopped');
    if (this.endedRunId === runId) throw new Interruption('run-ended', `run ${runId} ended`);
    if (!this.isConnected()) throw new Interruption('disconnected', 'disconnected');
  }

  // ------------------------------------------------------------ the socket

  /** Sends one request; a lost connection or a missing ack becomes an {@link Interruption}. */
  private async request(send: (socket: WorkerSocket) => Promise<unknown>): Promise<unknown> {
    const socket = this.socket;
    if (socket === undefined || !this.isConnected()) {
      throw new Interruption('disconnected', 'not connected');
    }
    try {
      return await send(socket);
    } catch (error) {
      if (this.isStopped()) throw new Interruption('stopped', 'stopped');
      if (!this.isConnected()) throw new Interruption('disconnected', describeError(error));
      throw new Interruption(
        'ack-timeout',
        `no answer from the coordinator (${describeError(error)})`,
      );
    }
  }

  private unwrap<T>(result: ParseResult<T>): T {
    if (!result.ok) {
      throw new SessionError('invalid-reply', result.error.message, { cause: result.error });
    }
    return result.value;
  }

  private listen(socket: WorkerSocket): void {
    socket.on('connect', () => {
      this.connectFailures = 0;
      this.log('info', `connected to ${this.namespaceUrl.href}`);
      this.setStatus({ message: undefined });
      this.wakeup.notify();
    });
    socket.on('disconnect', (reason) => {
      // Packets emitted while offline would go out before the next hello: drop them.
      socket.sendBuffer = [];
      this.wakeup.notify();
      if (this.stopped) return;
      this.log('warn', `disconnected (${reason})`);
      this.setStatus({ state: 'connecting', message: `disconnected (${reason}); reconnecting` });
      // socket.io reconnects by itself except after a disconnect the server asked for.
      if (reason === 'io server disconnect') this.scheduleConnect();
    });
    socket.on('connect_error', (error) => {
      this.connectFailures++;
      const message = `cannot reach the coordinator at ${this.namespaceUrl.origin} (${describeConnectError(error)}); retrying with backoff, attempt ${this.connectFailures}`;
      if (this.connectFailures === 1 || this.connectFailures % 10 === 0) this.log('warn', message);
      this.setStatus({ state: 'connecting', message });
      // Refused by a server middleware: socket.io does not retry that by itself.
      if (!socket.active) this.scheduleConnect();
    });
    socket.on('phase', (raw) => {
      this.countDown('phase', raw);
      const notice = this.valid(safeParseMessage(PhaseNoticeSchema, raw, 'phase notice'));
      if (notice === undefined) return;
      this.phaseSinceHello = notice;
      if (notice.runId === this.run?.assignment.runId) this.adoptPhase(notice);
    });
    socket.on('version', (raw) => {
      this.countDown('version', raw);
      const notice = this.valid(safeParseMessage(VersionNoticeSchema, raw, 'version notice'));
      if (notice === undefined) return;
      const previous =
        this.noticedVersion?.runId === notice.runId ? this.noticedVersion.version : -1;
      this.noticedVersion = { runId: notice.runId, version: Math.max(previous, notice.version) };
      this.wakeup.notify();
    });
    socket.on('run-ended', (raw) => {
      this.countDown('run-ended', raw);
      const notice = this.valid(safeParseMessage(RunEndedSchema, raw, 'run-ended notice'));
      if (notice === undefined) return;
      this.log('info', `run ${notice.runId} ended (${notice.reason})`);
      this.endedRunId = notice.runId;
      this.wakeup.notify();
    });
  }

  /** A notice that fails its schema is logged and ignored: notices only hint, requests decide. */
  private valid<T>(result: ParseResult<T>): T | undefined {
    if (result.ok) return result.value;
    this.log('warn', result.error.message);
    return undefined;
  }

  private adoptPhase(notice: PhaseNotice): void {
    this.localSteps = notice.localSteps;
    this.setStatus({
      phase: notice.phase,
      k: notice.k,
      n: notice.n,
      localSteps: notice.localSteps,
    });
  }

  private scheduleConnect(): void {
    if (this.stopped || this.reconnectTimer !== undefined) return;
    const delay = backoffDelayMs(this.connectFailures, this.timing.reconnect, this.random);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.stopped) this.socket?.connect();
    }, delay);
  }

  // ---------------------------------------------------------- bookkeeping

  private countRejection(reason: RejectReason): void {
    const rejected = { ...this.current.updatesRejected };
    rejected[reason] = (rejected[reason] ?? 0) + 1;
    this.setStatus({ updatesRejected: rejected });
  }

  private countUp(event: string, message: unknown): void {
    this.setStatus({ bytesUp: this.current.bytesUp + estimatedMessageBytes(event, message) });
  }

  private countDown(event: string, message: unknown): void {
    this.setStatus({ bytesDown: this.current.bytesDown + estimatedMessageBytes(event, message) });
  }

  private setStatus(change: Partial<WorkerStatus>): void {
    this.current = { ...this.current, ...change };
    this.options.onStatus?.(this.current);
  }

  private log(level: SessionLogLevel, message: string): void {
    this.options.log?.(level, message);
  }
}
