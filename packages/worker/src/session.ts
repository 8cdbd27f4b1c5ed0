import {
  buildInitialModel,
  assignmentDatasetInfo,
  decodeShard,
  weightsHash,
  type Dataset,
} from '@vtrain/ml';
import {
  MAX_PARAMETER_COUNT,
  type Assignment,
  type Hello,
  type ModelSpec,
  type PhaseNotice,
} from '@vtrain/protocol';
import type * as tf from '@tensorflow/tfjs';
import {
  CoordinatorConnection,
  describeError,
  Interruption,
  resolveNamespaceUrl,
} from './connection.js';
import { TrainingEngine } from './engine.js';
import { estimatedMessageBytes } from './envelope.js';
import { SessionError } from './session-error.js';
import { initialStatus, type BackendChoice, type WorkerStatus } from './status.js';
import { assertDutyCycle, backoffDelayMs, jittered, type BackoffPolicy } from './timing.js';
import { TrainingLoop, type LoadedRun } from './training-loop.js';
import { UpdatePipeline } from './update-pipeline.js';
import { Wakeup } from './wakeup.js';

export type { WorkerSocket } from './connection.js';

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

/**
 * A worker's session with a coordinator (docs/architecture.md#2-the-session), the
 * same in a browser Web Worker and in the Node CLI: it imports no Node module. Three
 * parts, one file each:
 *
 * - `connection.ts` ({@link CoordinatorConnection}): the socket.io connection,
 *   reconnection, requests with timeouts, the hello, notices checked by their schemas;
 * - `update-pipeline.ts` (`UpdatePipeline`): seqs, the one update in flight, resends;
 * - `training-loop.ts` (`TrainingLoop`): computing updates while the previous one
 *   travels, following the answers, pulling weights.
 *
 * This class is the state machine that ties them together:
 * 1. connect; on every (re)connect, `hello` (resuming the identity once it has one, so
 *    the coordinator keeps this worker's id and last seq); no run -> hello again every ~5 s;
 * 2. with an assignment: fetch and decode the shard, build the model, check P;
 * 3. train until an interruption: a lost connection or a missing answer -> after the
 *    reconnect and hello, resend the unanswered update once (same seq and payload);
 *    `run-ended` or a refusal -> hello again; stop -> close.
 * `phase` notices set the local steps of the next update.
 */
export class WorkerSession {
  private readonly options: WorkerSessionOptions;
  private readonly random: () => number;
  private readonly timing: SessionTiming;
  private readonly wakeup = new Wakeup();
  private readonly connection: CoordinatorConnection;
  private readonly pipeline: UpdatePipeline;
  private readonly training: TrainingLoop;
  private loop: Promise<void> | undefined;
  private stopped = false;
  private paused = false;
  private dutyCycle: number;
  private backend: BackendChoice;
  private run: LoadedRun | undefined;
  private localSteps = 1;
  private endedRunId: string | undefined;
  private noticedVersion: { runId: string; version: number } | undefined;
  private phaseSinceHello: PhaseNotice | undefined;
  private failures = 0;
  private current: WorkerStatus;

  /**
   * @param options - see {@link WorkerSessionOptions}.
   * @throws {@link SessionError} `invalid-url` for a URL that is not absolute http(s)/ws(s);
   *   DutyCycleError for a duty cycle outside (0, 1].
   */
  constructor(options: WorkerSessionOptions) {
    this.options = options;
    const namespaceUrl = resolveNamespaceUrl(options.url);
    this.random = options.random ?? Math.random;
    this.timing = { ...DEFAULT_SESSION_TIMING, ...options.timing };
    this.dutyCycle = options.dutyCycle ?? 1;
    assertDutyCycle(this.dutyCycle);
    this.backend = options.backend;
    this.current = initialStatus(options.backend);
    this.connection = new CoordinatorConnection(namespaceUrl, this.timing, this.random, {
      connected: () => {
        this.log('info', `connected to ${namespaceUrl.href}`);
        this.setStatus({ message: undefined });
        this.wakeup.notify();
      },
      disconnected: (reason) => {
        this.wakeup.notify();
        if (this.stopped) return;
        this.log('warn', `disconnected (${reason})`);
        this.setStatus({ state: 'connecting', message: `disconnected (${reason}); reconnecting` });
      },
      connectFailed: (message, attempt) => {
        if (attempt === 1 || attempt % 10 === 0) this.log('warn', message);
        this.setStatus({ state: 'connecting', message });
      },
      phase: (notice) => {
        this.phaseSinceHello = notice;
        if (notice.runId === this.run?.assignment.runId) this.adoptPhase(notice);
      },
      version: (notice) => {
        const previous =
          this.noticedVersion?.runId === notice.runId ? this.noticedVersion.version : -1;
        this.noticedVersion = { runId: notice.runId, version: Math.max(previous, notice.version) };
        this.wakeup.notify();
      },
      runEnded: (notice) => {
        this.log('info', `run ${notice.runId} ended (${notice.reason})`);
        this.endedRunId = notice.runId;
        this.wakeup.notify();
      },
      received: (event, message) => {
        this.setStatus({
          bytesDown: this.current.bytesDown + estimatedMessageBytes(event, message),
        });
      },
      sent: (event, message) => {
        this.setStatus({ bytesUp: this.current.bytesUp + estimatedMessageBytes(event, message) });
      },
      invalidNotice: (message) => {
        this.log('warn', message);
      },
    });
    this.pipeline = new UpdatePipeline(
      this.connection,
      () => this.timing.ackTimeoutMs,
      (level, message) => {
        this.log(level, message);
      },
    );
    this.training = new TrainingLoop({
      connection: this.connection,
      pipeline: this.pipeline,
      wakeup: this.wakeup,
      random: this.random,
      timing: this.timing,
      status: () => this.current,
      setStatus: (change) => {
        this.setStatus(change);
      },
      log: (level, message) => {
        this.log(level, message);
      },
      isStopped: () => this.stopped,
      isPaused: () => this.paused,
      dutyCycle: () => this.dutyCycle,
      localSteps: () => this.localSteps,
      noticedVersion: () => this.noticedVersion,
      runEnded: (runId) => this.endedRunId === runId,
      throwIfInterrupted: (runId) => {
        this.throwIfInterrupted(runId);
      },
      answered: () => {
        this.failures = 0;
      },
    });
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
    this.setStatus({ state: 'connecting', message: `connecting to ${this.connection.origin}` });
    this.connection.open();
    this.loop = this.runLoop();
  }

  /**
   * Stops training and closes the socket cleanly (the coordinator sees a normal
   * disconnect), waiting for an update being computed to finish; disposes the model.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeup.notify();
    this.connection.close();
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

  // ---------------------------------------------------------- the state machine

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
          await this.training.train(run);
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
      this.connection.close();
      this.unload();
    }
  }

  /**
   * After a failed step: a lost connection waits for socket.io's reconnection; the first
   * re-hello after an interruption is immediate; anything else backs off exponentially.
   */
  private async recover(error: unknown): Promise<void> {
    this.training.resetClock();
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
    if (this.connection.connected) return;
    this.setStatus({ state: 'connecting' });
    await this.wakeup.until(() => this.stopped || this.connection.connected, Infinity);
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
    await this.wakeup.until(() => this.stopped || !this.connection.connected, delay);
  }

  private async hello() {
    this.phaseSinceHello = undefined;
    const previous = this.current.workerId;
    const { welcome, resumed } = await this.connection.hello({
      client: this.options.client,
      backend: this.backend,
      capabilities: this.options.capabilities ?? {},
      ...(this.options.speedProbe === undefined ? {} : { speedProbe: this.options.speedProbe }),
    });
    if (!resumed) {
      this.log('info', `the coordinator did not resume ${previous}; now ${welcome.workerId}`);
      // Under a new identity the coordinator cannot tell a resend from a new update,
      // so an update it may already have applied must not be sent again.
      this.pipeline.forget();
    }
    this.endedRunId = undefined;
    this.setStatus({ workerId: welcome.workerId, message: undefined });
    return welcome;
  }

  private async load(assignment: Assignment): Promise<LoadedRun> {
    const key = `${assignment.runId}\n${assignment.dataset.shardUrl}`;
    if (this.run?.key === key) return this.run;
    this.unload();
    this.pipeline.forget();
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
    const info = assignmentDatasetInfo(assignment.dataset);
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

  /** Read through a call, so that TypeScript does not narrow it across an await. */
  private isStopped(): boolean {
    return this.stopped;
  }

  private throwIfInterrupted(runId: string): void {
    if (this.stopped) throw new Interruption('stopped', 'stopped');
    if (this.endedRunId === runId) throw new Interruption('run-ended', `run ${runId} ended`);
    if (!this.connection.connected) throw new Interruption('disconnected', 'disconnected');
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

  private setStatus(change: Partial<WorkerStatus>): void {
    this.current = { ...this.current, ...change };
    this.options.onStatus?.(this.current);
  }

  private log(level: SessionLogLevel, message: string): void {
    this.options.log?.(level, message);
  }
}
