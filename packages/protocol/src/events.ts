import type * as z from 'zod';
import {
  ErrorReplySchema,
  HelloSchema,
  PhaseNoticeSchema,
  PullRequestSchema,
  RunEndedSchema,
  UpdateAckSchema,
  UpdatePushSchema,
  UpdateRejectSchema,
  VersionNoticeSchema,
  WeightsSchema,
  WelcomeSchema,
} from './messages.js';
import {
  MetricsPointSchema,
  OkReplySchema,
  RunEventNoticeSchema,
  RunStatusNoticeSchema,
  StopRunSchema,
  SubscribeSchema,
  SubscribedSchema,
  WorkersNoticeSchema,
} from './dashboard.js';

/*
 * The socket.io contract, written once as data: for each event, the schema of
 * what is sent and, for requests, the schema of the acknowledgement. The
 * receiver validates with the same table it is typed by, and the typed event
 * maps for `Server<...>` / `Socket<...>` are derived from it below, so a
 * schema change cannot drift from the types.
 */

/** socket.io namespace of training workers (anonymous, rate- and size-limited). */
export const WORKER_NAMESPACE = '/worker';
/** socket.io namespace of dashboards (researcher token for actions). */
export const DASHBOARD_NAMESPACE = '/dashboard';

/** A request with an acknowledgement. */
interface Request {
  readonly request: z.ZodType;
  readonly reply: z.ZodType;
}

/** Worker -> coordinator requests. */
export const workerRequests = {
  hello: { request: HelloSchema, reply: WelcomeSchema.or(ErrorReplySchema) },
  pull: { request: PullRequestSchema, reply: WeightsSchema.or(ErrorReplySchema) },
  update: { request: UpdatePushSchema, reply: UpdateAckSchema.or(UpdateRejectSchema) },
} as const satisfies Record<string, Request>;

/** Coordinator -> worker notices. */
export const workerNotices = {
  phase: PhaseNoticeSchema,
  version: VersionNoticeSchema,
  'run-ended': RunEndedSchema,
} as const satisfies Record<string, z.ZodType>;

/** Dashboard -> coordinator requests. */
export const dashboardRequests = {
  subscribe: { request: SubscribeSchema, reply: SubscribedSchema.or(ErrorReplySchema) },
  'stop-run': { request: StopRunSchema, reply: OkReplySchema.or(ErrorReplySchema) },
} as const satisfies Record<string, Request>;

/** Coordinator -> dashboard notices. */
export const dashboardNotices = {
  metrics: MetricsPointSchema,
  'run-status': RunStatusNoticeSchema,
  workers: WorkersNoticeSchema,
  'run-event': RunEventNoticeSchema,
} as const satisfies Record<string, z.ZodType>;

/** Listener map for requests: the sender emits `z.input` of the request, gets `z.output` of the reply. */
export type RequestEvents<T extends Record<string, Request>> = {
  [E in keyof T]: (
    message: z.input<T[E]['request']>,
    ack: (reply: z.input<T[E]['reply']>) => void,
  ) => void;
};

/** Listener map for notices. */
export type NoticeEvents<T extends Record<string, z.ZodType>> = {
  [E in keyof T]: (message: z.input<T[E]>) => void;
};

/** `Server<WorkerClientToServerEvents, WorkerServerToClientEvents>` on the worker namespace. */
export type WorkerClientToServerEvents = RequestEvents<typeof workerRequests>;
export type WorkerServerToClientEvents = NoticeEvents<typeof workerNotices>;
export type DashboardClientToServerEvents = RequestEvents<typeof dashboardRequests>;
export type DashboardServerToClientEvents = NoticeEvents<typeof dashboardNotices>;
