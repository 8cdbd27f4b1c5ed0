import {
  ErrorReplySchema,
  safeParseMessage,
  WeightsSchema,
  type Assignment,
  type RejectReason,
  type UpdateAck,
  type UpdateReject,
  type Weights,
} from '@vtrain/protocol';
import { describeError, Interruption, unwrap, type CoordinatorConnection } from './connection.js';
import type { TrainingEngine } from './engine.js';
import { SessionError } from './session-error.js';
import type { WorkerStatus } from './status.js';
import { backoffDelayMs, dutyCycleIdleMs, ewma, type BackoffPolicy } from './timing.js';
import {
  rejectionReturnsMass,
  settle,
  type PendingUpdate,
  type Settled,
  type UpdatePipeline,
} from './update-pipeline.js';
import type { Wakeup } from './wakeup.js';
import { applyWeightsMessage, weightsEpoch } from './weights-message.js';

/** A run the session loaded: its assignment and the engine training it. */
export interface LoadedRun {
  /** runId and shard: a new shard for the same run means a new engine. */
  readonly key: string;
  readonly assignment: Assignment;
  readonly engine: TrainingEngine;
}

/** What the training loop reads from and reports to its session. */
export interface TrainingHost {
  readonly connection: CoordinatorConnection;
  readonly pipeline: UpdatePipeline;
  readonly wakeup: Wakeup;
  readonly random: () => number;
  readonly timing: {
    readonly barrierTimeoutMs: number;
    readonly requestTimeoutMs: number;
    readonly retryBackoff: BackoffPolicy;
  };
  status(): WorkerStatus;
  setStatus(change: Partial<WorkerStatus>): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
  isStopped(): boolean;
  isPaused(): boolean;
  dutyCycle(): number;
  /** Local steps H of the next update (the assignment's, then the last phase notice's). */
  localSteps(): number;
  /** The highest version notice seen, per run. */
  noticedVersion(): { readonly runId: string; readonly version: number } | undefined;
  /** Whether a `run-ended` notice for `runId` arrived since the last hello. */
  runEnded(runId: string): boolean;
  /** Throws the {@link Interruption} that ends training now (stopped, run ended, disconnected). */
  throwIfInterrupted(runId: string): void;
  /** An update was answered: the failure streak behind the retry backoff ends. */
  answered(): void;
}

/** Weight of a new throughput sample in the samples/s EWMA. */
const THROUGHPUT_ALPHA = 0.2;

/**
 * The compute half of a worker session: computes updates, sends them through the
 * {@link UpdatePipeline}, and follows the coordinator's answers (docs/architecture.md,
 * the worker loop).
 *
 * In an asynchronous phase it never idles on the network: after emitting update n it
 * computes the local steps of update n + 1 (into the engine's pending delta) while n travels, then takes n's answer
 * (already there, usually), follows it (the ack's weights patch the global weights and
 * the model, a rejection gives n's mass back to the residual), and compresses n + 1
 * relative to the version it now holds. Weights therefore reach the model between local
 * computations, never during one; the delta computed ahead is local progress, a
 * direction that stays valid when the base moves, exactly like the residual's mass.
 * At most one update is in flight and at most one update's steps are computed ahead.
 *
 * Answers: `applied` -> adopt `ack.weights`; `buffered` -> wait for a version notice
 * (the synchronous barrier), then pull; `stale`/`late`/`future-version`/`duplicate` ->
 * pull; `rate-limited` -> back off; `run-not-active` -> hello again; a payload rejection
 * -> log it (a worker bug), pull. Rejections that leave the update unapplied give its
 * mass back first (see `rejectionReturnsMass`).
 */
export class TrainingLoop {
  private rateLimitStreak = 0;
  /**
   * Whether the last answer applied the update at once (an asynchronous phase). Only
   * then are the next steps computed ahead: behind a synchronous barrier (`buffered`)
   * they would start from the model of the round that is closing, and the round after
   * would apply a change one round stale; with local SGD's large steps that makes the
   * global model oscillate (seen on the demo run: 90.8% after 4 rounds, then 70-89%).
   */
  private answeredAtOnce = false;
  private lastComputeEnd: number | undefined;
  private throughput: number | undefined;

  constructor(private readonly host: TrainingHost) {}

  /** Forgets the throughput clock (after an interruption the gap is not compute time). */
  resetClock(): void {
    this.lastComputeEnd = undefined;
  }

  /** Trains `run` until an interruption (thrown) ends it. */
  async train(run: LoadedRun): Promise<void> {
    const { host } = this;
    const runId = run.assignment.runId;
    const { engine } = run;
    host.pipeline.keepOnlyRun(runId);
    this.lastComputeEnd = undefined;
    this.answeredAtOnce = false;
    // A pending update is resent first: the engine still holds its base version.
    if (host.pipeline.pending === undefined) await this.pull(run, engine.version);
    for (;;) {
      host.throwIfInterrupted(runId);
      if (host.isPaused()) {
        host.setStatus({ state: 'paused', message: undefined });
        this.lastComputeEnd = undefined;
        await host.wakeup.until(
          () =>
            !host.isPaused() ||
            host.isStopped() ||
            host.runEnded(runId) ||
            !host.connection.connected,
          Infinity,
        );
        continue;
      }
      if (host.status().state !== 'training') {
        host.setStatus({ state: 'training', message: undefined });
      }
      const pending = host.pipeline.pending ?? (await this.nextUpdate(run));
      host.throwIfInterrupted(runId);
      if (pending.attempts === 0) host.setStatus({ updatesSent: host.status().updatesSent + 1 });
      // Overlap: the update travels while the next one's steps are computed.
      const answer = settle(host.pipeline.send(pending));
      const ahead = await settle(this.computeAhead(run));
      const reply = this.unsettle(await answer);
      await this.follow(run, pending, reply);
      host.answered();
      // A failure of the steps computed ahead is reported once the answer was followed.
      if (!ahead.ok) throw ahead.error;
      const idle = dutyCycleIdleMs(pending.push.computeMs, host.dutyCycle());
      if (idle > 0) {
        await host.wakeup.until(
          () => host.isStopped() || host.isPaused() || host.runEnded(runId),
          idle,
        );
      }
    }
  }

  private unsettle<T>(settled: Settled<T>): T {
    if (settled.ok) return settled.value;
    throw settled.error;
  }

  /** The local steps of the next update, while the previous one is in flight (at most one update's). */
  private async computeAhead(run: LoadedRun): Promise<void> {
    const { host } = this;
    if (!this.answeredAtOnce || run.engine.pendingSteps > 0) return;
    if (host.isPaused() || host.isStopped()) return;
    if (!host.connection.connected) return;
    await this.computeSteps(run);
  }

  /** One computation of H local steps into the engine's pending delta, counted in the status. */
  private async computeSteps(run: LoadedRun): Promise<void> {
    const { host } = this;
    const computed = await run.engine.computeSteps(host.localSteps());
    const now = performance.now();
    const seconds =
      (this.lastComputeEnd === undefined ? computed.computeMs : now - this.lastComputeEnd) / 1000;
    this.lastComputeEnd = now;
    if (seconds > 0) {
      this.throughput = ewma(this.throughput, computed.samples / seconds, THROUGHPUT_ALPHA);
    }
    const status = host.status();
    host.setStatus({
      steps: status.steps + computed.steps,
      samples: status.samples + computed.samples,
      samplesPerSecond: this.throughput ?? 0,
    });
  }

  /** Compresses the steps computed ahead (or computes them now) into the next pending update. */
  private async nextUpdate(run: LoadedRun): Promise<PendingUpdate> {
    const { host } = this;
    const { engine } = run;
    if (engine.pendingSteps === 0) await this.computeSteps(run);
    const computed = engine.compressPending();
    return host.pipeline.prepare(run.assignment.runId, computed);
  }

  /** What the coordinator's answer to an update asks for (see the class comment). */
  private async follow(
    run: LoadedRun,
    pending: PendingUpdate,
    reply: UpdateAck | UpdateReject,
  ): Promise<void> {
    const { host } = this;
    const { engine } = run;
    const { push } = pending;
    const runId = run.assignment.runId;
    this.answeredAtOnce = reply.type === 'ack' && reply.status === 'applied';
    if (reply.type === 'ack') {
      this.rateLimitStreak = 0;
      if (reply.seq !== push.seq) {
        host.log('warn', `ack for seq ${reply.seq}, sent ${push.seq}; pulling`);
        await this.pull(run, engine.version);
        return;
      }
      host.setStatus({ lastStaleness: reply.staleness });
      if (reply.status === 'applied') {
        host.setStatus({ updatesApplied: host.status().updatesApplied + 1 });
        if (reply.weights === undefined) await this.pull(run, engine.version);
        else await this.adopt(run, reply.weights);
        return;
      }
      host.setStatus({
        updatesBuffered: host.status().updatesBuffered + 1,
        message: 'update buffered; waiting for the batch to be applied',
      });
      const barrier = Math.max(push.baseVersion, reply.version);
      const arrived = await host.wakeup.until(() => {
        const noticed = host.noticedVersion();
        return (
          (noticed?.runId === runId && noticed.version > barrier) ||
          host.isStopped() ||
          host.runEnded(runId) ||
          !host.connection.connected
        );
      }, host.timing.barrierTimeoutMs);
      host.throwIfInterrupted(runId);
      if (!arrived) host.log('warn', `no version notice above ${barrier} in time; pulling anyway`);
      host.setStatus({ message: undefined });
      await this.pull(run, engine.version);
      return;
    }
    this.countRejection(reply.reason);
    if (reply.reason !== 'rate-limited' && reply.reason !== 'storage-unavailable') {
      this.rateLimitStreak = 0;
    }
    // Not applied: the mass goes back to the residual (nothing was compressed since).
    if (rejectionReturnsMass(reply.reason)) engine.restore(pending.computed.sent);
    switch (reply.reason) {
      case 'stale':
      case 'late':
      case 'duplicate':
      case 'unsafe-update': // over the run's bounds: nothing applied, go on from the model
      case 'empty-update':
        await this.pull(run, engine.version);
        return;
      case 'future-version':
        // The coordinator is behind the version we hold (it restarted): take its weights whole.
        await this.pull(run, undefined);
        return;
      case 'rate-limited':
      case 'storage-unavailable': {
        // The coordinator cannot take updates now (too many, or its disk is full): back off.
        const delay = backoffDelayMs(this.rateLimitStreak++, host.timing.retryBackoff, host.random);
        host.setStatus({ message: `${reply.reason}; waiting ${(delay / 1000).toFixed(1)} s` });
        await host.wakeup.until(() => host.isStopped(), delay);
        host.throwIfInterrupted(runId);
        host.setStatus({ message: undefined });
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
        host.log(
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
      this.host.log(
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
  async pull(run: LoadedRun, haveVersion: number | undefined): Promise<void> {
    const { host } = this;
    const runId = run.assignment.runId;
    let have = haveVersion;
    for (let attempt = 0; ; attempt++) {
      host.throwIfInterrupted(runId);
      // The epoch says which history `have` belongs to: another one's is answered dense.
      const epoch = have === undefined ? undefined : weightsEpoch(run.engine);
      const request = {
        type: 'pull' as const,
        runId,
        ...(have === undefined ? {} : { haveVersion: have }),
        ...(epoch === undefined ? {} : { haveEpoch: epoch }),
      };
      const raw = await host.connection.request('pull', request, (socket) =>
        socket.timeout(host.timing.requestTimeoutMs).emitWithAck('pull', request),
      );
      const reply = unwrap(safeParseMessage(WeightsSchema.or(ErrorReplySchema), raw, 'pull reply'));
      if (reply.type === 'error') {
        if (reply.code === 'no-active-run' || reply.code === 'not-found') {
          throw new Interruption('rehello', `pull refused: ${reply.code}`);
        }
        if (reply.code === 'rate-limited') {
          const delay = backoffDelayMs(attempt, host.timing.retryBackoff, host.random);
          await host.wakeup.until(() => host.isStopped(), delay);
          continue;
        }
        throw new SessionError('pull-refused', `${reply.code}: ${reply.message}`);
      }
      try {
        this.applyWeights(run, reply);
        return;
      } catch (error) {
        if (have === undefined || error instanceof SessionError) throw error;
        host.log(
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
    this.host.setStatus({ version: run.engine.version ?? 0 });
  }

  private countRejection(reason: RejectReason): void {
    const rejected = { ...this.host.status().updatesRejected };
    rejected[reason] = (rejected[reason] ?? 0) + 1;
    this.host.setStatus({ updatesRejected: rejected });
  }
}
