import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ParameterSlice } from '@vtrain/ml';
import {
  decodeSparseUpdate,
  encodeDenseWeights,
  encodeSparseUpdate,
  HelloSchema,
  PROTOCOL_VERSION,
  PullRequestSchema,
  safeParseMessage,
  UpdatePushSchema,
  WORKER_NAMESPACE,
  type Assignment,
  type ErrorReply,
  type Hello,
  type PullRequest,
  type UpdatePush,
  type Welcome,
  type WorkerClientToServerEvents,
  type WorkerServerToClientEvents,
} from '@vtrain/protocol';
import { Server, type Socket } from 'socket.io';

type ServerSocket = Socket<WorkerClientToServerEvents, WorkerServerToClientEvents>;

/** Replies as they are emitted: the schemas' input side. */
type UpdateReply = Parameters<Parameters<WorkerClientToServerEvents['update']>[1]>[0];
type PullReply = Parameters<Parameters<WorkerClientToServerEvents['pull']>[1]>[0];
type WeightsReply = Extract<PullReply, { type: 'weights' }>;

/** What a custom update handler may answer: a reply, or a fault to inject. */
export type UpdateOutcome = UpdateReply | 'no-answer' | 'drop-connection';

/** One message the fake coordinator received, with its arrival time. */
export interface Received<T> {
  readonly message: T;
  readonly at: number;
  readonly workerId: string | undefined;
}

/** What the fake coordinator starts with. */
export interface FakeCoordinatorOptions {
  readonly assignment: Assignment | undefined;
  /** Initial global weights and their layout (from the same model spec and any seed). */
  readonly weights: Float32Array;
  readonly layout: readonly ParameterSlice[];
  /** Files served over HTTP by path (shards for a worker that fetches them), else 404. */
  readonly files?: ReadonlyMap<string, Uint8Array>;
}

/**
 * A minimal coordinator that follows the worker contract of docs/api.md: hello ->
 * welcome (resume keeps the identity and the last seq), pull -> dense weights or
 * an empty patch when the worker is current, update -> duplicate check, then
 * w <- w - sent (server SGD, lr 1), version + 1, `applied` with the patch of new
 * values when the worker was current, dense weights otherwise. Tests swap in
 * `onHello` / `onUpdate` to inject the other answers and faults. It validates
 * every worker message with the wire schemas and records failures in `protocolErrors`.
 */
export class FakeCoordinator {
  readonly hellos: Received<Hello>[] = [];
  readonly pulls: Received<PullRequest>[] = [];
  readonly updates: Received<UpdatePush>[] = [];
  readonly disconnects: { reason: string; workerId: string | undefined }[] = [];
  readonly protocolErrors: string[] = [];
  assignment: Assignment | undefined;
  version = 0;
  /** The restart epoch stamped on welcomes and weights; a test changes it to play a restart. */
  epoch = 'fake-epoch';
  readonly global: Float32Array;
  /** Replaces the default welcome. */
  onHello: ((hello: Hello) => Welcome | ErrorReply) | undefined;
  /** Replaces the default update handling; `defaultUpdate` is available to it. */
  onUpdate: ((push: UpdatePush, socket: ServerSocket) => UpdateOutcome) | undefined;

  private readonly workers = new Map<string, { secret: string; lastSeq: number }>();
  private nextWorker = 1;

  private constructor(
    private readonly http: HttpServer,
    private readonly io: Server,
    readonly url: string,
    private readonly layout: readonly ParameterSlice[],
    options: FakeCoordinatorOptions,
  ) {
    this.assignment = options.assignment;
    this.global = options.weights.slice();
    io.of(WORKER_NAMESPACE).on('connection', (socket: ServerSocket) => {
      this.serve(socket);
    });
  }

  /** Listens on a free port of 127.0.0.1. */
  static async start(options: FakeCoordinatorOptions): Promise<FakeCoordinator> {
    const files = options.files ?? new Map<string, Uint8Array>();
    // socket.io answers its own path and hands every other request to this handler.
    const http = createServer((request, response) => {
      const body = files.get(request.url ?? '');
      response.writeHead(body === undefined ? 404 : 200).end(body);
    });
    const io = new Server(http, { maxHttpBufferSize: 16 * 1024 * 1024 });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const { port } = http.address() as AddressInfo;
    return new FakeCoordinator(http, io, `http://127.0.0.1:${port}`, options.layout, options);
  }

  /** Sends a notice to every connected worker. */
  broadcast<E extends keyof WorkerServerToClientEvents>(
    event: E,
    ...message: Parameters<WorkerServerToClientEvents[E]>
  ): void {
    this.io.of(WORKER_NAMESPACE).emit(event, ...message);
  }

  /** Closes every worker connection at the transport level, as a network failure would. */
  dropConnections(): void {
    for (const socket of this.io.of(WORKER_NAMESPACE).sockets.values()) socket.conn.close();
  }

  async close(): Promise<void> {
    await this.io.close();
    this.http.closeAllConnections();
  }

  /** The contract's default: duplicate check, then apply with server SGD lr 1. */
  defaultUpdate(push: UpdatePush, workerId: string | undefined): UpdateReply {
    const worker = workerId === undefined ? undefined : this.workers.get(workerId);
    if (worker === undefined) {
      return { type: 'reject', seq: push.seq, reason: 'unknown-worker', message: 'hello first' };
    }
    if (push.seq <= worker.lastSeq) {
      return { type: 'reject', seq: push.seq, reason: 'duplicate', message: `seq ${push.seq}` };
    }
    worker.lastSeq = push.seq;
    if (push.baseVersion > this.version) {
      return { type: 'reject', seq: push.seq, reason: 'future-version', message: 'ahead' };
    }
    const base = push.baseVersion;
    const changed = this.apply(push);
    const weights: WeightsReply =
      base === this.version - 1 ? this.patch(base, changed) : this.denseWeights(push.runId);
    return {
      type: 'ack',
      seq: push.seq,
      status: 'applied',
      version: this.version,
      staleness: this.version - 1 - base,
      weights,
    };
  }

  /** w <- w - sent; version + 1. Returns the changed coordinates. */
  apply(push: UpdatePush): Uint32Array {
    const sent = decodeSparseUpdate(push.payload, {
      maxLength: this.global.length,
      maxCount: this.global.length,
      expectedLength: this.global.length,
    });
    sent.indices.forEach((index, j) => {
      this.global[index] -= sent.values[j];
    });
    this.version++;
    return sent.indices;
  }

  /** The new values of `indices`, as a patch from `fromVersion` to the current version. */
  patch(fromVersion: number, indices: Uint32Array): WeightsReply {
    const values = Float32Array.from(indices, (index) => this.global[index]);
    return {
      type: 'weights',
      runId: this.assignment?.runId ?? 'none',
      version: this.version,
      epoch: this.epoch,
      encoding: 'sparse-patch',
      fromVersion,
      payload: encodeSparseUpdate(
        { length: this.global.length, indices, values },
        { valueFormat: 'f32' },
      ) as Uint8Array<ArrayBuffer>,
    };
  }

  denseWeights(runId: string): WeightsReply {
    return {
      type: 'weights',
      runId,
      version: this.version,
      epoch: this.epoch,
      encoding: 'dense',
      payload: encodeDenseWeights({
        tensors: this.layout.map((slice) => ({
          name: slice.name,
          shape: [...slice.shape],
          data: this.global.slice(slice.offset, slice.offset + slice.size),
        })),
      }) as Uint8Array<ArrayBuffer>,
    };
  }

  private serve(socket: ServerSocket): void {
    const workerIdOf = () => socket.data as { workerId?: string };
    socket.on('hello', (raw, ack) => {
      const parsed = safeParseMessage(HelloSchema, raw, 'hello');
      if (!parsed.ok) {
        this.protocolErrors.push(parsed.error.message);
        return;
      }
      const hello = parsed.value;
      this.hellos.push({ message: hello, at: Date.now(), workerId: workerIdOf().workerId });
      if (this.onHello !== undefined) {
        const reply = this.onHello(hello);
        if (reply.type === 'welcome') {
          workerIdOf().workerId = reply.workerId;
          this.workers.set(reply.workerId, { secret: reply.secret, lastSeq: -1 });
        }
        ack(reply);
        return;
      }
      let workerId = hello.resume?.workerId;
      const known = workerId === undefined ? undefined : this.workers.get(workerId);
      if (workerId === undefined || known?.secret !== hello.resume?.secret) {
        workerId = `w${this.nextWorker++}`;
        this.workers.set(workerId, { secret: `secret-${workerId}`, lastSeq: -1 });
      }
      workerIdOf().workerId = workerId;
      ack({
        type: 'welcome',
        protocolVersion: PROTOCOL_VERSION,
        workerId,
        secret: `secret-${workerId}`,
        epoch: this.epoch,
        ...(this.assignment === undefined ? {} : { assignment: this.assignment }),
      });
    });
    socket.on('pull', (raw, ack) => {
      const parsed = safeParseMessage(PullRequestSchema, raw, 'pull');
      if (!parsed.ok) {
        this.protocolErrors.push(parsed.error.message);
        return;
      }
      const pull = parsed.value;
      this.pulls.push({ message: pull, at: Date.now(), workerId: workerIdOf().workerId });
      if (pull.runId !== this.assignment?.runId) {
        ack({ type: 'error', code: 'no-active-run', message: `no run ${pull.runId}` });
        return;
      }
      ack(
        pull.haveVersion === this.version
          ? this.patch(this.version, new Uint32Array(0))
          : this.denseWeights(pull.runId),
      );
    });
    socket.on('update', (raw, ack) => {
      const parsed = safeParseMessage(UpdatePushSchema, raw, 'update');
      if (!parsed.ok) {
        this.protocolErrors.push(parsed.error.message);
        return;
      }
      const push = parsed.value;
      const workerId = workerIdOf().workerId;
      this.updates.push({ message: push, at: Date.now(), workerId });
      const outcome = this.onUpdate?.(push, socket) ?? this.defaultUpdate(push, workerId);
      if (outcome === 'no-answer') return;
      if (outcome === 'drop-connection') {
        socket.conn.close();
        return;
      }
      ack(outcome);
    });
    socket.on('disconnect', (reason) => {
      this.disconnects.push({ reason, workerId: workerIdOf().workerId });
    });
  }
}
