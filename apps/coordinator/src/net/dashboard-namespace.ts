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
import { RateLimiter } from './rate-limiter.js';
import { tokenMatches, type FailedTokenThrottle } from './researcher-token.js';

type DashboardSocket = Socket<DashboardClientToServerEvents, DashboardServerToClientEvents>;
export type DashboardNamespace = Namespace<
  DashboardClientToServerEvents,
  DashboardServerToClientEvents
>;

/** A dashboard asks for a run now and then; each subscribe reads the run's metrics from the database. */
const RATE_PER_SECOND = 10;
const RATE_BURST = 30;

/** The events a dashboard may send. */
const DASHBOARD_EVENTS: ReadonlySet<string> = new Set<keyof DashboardClientToServerEvents>([
  'subscribe',
  'stop-run',
]);

export function dashboardRoom(runId: string): string {
  return `dashboard:${runId}`;
}

/** The researchers following a run: only they get its worker table. */
export function dashboardWorkersRoom(runId: string): string {
  return `dashboard-workers:${runId}`;
}

/** The acknowledgement callback of a request; requests without one are ignored. */
function replier(callback: unknown): ((reply: unknown) => void) | undefined {
  return typeof callback === 'function' ? (callback as (reply: unknown) => void) : undefined;
}

function errorReply(code: ErrorReply['code'], message: string): ErrorReply {
  return { type: 'error', code, message };
}

/**
 * The dashboard namespace: anyone may watch runs (series and counts); the worker table and
 * researcher actions need the token given as `auth: { token }` when connecting. A wrong
 * token connects as an anonymous viewer and counts against the address in `throttle`
 * (shared with the HTTP API); a throttled address is not even compared.
 */
export function attachDashboardNamespace(
  io: Server,
  manager: RunManager,
  token: string,
  throttle: FailedTokenThrottle,
): DashboardNamespace {
  const namespace: DashboardNamespace = io.of(DASHBOARD_NAMESPACE);
  namespace.on('connection', (socket: DashboardSocket) => {
    const auth = socket.handshake.auth as Record<string, unknown>;
    const address = socket.handshake.address;
    let researcher = false;
    if (auth.token !== undefined && throttle.allows(address)) {
      researcher = tokenMatches(auth.token, token);
      if (!researcher) throttle.failed(address);
    }
    const limiter = new RateLimiter(RATE_BURST, RATE_PER_SECOND, Date.now());

    // Rate-limits every event; unknown ones and requests without an ack end the connection.
    socket.use(([event, ...args], next) => {
      const ack = replier(args.at(-1));
      if (!DASHBOARD_EVENTS.has(event) || !ack) {
        socket.disconnect(true);
        return;
      }
      if (!limiter.allow(Date.now())) {
        ack(errorReply('rate-limited', 'too many requests: slow down'));
        if (limiter.refusedInARow >= RATE_BURST) socket.disconnect(true);
        return;
      }
      next();
    });

    socket.on('subscribe', (message: unknown, callback: unknown) => {
      const ack = replier(callback);
      if (!ack) return; // unreachable: the middleware cut it
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
      if (researcher) void socket.join(dashboardWorkersRoom(run.id));
      ack({
        type: 'subscribed',
        run,
        metrics: manager.metrics(run.id),
        ...(researcher ? { workers: manager.workers(run.id) } : {}),
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
