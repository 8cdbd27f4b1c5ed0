import {
  ErrorReplySchema,
  PhaseNoticeSchema,
  PROTOCOL_VERSION,
  RunEndedSchema,
  safeParseMessage,
  VersionNoticeSchema,
  WelcomeSchema,
  WORKER_NAMESPACE,
  type Hello,
  type ParseResult,
  type PhaseNotice,
  type RunEnded,
  type VersionNotice,
  type Welcome,
  type WorkerClientToServerEvents,
  type WorkerServerToClientEvents,
} from '@vtrain/protocol';
import { io, type Socket } from 'socket.io-client';
import { SessionError } from './session-error.js';
import { backoffDelayMs, type BackoffPolicy } from './timing.js';

/** The socket.io client socket of the worker namespace, typed by the protocol's event maps. */
export type WorkerSocket = Socket<WorkerServerToClientEvents, WorkerClientToServerEvents>;

/** Control flow of the session, never shown to a user: why the current step was abandoned. */
export type InterruptionCode = 'stopped' | 'disconnected' | 'ack-timeout' | 'run-ended' | 'rehello';

/** Thrown to abandon the current step; the session says hello again (or stops). */
export class Interruption extends Error {
  override readonly name = 'Interruption';
  constructor(
    readonly code: InterruptionCode,
    message: string,
  ) {
    super(message);
  }
}

/** Largest hello fields (the schema's bounds), so a long user agent cannot make a hello invalid. */
const MAX_DESCRIPTION = 200;
const MAX_BACKEND_REASON = 300;

export function describeError(error: unknown): string {
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

/**
 * The worker namespace's URL under a coordinator base URL.
 *
 * @throws {@link SessionError} `invalid-url` for a URL that is not absolute http(s)/ws(s).
 */
export function resolveNamespaceUrl(url: string): URL {
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

/** What a {@link CoordinatorConnection} tells its session. */
export interface ConnectionEvents {
  /** Connected, or reconnected (the session must say hello again). */
  readonly connected: () => void;
  /** Lost the connection; socket.io reconnects by itself. */
  readonly disconnected: (reason: string) => void;
  /** A connection attempt failed (the `attempt`-th in a row). */
  readonly connectFailed: (message: string, attempt: number) => void;
  /** A notice that passed its schema. */
  readonly phase: (notice: PhaseNotice) => void;
  readonly version: (notice: VersionNotice) => void;
  readonly runEnded: (notice: RunEnded) => void;
  /** Every message received and sent, for the byte counters. */
  readonly received: (event: string, message: unknown) => void;
  readonly sent: (event: string, message: unknown) => void;
  /** A notice that failed its schema (logged and ignored: notices only hint, requests decide). */
  readonly invalidNotice: (message: string) => void;
}

/** How the connection reconnects and how long it waits for a hello's answer. */
export interface ConnectionTiming {
  readonly requestTimeoutMs: number;
  readonly reconnect: BackoffPolicy;
}

/** What the hello says about this worker (the session's host). */
export interface HelloFacts {
  readonly client: Hello['client'];
  readonly backend: { readonly name: Hello['backend']; readonly reason?: string };
  readonly capabilities: Hello['capabilities'];
  readonly speedProbe?: Hello['speedProbe'];
}

/** A welcome, and whether the coordinator kept this worker's identity (its last seq with it). */
export interface HelloResult {
  readonly welcome: Welcome;
  /** False when the worker had an identity and got a new one: a resend could be applied twice. */
  readonly resumed: boolean;
}

/**
 * The socket half of a worker session: the socket.io connection to the worker
 * namespace (websocket, socket.io's jittered reconnection, plus our own retry
 * where socket.io gives up: a server-side disconnect, a middleware refusal), the
 * requests (an emit with an ack and a timeout; a lost connection or a missing ack
 * becomes an {@link Interruption}), the hello with the identity to resume, and the
 * schema check of every notice. It knows nothing of training.
 */
export class CoordinatorConnection {
  private socket: WorkerSocket | undefined;
  private closed = false;
  private connectFailures = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private identity: { workerId: string; secret: string } | undefined;

  constructor(
    private readonly namespaceUrl: URL,
    private readonly timing: ConnectionTiming,
    private readonly random: () => number,
    private readonly events: ConnectionEvents,
  ) {}

  /** The coordinator's origin, for messages. */
  get origin(): string {
    return this.namespaceUrl.origin;
  }

  /** Whether the socket is connected now. */
  get connected(): boolean {
    return this.socket?.connected === true;
  }

  private isConnected(): boolean {
    return this.socket?.connected === true;
  }

  /** Creates the socket and connects (once). */
  open(): void {
    if (this.socket !== undefined) return;
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
    socket.connect();
  }

  /** Closes the socket cleanly (the coordinator sees a normal disconnect); for good. */
  close(): void {
    this.closed = true;
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.socket?.disconnect();
  }

  /**
   * Sends one request and returns the raw answer (validate it!); a lost connection or a
   * missing ack becomes an {@link Interruption}.
   */
  async request(
    event: string,
    message: unknown,
    send: (socket: WorkerSocket) => Promise<unknown>,
  ): Promise<unknown> {
    const socket = this.socket;
    if (socket === undefined || !this.connected) {
      throw new Interruption('disconnected', 'not connected');
    }
    this.events.sent(event, message);
    let raw: unknown;
    try {
      raw = await send(socket);
    } catch (error) {
      if (this.closed) throw new Interruption('stopped', 'stopped');
      // Re-read through a call: the check above does not hold across the await.
      if (!this.isConnected()) throw new Interruption('disconnected', describeError(error));
      throw new Interruption(
        'ack-timeout',
        `no answer from the coordinator (${describeError(error)})`,
      );
    }
    this.events.received(event, raw);
    return raw;
  }

  /**
   * Says hello (with `resume` once the worker has an identity, so the coordinator keeps
   * its id and last seq) and checks the welcome.
   *
   * @throws {@link SessionError} `protocol-version` (fatal), `hello-refused`, `invalid-reply`;
   *   an {@link Interruption} when the connection fails.
   */
  async hello(facts: HelloFacts): Promise<HelloResult> {
    const hello: Hello = {
      type: 'hello',
      protocolVersion: PROTOCOL_VERSION,
      client: {
        kind: facts.client.kind,
        description: facts.client.description.slice(0, MAX_DESCRIPTION),
      },
      backend: facts.backend.name,
      ...(facts.backend.reason === undefined
        ? {}
        : { backendReason: facts.backend.reason.slice(0, MAX_BACKEND_REASON) }),
      capabilities: facts.capabilities,
      ...(facts.speedProbe === undefined ? {} : { speedProbe: facts.speedProbe }),
      ...(this.identity === undefined ? {} : { resume: this.identity }),
    };
    const raw = await this.request('hello', hello, (socket) =>
      socket.timeout(this.timing.requestTimeoutMs).emitWithAck('hello', hello),
    );
    const reply = unwrap(safeParseMessage(WelcomeSchema.or(ErrorReplySchema), raw, 'hello reply'));
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
    const resumed = this.identity === undefined || this.identity.workerId === reply.workerId;
    this.identity = { workerId: reply.workerId, secret: reply.secret };
    return { welcome: reply, resumed };
  }

  private listen(socket: WorkerSocket): void {
    socket.on('connect', () => {
      this.connectFailures = 0;
      this.events.connected();
    });
    socket.on('disconnect', (reason) => {
      // Packets emitted while offline would go out before the next hello: drop them.
      socket.sendBuffer = [];
      if (this.closed) return;
      this.events.disconnected(reason);
      // socket.io reconnects by itself except after a disconnect the server asked for.
      if (reason === 'io server disconnect') this.scheduleConnect();
    });
    socket.on('connect_error', (error) => {
      this.connectFailures++;
      this.events.connectFailed(
        `cannot reach the coordinator at ${this.namespaceUrl.origin} (${describeConnectError(error)}); retrying with backoff, attempt ${this.connectFailures}`,
        this.connectFailures,
      );
      // Refused by a server middleware: socket.io does not retry that by itself.
      if (!socket.active) this.scheduleConnect();
    });
    socket.on('phase', (raw) => {
      this.events.received('phase', raw);
      const notice = this.valid(safeParseMessage(PhaseNoticeSchema, raw, 'phase notice'));
      if (notice !== undefined) this.events.phase(notice);
    });
    socket.on('version', (raw) => {
      this.events.received('version', raw);
      const notice = this.valid(safeParseMessage(VersionNoticeSchema, raw, 'version notice'));
      if (notice !== undefined) this.events.version(notice);
    });
    socket.on('run-ended', (raw) => {
      this.events.received('run-ended', raw);
      const notice = this.valid(safeParseMessage(RunEndedSchema, raw, 'run-ended notice'));
      if (notice !== undefined) this.events.runEnded(notice);
    });
  }

  private valid<T>(result: ParseResult<T>): T | undefined {
    if (result.ok) return result.value;
    this.events.invalidNotice(result.error.message);
    return undefined;
  }

  private scheduleConnect(): void {
    if (this.closed || this.reconnectTimer !== undefined) return;
    const delay = backoffDelayMs(this.connectFailures, this.timing.reconnect, this.random);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.closed) this.socket?.connect();
    }, delay);
  }
}

/** A reply that fails its schema is a coordinator bug: a typed error, retried with backoff. */
export function unwrap<T>(result: ParseResult<T>): T {
  if (!result.ok) {
    throw new SessionError('invalid-reply', result.error.message, { cause: result.error });
  }
  return result.value;
}
