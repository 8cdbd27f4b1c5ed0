import {
  PROTOCOL_VERSION,
  WORKER_NAMESPACE,
  encodeSparseUpdate,
  type Hello,
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
