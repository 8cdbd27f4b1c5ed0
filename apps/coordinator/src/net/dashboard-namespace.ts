import {
  DASHBOARD_NAMESPACE,
  StopRunSchema,
  SubscribeSchema,
  safeParseMessage,
  type DashboardClientToServerEvents,
  type DashboardServerToClientEvents,
  type ErrorReply,
} from '@vtrain/protocol';
import type { Namespace, Server, Socket } from 'socket.io';
import type { RunManager } from '../runs/run-manager.js';
import { tokenMatches } from './researcher-token.js';

type DashboardSocket = Socket<DashboardClientToServerEvents, DashboardServerToClientEvents>;
export type DashboardNamespace = Namespace<
  DashboardClientToServerEvents,
  DashboardServerToClientEvents
>;

export function dashboardRoom(runId: string): string {
  return `dashboard:${runId}`;
}

/** The acknowledgement callback of a request; requests without one are ignored. */
function replier(callback: unknown): ((reply: unknown) => void) | undefined {
  return typeof callback === 'function' ? (callback as (reply: unknown) => void) : undefined;
}

function errorReply(code: ErrorReply['code'], message: string): ErrorReply {
  return { type: 'error', code, message };
}

/**
 * The dashboard namespace: anyone may watch runs; researcher actions need the
 * token given as `auth: { token }` when connecting.
 */
export function attachDashboardNamespace(
  io: Server,
  manager: RunManager,
  token: string,
): DashboardNamespace {
  const namespace: DashboardNamespace = io.of(DASHBOARD_NAMESPACE);
  namespace.on('connection', (socket: DashboardSocket) => {
    const auth = socket.handshake.auth as Record<string, unknown>;
    const researcher = tokenMatches(auth.token, token);

    socket.on('subscribe', (message: unknown, callback: unknown) => {
      const ack = replier(callback);
      if (!ack) return;
      const parsed = safeParseMessage(SubscribeSchema, message, 'subscribe');
      if (!parsed.ok) {
        ack(errorReply('invalid-message', parsed.error.message));
        return;
      }
      const run = manager.getRun(parsed.value.runId);
      if (!run) {
        ack(errorReply('not-found', `no run ${parsed.value.runId}`));
        return;
      }
      void socket.join(dashboardRoom(run.id));
      ack({
        type: 'subscribed',
        run,
        metrics: manager.metrics(run.id),
        workers: manager.workers(run.id),
      });
    });

    socket.on('stop-run', (message: unknown, callback: unknown) => {
      const ack = replier(callback);
      if (!ack) return;
      if (!researcher) {
        ack(errorReply('unauthorized', 'stopping a run needs the researcher token'));
        return;
      }
      const parsed = safeParseMessage(StopRunSchema, message, 'stop-run');
      if (!parsed.ok) {
        ack(errorReply('invalid-message', parsed.error.message));
        return;
      }
      void manager.stopRun(parsed.value.runId).then((stopped) => {
        ack(stopped ? { type: 'ok' } : errorReply('not-found', 'no such active run'));
      });
    });
  });
  return namespace;
}
