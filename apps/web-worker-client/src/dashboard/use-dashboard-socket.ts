import { useEffect, useMemo, useState } from 'react';
import { createDashboardSocket, type DashboardSocket } from './dashboard-socket.js';

export interface SocketState {
  readonly socket: DashboardSocket;
  readonly connected: boolean;
  /** Why the last connection attempt failed; socket.io keeps retrying meanwhile. */
  readonly error: string | undefined;
}

/** One dashboard socket per token, connected while the component is mounted. */
export function useDashboardSocket(token: string): SocketState {
  const socket = useMemo(() => createDashboardSocket(token), [token]);
  const [status, setStatus] = useState<{ connected: boolean; error: string | undefined }>({
    connected: false,
    error: undefined,
  });

  useEffect(() => {
    const onConnect = (): void => {
      setStatus({ connected: true, error: undefined });
    };
    const onDisconnect = (reason: string): void => {
      setStatus({ connected: false, error: `disconnected (${reason}), reconnecting...` });
    };
    const onConnectError = (error: Error): void => {
      setStatus({ connected: false, error: `cannot reach the coordinator: ${error.message}` });
    };
    socket.on('connect', onConnect);
    socket.on('disconnect', onDisconnect);
    socket.on('connect_error', onConnectError);
    socket.connect();
    return () => {
      socket.off('connect', onConnect);
      socket.off('disconnect', onDisconnect);
      socket.off('connect_error', onConnectError);
      socket.disconnect();
    };
  }, [socket]);

  return { socket, connected: status.connected, error: status.error };
}
