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
export async function connectRawWorker(url: string): Promise<RawSocket> {
  const socket: RawSocket = io(new URL(WORKER_NAMESPACE, url).href, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => {
      resolve();
    });
    socket.once('connect_error', reject);
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
