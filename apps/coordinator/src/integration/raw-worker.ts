import {
  PROTOCOL_VERSION,
  WORKER_NAMESPACE,
  encodeSparseUpdate,
  type Hello,
  type Welcome,
  type WorkerClientToServerEvents,
  type WorkerServerToClientEvents,
} from '@vtrain/protocol';
import { io, type Socket } from 'socket.io-client';

export type RawSocket = Socket<WorkerServerToClientEvents, WorkerClientToServerEvents>;

/** A protocol-level client driven by hand: tests decide every message it sends. */
export function connectRawWorker(
  url: string,
  options: { extraHeaders?: Record<string, string> } = {},
): Promise<RawSocket> {
  return connectSocket<RawSocket>(url, WORKER_NAMESPACE, options);
}

/** Connects a socket.io client to a namespace; rejects with the server's refusal. */
export async function connectSocket<S extends Socket>(
  url: string,
  namespace: string,
  options: { extraHeaders?: Record<string, string>; auth?: Record<string, unknown> } = {},
): Promise<S> {
  const socket = io(new URL(namespace, url).href, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    ...options,
  }) as S;
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => {
      resolve();
    });
    socket.once('connect_error', (error) => {
      socket.disconnect();
      reject(error);
    });
  });
  return socket;
}

export const HELLO: Hello = {
  type: 'hello',
  protocolVersion: PROTOCOL_VERSION,
  client: { kind: 'node', description: 'integration test' },
  backend: 'cpu',
  capabilities: {},
};

/** An update touching the given coordinates with the given values. */
export function sparsePayload(
  length: number,
  entries: [number, number][],
  valueFormat: 'f32' | 'f16' = 'f32',
): Uint8Array {
  return encodeSparseUpdate(
    {
      length,
      indices: Uint32Array.from(entries.map(([i]) => i)),
      values: Float32Array.from(entries.map(([, v]) => v)),
    },
    { valueFormat },
  );
}

/** Says hello (resuming `resume`'s identity when given) and returns the welcome; throws on a refusal. */
export async function welcomed(socket: RawSocket, resume?: Welcome): Promise<Welcome> {
  const reply = await socket.emitWithAck('hello', {
    ...HELLO,
    ...(resume ? { resume: { workerId: resume.workerId, secret: resume.secret } } : {}),
  });
  if (reply.type !== 'welcome') throw new Error(`hello refused: ${reply.message}`);
  return reply as Welcome;
}

/** Whether two weight vectors are equal bit for bit (-0 and NaN payloads included). */
export function sameBits(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  );
}
