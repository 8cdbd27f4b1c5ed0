import {
  DASHBOARD_NAMESPACE,
  type DashboardClientToServerEvents,
  type DashboardServerToClientEvents,
} from '@vtrain/protocol';
import { io, type Socket } from 'socket.io-client';

/** The dashboard namespace's socket, typed by the protocol's event maps (listen, emit). */
export type DashboardSocket = Socket<DashboardServerToClientEvents, DashboardClientToServerEvents>;

/** How long a request waits for its acknowledgement before it counts as failed. */
export const ACK_TIMEOUT_MS = 10_000;

/**
 * A socket to the same origin's dashboard namespace, not yet connected (the
 * owner connects it in an effect, so React's mount/unmount decides its life).
 * The token rides in `auth`: the coordinator checks it for researcher actions.
 * WebSocket only: no long-polling fallback to keep sticky sessions for.
 */
export function createDashboardSocket(token: string): DashboardSocket {
  return io(DASHBOARD_NAMESPACE, {
    auth: { token },
    transports: ['websocket'],
    autoConnect: false,
  });
}
