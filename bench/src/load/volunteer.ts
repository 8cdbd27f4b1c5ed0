import {
  PROTOCOL_VERSION,
  WORKER_NAMESPACE,
  type ErrorReply,
  type Hello,
  type UpdateAck,
  type UpdateReject,
  type Weights,
  type Welcome,
} from '@vtrain/protocol';
import { io, type Socket } from 'socket.io-client';
import type { AssignedRun, LoadDelta } from './load-types.js';
import { volunteerPayloads } from './volunteer-payloads.js';

/** How long a hello, a pull or an update may wait for its answer. */
const REQUEST_TIMEOUT_MS = 60_000;
/** After a `buffered` ack, pull anyway when no version notice came for this long (as a worker does). */
const BARRIER_TIMEOUT_MS = 120_000;

/** What every volunteer of a process reports into (the process sends and resets `delta`). */
export interface VolunteerTally {
  /** Whether updates sent now fall in the measurement window. */
  counting: boolean;
  delta: LoadDelta;
  joined: number;
  settled: number;
  refused: Record<string, number>;
  run: AssignedRun | undefined;
}

/** A refusal or failure that ends a volunteer's join or run. */
class VolunteerStop extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** A worker connection's refusal in `connect_error.data` (docs/api.md#limits). */
interface RefusalData {
  readonly code?: unknown;
  readonly message?: unknown;
}

/**
 * One simulated volunteer: a real socket.io connection that speaks the worker
 * protocol as `@vtrain/worker`'s session does (docs/api.md): hello with
 * PROTOCOL_VERSION, a pull from version 0 (a worker whose seeded model matched
 * the assignment's hash), then an update every `periodMs` on average, each
 * based on the version the last ack or pull brought, one in flight; a
 * `buffered` ack waits for the version notice, then pulls; rejections are
 * followed as the worker follows them. No tfjs: the updates are prepared
 * sparse payloads at the run's density ({@link volunteerPayloads}).
 */
export class Volunteer {
  private socket: Socket | undefined;
  private stopped = false;
  private noticed = -1;
  private readonly waiters = new Set<() => void>();
  private markSettled: () => void = () => undefined;
  /** Resolves once the join is settled: joined, refused or failed. */
  readonly settled = new Promise<void>((resolve) => (this.markSettled = resolve));

  constructor(
    private readonly url: string,
    private readonly seed: number,
    private readonly periodMs: number,
    private readonly tally: VolunteerTally,
    private readonly random: () => number,
  ) {}

  /** Joins, then sends updates until {@link stop}; never throws (failures are tallied). */
  async run(): Promise<void> {
    let session: Session;
    try {
      session = await this.join();
    } catch (error) {
      const reason = error instanceof VolunteerStop ? error.reason : describe(error);
      this.tally.refused[reason] = (this.tally.refused[reason] ?? 0) + 1;
      this.tally.settled++;
      this.markSettled();
      this.close();
      return;
    }
    this.tally.joined++;
    this.tally.settled++;
    this.markSettled();
    try {
      await this.loop(session);
    } catch (error) {
      if (!this.stopped) {
        const reason = error instanceof VolunteerStop ? error.reason : describe(error);
        this.countError(`left: ${reason}`);
      }
    } finally {
      this.tally.joined--;
      this.close();
    }
  }

  /** Ends the loop at its next wait and closes the connection. */
  stop(): void {
    this.stopped = true;
    for (const wake of this.waiters) wake();
    this.close();
  }

  private close(): void {
    this.socket?.disconnect();
  }

  private async join(): Promise<Session> {
    const socket = io(new URL(WORKER_NAMESPACE, this.url).href, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      timeout: REQUEST_TIMEOUT_MS,
    });
    this.socket = socket;
    socket.on('version', (notice: { version: number }) => {
      this.noticed = Math.max(this.noticed, notice.version);
      for (const wake of this.waiters) wake();
    });
    socket.on('disconnect', () => {
      for (const wake of this.waiters) wake();
    });
    await new Promise<void>((resolve, reject) => {
      // Stopped before the handshake ended: neither connect nor connect_error would come.
      const stopped = (): void => {
        if (this.stopped) reject(new VolunteerStop('stopped while joining'));
      };
      this.waiters.add(stopped);
      socket.once('connect', () => {
        this.waiters.delete(stopped);
        resolve();
      });
      socket.once('connect_error', (error: Error & { data?: RefusalData }) => {
        const data = error.data;
        reject(
          new VolunteerStop(
            typeof data?.code === 'string'
              ? `${data.code}: ${String(data.message)}`
              : `connect_error: ${error.message}`,
          ),
        );
      });
    });
    const hello: Hello = {
      type: 'hello',
      protocolVersion: PROTOCOL_VERSION,
      client: { kind: 'node', description: 'vtrain load tool' },
      backend: 'cpu',
      capabilities: {},
    };
    const welcome = (await this.request('hello', hello)) as Welcome | ErrorReply;
    if (welcome.type === 'error') throw new VolunteerStop(`${welcome.code}: ${welcome.message}`);
    const assignment = welcome.assignment;
    if (assignment === undefined) throw new VolunteerStop('no-active-run: welcome without a run');
    const run: AssignedRun = {
      runId: assignment.runId,
      runName: assignment.runName,
      parameterCount: assignment.parameterCount,
      density: assignment.compression.density,
      valueFormat: assignment.compression.valueFormat,
      localSteps: assignment.localSteps,
    };
    this.tally.run ??= run;
    const session: Session = {
      run,
      payloads: volunteerPayloads(run.parameterCount, run.density, run.valueFormat, this.seed),
      held: 0,
      heldEpoch: undefined,
      seq: 0,
    };
    await this.pull(session, 0);
    return session;
  }

  private async loop(session: Session): Promise<void> {
    // The first update after a random part of a period, so volunteers do not send in step.
    let nextAt = performance.now() + this.random() * this.periodMs;
    for (;;) {
      await this.wait(nextAt - performance.now(), () => false);
      if (this.stopped) return;
      const counted = this.tally.counting;
      const base = session.held;
      const payload = session.payloads[session.seq % session.payloads.length];
      const sent = performance.now();
      if (counted) this.tally.delta.offered++;
      const reply = (await this.request('update', {
        type: 'update',
        runId: session.run.runId,
        seq: session.seq++,
        baseVersion: base,
        steps: session.run.localSteps,
        samples: 32 * session.run.localSteps,
        trainLoss: 1,
        computeMs: this.periodMs,
        payload,
      }).catch((error: unknown) => {
        if (this.stopped && counted) this.tally.delta.pendingAtEnd++;
        throw error;
      })) as UpdateAck | UpdateReject;
      if (counted && this.tally.counting) {
        this.tally.delta.latenciesMs.push(Math.round((performance.now() - sent) * 100) / 100);
      }
      await this.follow(session, base, reply, counted && this.tally.counting);
      // As a worker computes: while an update applied at once travels, the next one's steps
      // are computed ahead, so it is due one period after the previous was sent; behind a
      // barrier or after a rejection the steps start from the weights just pulled.
      const period = (0.5 + this.random()) * this.periodMs;
      const atOnce = reply.type === 'ack' && reply.status === 'applied';
      nextAt = atOnce ? Math.max(performance.now(), sent + period) : performance.now() + period;
    }
  }

  /** What a worker does with an update's answer (`TrainingLoop.follow` of `@vtrain/worker`). */
  private async follow(
    session: Session,
    base: number,
    reply: UpdateAck | UpdateReject,
    counted: boolean,
  ): Promise<void> {
    // The tally's delta is replaced at every report: look it up when counting, never keep it.
    const delta = (): LoadDelta => this.tally.delta;
    if (reply.type === 'ack') {
      if (reply.status === 'applied') {
        if (counted) delta().appliedAtOnce++;
        if (reply.weights === undefined) await this.pull(session, session.held);
        else this.adopt(session, reply.weights);
        return;
      }
      const barrier = Math.max(base, reply.version);
      const arrived = await this.wait(BARRIER_TIMEOUT_MS, () => this.noticed > barrier);
      if (this.stopped) {
        if (counted && !arrived) delta().pendingAtEnd++;
        return;
      }
      if (counted) {
        if (arrived) delta().appliedAfterBarrier++;
        else delta().bufferedUnconfirmed++;
      }
      await this.pull(session, session.held);
      return;
    }
    if (counted) {
      const { rejected } = delta();
      rejected[reply.reason] = (rejected[reply.reason] ?? 0) + 1;
    }
    switch (reply.reason) {
      case 'future-version':
        await this.pull(session, undefined);
        return;
      case 'rate-limited':
      case 'storage-unavailable':
        await this.wait(1000 + this.random() * 1000, () => false);
        if (this.stopped) return;
        await this.pull(session, session.held);
        return;
      case 'run-not-active':
      case 'unknown-worker':
        throw new VolunteerStop(`update rejected: ${reply.reason}`);
      default:
        await this.pull(session, session.held);
    }
  }

  /** Pulls the weights from `have` (a patch) or dense; retries a rate-limited pull. */
  private async pull(session: Session, have: number | undefined): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      if (this.stopped) return;
      const reply = (await this.request('pull', {
        type: 'pull',
        runId: session.run.runId,
        ...(have === undefined ? {} : { haveVersion: have }),
        ...(have === undefined || session.heldEpoch === undefined
          ? {}
          : { haveEpoch: session.heldEpoch }),
      })) as Weights | ErrorReply;
      if (reply.type === 'weights') {
        this.adopt(session, reply);
        return;
      }
      if (reply.code !== 'rate-limited' || attempt >= 10) {
        throw new VolunteerStop(`pull refused: ${reply.code}: ${reply.message}`);
      }
      await this.wait(Math.min(5000, 250 * 2 ** attempt) * (0.5 + this.random()), () => false);
    }
  }

  private adopt(session: Session, weights: Weights): void {
    session.held = weights.version;
    session.heldEpoch = weights.epoch;
  }

  /** An acknowledged request; a timeout or a lost connection ends this volunteer. */
  private async request(event: 'hello' | 'pull' | 'update', message: unknown): Promise<unknown> {
    const socket = this.socket;
    if (!socket?.connected) throw new VolunteerStop('disconnected');
    try {
      return await socket.timeout(REQUEST_TIMEOUT_MS).emitWithAck(event, message);
    } catch {
      // Read again: the connection may have gone while the request waited.
      throw new VolunteerStop(this.isConnected() ? `${event} timed out` : 'disconnected');
    }
  }

  private isConnected(): boolean {
    return this.socket?.connected === true;
  }

  /** Waits up to `ms` for `done()` (checked on every notice), a stop or a lost connection. */
  private async wait(ms: number, done: () => boolean): Promise<boolean> {
    if (done()) return true;
    if (this.stopped || ms <= 0) return false;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if (done() || this.stopped || this.socket?.connected === false) finish();
      };
      const finish = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      this.waiters.add(check);
      timer = setTimeout(finish, ms);
    });
    return done();
  }

  private countError(kind: string): void {
    const { errors } = this.tally.delta;
    errors[kind] = (errors[kind] ?? 0) + 1;
  }
}

/** A joined volunteer's state: the run, its prepared updates and the weights it holds. */
interface Session {
  readonly run: AssignedRun;
  readonly payloads: readonly Uint8Array[];
  /** The version of the weights the last ack or pull brought. */
  held: number;
  /** Their epoch; undefined for version 0 built from the seed. */
  heldEpoch: string | undefined;
  seq: number;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
