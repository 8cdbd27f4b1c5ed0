import type { MetricsPoint, RunEventNotice, RunSummary, WorkerSummary } from '@vtrain/protocol';

/*
 * What the run view knows of one run, and how each message of the dashboard
 * namespace changes it. A pure reducer, so ordering rules (replace on
 * subscribe, append only newer points, ignore other runs) are unit tested.
 */

export interface RunSubscriptionState {
  readonly run: RunSummary | undefined;
  readonly metrics: readonly MetricsPoint[];
  /** The worker table; undefined until the coordinator sends one (researcher token only). */
  readonly workers: readonly WorkerSummary[] | undefined;
  /** What the coordinator did to the run on its own while watched (rollbacks), oldest first. */
  readonly events: readonly RunEventNotice[];
  /** A failure to subscribe (unknown run, timeout); the view shows it instead of charts. */
  readonly error: string | undefined;
  /** A notice that failed validation and was ignored; shown, since data is missing. */
  readonly warning: string | undefined;
}

export type RunSubscriptionEvent =
  | {
      readonly type: 'subscribed';
      readonly run: RunSummary;
      readonly metrics: readonly MetricsPoint[];
      readonly workers?: readonly WorkerSummary[] | undefined;
    }
  | { readonly type: 'failed'; readonly message: string }
  | { readonly type: 'metrics'; readonly point: MetricsPoint }
  | { readonly type: 'workers'; readonly runId: string; readonly workers: readonly WorkerSummary[] }
  | { readonly type: 'run-status'; readonly run: RunSummary }
  | { readonly type: 'run-event'; readonly event: RunEventNotice }
  | { readonly type: 'invalid'; readonly message: string };

/** Events a run view keeps. */
const MAX_EVENTS = 20;

export function initialSubscriptionState(runId: string): RunSubscriptionState & { runId: string } {
  return {
    runId,
    run: undefined,
    metrics: [],
    workers: undefined,
    events: [],
    error: undefined,
    warning: undefined,
  };
}

/** The latest version seen, from the run summary or a later metrics point. */
export function currentVersion(state: RunSubscriptionState): number | undefined {
  const fromMetrics = state.metrics.at(-1)?.version;
  const fromRun = state.run?.version;
  if (fromMetrics === undefined) return fromRun;
  return Math.max(fromMetrics, fromRun ?? 0);
}

export function subscriptionReducer<S extends RunSubscriptionState & { readonly runId: string }>(
  state: S,
  event: RunSubscriptionEvent,
): S {
  switch (event.type) {
    case 'subscribed':
      // A (re)subscription answers the whole series so far: it replaces, never merges.
      if (event.run.id !== state.runId) return state;
      return {
        ...state,
        run: event.run,
        metrics: event.metrics,
        workers: event.workers,
        error: undefined,
      };
    case 'failed':
      return { ...state, error: event.message };
    case 'metrics': {
      if (event.point.runId !== state.runId) return state;
      const last = state.metrics.at(-1);
      // A point already in the subscription answer may also come as a notice.
      if (last !== undefined && event.point.at <= last.at) return state;
      const run =
        state.run && event.point.version > state.run.version
          ? { ...state.run, version: event.point.version, activeWorkers: event.point.activeWorkers }
          : state.run;
      return { ...state, run, metrics: [...state.metrics, event.point] };
    }
    case 'workers':
      if (event.runId !== state.runId) return state;
      return { ...state, workers: event.workers };
    case 'run-status':
      if (event.run.id !== state.runId) return state;
      return { ...state, run: event.run };
    case 'run-event':
      if (event.event.runId !== state.runId) return state;
      return { ...state, events: [...state.events, event.event].slice(-MAX_EVENTS) };
    case 'invalid':
      return { ...state, warning: event.message };
  }
}
