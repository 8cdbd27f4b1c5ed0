import type { Socket } from 'socket.io';

/**
 * The engine.io parts that hold what a connection has not yet taken: packets
 * waiting for the transport (`writeBuffer`) and, on a websocket, the bytes ws
 * has queued but the peer has not read (`bufferedAmount`). Not in socket.io's
 * typings for the transport's socket; both are plain engine.io / ws fields.
 */
interface EngineConnection {
  readonly writeBuffer?: readonly { readonly data?: unknown }[];
  readonly transport?: { readonly socket?: { readonly bufferedAmount?: number } };
}

function packetBytes(data: unknown): number {
  if (typeof data === 'string') return data.length;
  if (data instanceof ArrayBuffer) return data.byteLength;
  if (ArrayBuffer.isView(data)) return data.byteLength;
  return 64; // a control packet
}

/**
 * Bytes the coordinator has queued for a peer that it has not read yet. A
 * client that stops reading (a stalled or hostile socket) while it keeps
 * asking for weights would otherwise grow this, and server memory, without bound.
 */
export function queuedBytes(socket: Socket): number {
  const connection = socket.conn as unknown as EngineConnection;
  let bytes = connection.transport?.socket?.bufferedAmount ?? 0;
  for (const packet of connection.writeBuffer ?? []) bytes += packetBytes(packet.data);
  return bytes;
}
