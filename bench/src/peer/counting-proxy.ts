import { createConnection, createServer, type Server, type Socket } from 'node:net';

/** What a TCP connection carries, from the first request line its client sent. */
export type ConnectionKind = 'socket.io-websocket' | 'socket.io-polling' | 'http';

/** Byte totals of one direction. `up` is client to coordinator, `down` the way back. */
export interface Directed {
  up: number;
  down: number;
}

/** Bytes and WebSocket frames of one kind of socket.io traffic, both directions. */
export interface MessageTally {
  bytes: Directed;
  frames: Directed;
}

/** One connection as the proxy saw it. */
export interface ConnectionRecord {
  readonly kind: ConnectionKind;
  /** The client's first request line, e.g. `GET /api/runs/x/shards/3 HTTP/1.1`. */
  readonly requestLine: string;
  readonly openedAt: number;
  closedAt: number | undefined;
  bytes: Directed;
  /** Sum of `samples` and `computeMs` over the `update` events this connection pushed. */
  updates: { count: number; samples: number; computeMs: number; firstAt: number; lastAt: number };
}

/**
 * A TCP proxy (`node:net`) between workers and the coordinator that counts
 * every byte per direction and per connection, and parses the WebSocket
 * frames of socket.io connections to break their bytes down by message:
 * the HTTP upgrade, engine.io open / ping / pong, socket.io connect, each
 * event by name (`update`, `pull`, `hello`, `version`...), each
 * acknowledgement by the event it answers (`update:ack`...); the binary
 * attachments that follow an event are counted under its name and their
 * codec (`pull:ack, binary dense weights`), the event's own text frame (its
 * JSON envelope) under the bare name. A frame's bytes include
 * its WebSocket header (2 to 14 bytes), so the tallies add up to the
 * connection's bytes exactly.
 */
export class CountingProxy {
  readonly connections: ConnectionRecord[] = [];
  /** socket.io bytes by message kind, over every websocket connection. */
  readonly messages = new Map<string, MessageTally>();
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private listeningPort = 0;

  private constructor(target: { host: string; port: number }) {
    this.server = createServer((client) => {
      this.accept(client, target);
    });
  }

  /** Listens on 127.0.0.1 (a free port) and forwards every connection to `target`. */
  static async start(target: { host: string; port: number }): Promise<CountingProxy> {
    const proxy = new CountingProxy(target);
    await new Promise<void>((resolve, reject) => {
      proxy.server.once('error', reject);
      proxy.server.listen(0, '127.0.0.1', () => {
        resolve();
      });
    });
    const address = proxy.server.address();
    if (!address || typeof address !== 'object') throw new Error('proxy has no port');
    proxy.listeningPort = address.port;
    return proxy;
  }

  get port(): number {
    return this.listeningPort;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Totals per connection kind. */
  totals(): Record<ConnectionKind, Directed & { connections: number }> {
    const out: Record<ConnectionKind, Directed & { connections: number }> = {
      'socket.io-websocket': { up: 0, down: 0, connections: 0 },
      'socket.io-polling': { up: 0, down: 0, connections: 0 },
      http: { up: 0, down: 0, connections: 0 },
    };
    for (const c of this.connections) {
      out[c.kind].up += c.bytes.up;
      out[c.kind].down += c.bytes.down;
      out[c.kind].connections += 1;
    }
    return out;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => {
      this.server.close(() => {
        resolve();
      });
    });
  }

  private accept(client: Socket, target: { host: string; port: number }): void {
    const upstream = createConnection(target);
    this.sockets.add(client);
    this.sockets.add(upstream);
    let record: ConnectionRecord | undefined;
    let head: Buffer = Buffer.alloc(0);
    const held: Buffer[] = [];
    const tally = (direction: 'up' | 'down', chunk: Buffer): void => {
      if (record) record.bytes[direction] += chunk.length;
    };
    let upParser: FrameParser | undefined;
    let downParser: FrameParser | undefined;

    client.on('data', (chunk: Buffer) => {
      if (!record) {
        // Classify on the first request line; hold the bytes until it is complete.
        head = Buffer.concat([head, chunk]);
        held.push(chunk);
        const end = head.indexOf('\r\n');
        if (end === -1 && head.length < 8192) return;
        const requestLine = head.subarray(0, end === -1 ? head.length : end).toString('latin1');
        record = {
          kind: classify(requestLine),
          requestLine,
          openedAt: Date.now(),
          closedAt: undefined,
          bytes: { up: 0, down: 0 },
          updates: { count: 0, samples: 0, computeMs: 0, firstAt: 0, lastAt: 0 },
        };
        this.connections.push(record);
        if (record.kind === 'socket.io-websocket') {
          const pendingAcks = new Map<string, string>();
          upParser = new FrameParser('up', this.messages, pendingAcks, record);
          downParser = new FrameParser('down', this.messages, pendingAcks, record);
        }
        for (const part of held) {
          tally('up', part);
          upParser?.push(part);
          upstream.write(part);
        }
        held.length = 0;
        return;
      }
      tally('up', chunk);
      upParser?.push(chunk);
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      tally('down', chunk);
      downParser?.push(chunk);
      client.write(chunk);
    });
    const finish = (): void => {
      if (record && record.closedAt === undefined) record.closedAt = Date.now();
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('close', finish);
    upstream.on('close', finish);
    client.on('error', finish);
    upstream.on('error', finish);
  }
}

function classify(requestLine: string): ConnectionKind {
  const target = requestLine.split(' ')[1] ?? '';
  if (target.startsWith('/socket.io/')) {
    return target.includes('transport=websocket') ? 'socket.io-websocket' : 'socket.io-polling';
  }
  return 'http';
}

function tallyOf(messages: Map<string, MessageTally>, kind: string): MessageTally {
  let tally = messages.get(kind);
  if (!tally) {
    tally = { bytes: { up: 0, down: 0 }, frames: { up: 0, down: 0 } };
    messages.set(kind, tally);
  }
  return tally;
}

/**
 * Parses one direction of a WebSocket connection: the HTTP upgrade head, then
 * frames (RFC 6455 section 5.2), unmasking the client's. Text frames are
 * engine.io packets; a socket.io packet inside names its event (or, for an
 * ack, the id whose event the other direction named); binary frames are the
 * attachments of the last binary event or ack.
 */
class FrameParser {
  private buffer: Buffer = Buffer.alloc(0);
  private inHead = true;
  /** Kind the next binary frames belong to, and how many are still due. */
  private attachmentKind = 'binary (unattributed)';
  private attachmentsDue = 0;

  constructor(
    private readonly direction: 'up' | 'down',
    private readonly messages: Map<string, MessageTally>,
    /** Ack id (per direction of the emit) to event name; shared by both parsers of a connection. */
    private readonly pendingAcks: Map<string, string>,
    private readonly record: ConnectionRecord,
  ) {}

  push(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (this.inHead) {
        const end = this.buffer.indexOf('\r\n\r\n');
        if (end === -1) return;
        this.count('websocket upgrade (HTTP)', end + 4);
        this.buffer = this.buffer.subarray(end + 4);
        this.inHead = false;
        continue;
      }
      const frame = readFrame(this.buffer);
      if (!frame) return;
      this.buffer = this.buffer.subarray(frame.size);
      this.count(this.kindOf(frame.opcode, frame.payload), frame.size);
    }
  }

  private count(kind: string, bytes: number): void {
    const tally = tallyOf(this.messages, kind);
    tally.bytes[this.direction] += bytes;
    tally.frames[this.direction] += 1;
  }

  private kindOf(opcode: number, payload: Buffer): string {
    if (opcode === 0x8) return 'websocket close';
    if (opcode === 0x9 || opcode === 0xa) return 'websocket ping/pong';
    if (opcode === 0x2 || opcode === 0x0) {
      if (this.attachmentsDue > 0) {
        this.attachmentsDue -= 1;
        return `${this.attachmentKind}, binary ${payloadFormat(payload)}`;
      }
      return 'binary (unattributed)';
    }
    const text = payload.toString('utf8');
    switch (text[0]) {
      case '0':
        return 'engine.io open';
      case '2':
      case '3':
        return 'engine.io ping/pong';
      case '4':
        return this.socketIoKind(text.slice(1));
      default:
        return `engine.io other (${text.charAt(0)})`;
    }
  }

  /** `<type>[<attachments>-][<nsp>,][<id>]<json>` (socket.io protocol v5). */
  private socketIoKind(packet: string): string {
    const type = packet.charAt(0);
    let rest = packet.slice(1);
    let attachments = 0;
    const dash = /^(\d+)-/.exec(rest);
    if ((type === '5' || type === '6') && dash) {
      attachments = Number(dash[1]);
      rest = rest.slice(dash[0].length);
    }
    if (rest.startsWith('/')) {
      const comma = rest.indexOf(',');
      rest = comma === -1 ? '' : rest.slice(comma + 1);
    }
    const idMatch = /^\d+/.exec(rest);
    const id = idMatch?.[0];
    const json = id === undefined ? rest : rest.slice(id.length);
    let kind: string;
    if (type === '0') kind = 'socket.io connect';
    else if (type === '1') kind = 'socket.io disconnect';
    else if (type === '4') kind = 'socket.io connect error';
    else if (type === '2' || type === '5') {
      const name = eventName(json);
      kind = name;
      // The other direction answers with the same id.
      if (id !== undefined) this.pendingAcks.set(`${this.direction}:${id}`, name);
      if (name === 'update' && this.direction === 'up') this.countUpdate(json);
    } else if (type === '3' || type === '6') {
      const other = this.direction === 'up' ? 'down' : 'up';
      const key = `${other}:${id ?? ''}`;
      kind = `${this.pendingAcks.get(key) ?? 'unknown'}:ack`;
      this.pendingAcks.delete(key);
    } else kind = `socket.io type ${type}`;
    if (attachments > 0) {
      this.attachmentKind = kind;
      this.attachmentsDue = attachments;
    }
    return kind;
  }

  private countUpdate(json: string): void {
    try {
      const parsed = JSON.parse(json) as [string, { samples?: unknown; computeMs?: unknown }];
      const body = parsed[1];
      const now = Date.now();
      const u = this.record.updates;
      if (u.count === 0) u.firstAt = now;
      u.lastAt = now;
      u.count += 1;
      if (typeof body.samples === 'number') u.samples += body.samples;
      if (typeof body.computeMs === 'number') u.computeMs += body.computeMs;
    } catch {
      // Not ours to validate: the coordinator answers a malformed update itself.
    }
  }
}

/** The binary codec a payload starts with (packages/protocol/SPEC-binary.md): its magic byte. */
function payloadFormat(payload: Buffer): string {
  if (payload[0] === 0x57) return 'dense weights';
  if (payload[0] === 0x53) return 'sparse';
  return 'other';
}

function eventName(json: string): string {
  const match = /^\["([^"]*)"/.exec(json);
  return match?.[1] ?? 'unknown event';
}

/** One complete frame at the start of `buffer`, or undefined if more bytes are needed. */
function readFrame(buffer: Buffer): { opcode: number; payload: Buffer; size: number } | undefined {
  if (buffer.length < 2) return undefined;
  const opcode = buffer[0] & 0x0f;
  const masked = (buffer[1] & 0x80) !== 0;
  let length = buffer[1] & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (buffer.length < 4) return undefined;
    length = buffer.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (buffer.length < 10) return undefined;
    length = Number(buffer.readBigUInt64BE(2));
    offset = 10;
  }
  const maskOffset = offset;
  if (masked) offset += 4;
  const size = offset + length;
  if (buffer.length < size) return undefined;
  let payload = buffer.subarray(offset, size);
  if (masked) {
    // Text frames are read whole; of a binary one only the first byte (the codec's magic).
    const mask = buffer.subarray(maskOffset, maskOffset + 4);
    payload = Buffer.from(opcode === 0x1 ? payload : payload.subarray(0, 1));
    for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3];
  }
  return { opcode, payload, size };
}
