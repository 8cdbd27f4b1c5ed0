import {
  ErrorReplySchema,
  MetricsPointSchema,
  RunEventNoticeSchema,
  RunStatusNoticeSchema,
  SubscribedSchema,
  WorkersNoticeSchema,
} from '@vtrain/protocol';
import { useEffect, useReducer } from 'react';
import { ACK_TIMEOUT_MS, type DashboardSocket } from './dashboard-socket.js';
import {
  initialSubscriptionState,
  subscriptionReducer,
  type RunSubscriptionState,
} from './run-subscription-state.js';

const SubscribeReplySchema = SubscribedSchema.or(ErrorReplySchema);

/**
 * Follows one run over the dashboard socket: subscribes (again after every
 * reconnect, since the coordinator forgets a socket's rooms with it), then
 * applies `metrics`, `workers`, `run-status` and `run-event` notices. Everything received
 * is validated against the protocol's schemas; an invalid notice is dropped
 * and reported, never drawn. Mount it under a `key` of the run id, so a new
 * run starts from an empty state.
 */
export function useRunSubscription(socket: DashboardSocket, runId: string): RunSubscriptionState {
  const [state, dispatch] = useReducer(subscriptionReducer, runId, initialSubscriptionState);

  useEffect(() => {
    let live = true;
    const subscribe = (): void => {
      socket
        .timeout(ACK_TIMEOUT_MS)
        .emitWithAck('subscribe', { type: 'subscribe', runId })
        .then(
          (reply: unknown) => {
            if (!live) return;
            const parsed = SubscribeReplySchema.safeParse(reply);
            if (!parsed.success) {
              dispatch({
                type: 'failed',
                message: `invalid subscribe answer: ${parsed.error.message}`,
              });
            } else if (parsed.data.type === 'error') {
              dispatch({ type: 'failed', message: `${parsed.data.message} (${parsed.data.code})` });
            } else {
              dispatch({ ...parsed.data, type: 'subscribed' });
            }
          },
          (error: unknown) => {
            if (!live) return;
            dispatch({
              type: 'failed',
              message: `subscribing to run ${runId} failed: ${String(error)}`,
            });
          },
        );
    };
    const onMetrics = (message: unknown): void => {
      const parsed = MetricsPointSchema.safeParse(message);
      if (parsed.success) dispatch({ type: 'metrics', point: parsed.data });
      else
        dispatch({ type: 'invalid', message: `ignored invalid metrics: ${parsed.error.message}` });
    };
    const onWorkers = (message: unknown): void => {
      const parsed = WorkersNoticeSchema.safeParse(message);
      if (parsed.success) dispatch({ ...parsed.data, type: 'workers' });
      else
        dispatch({ type: 'invalid', message: `ignored invalid workers: ${parsed.error.message}` });
    };
    const onRunStatus = (message: unknown): void => {
      const parsed = RunStatusNoticeSchema.safeParse(message);
      if (parsed.success) dispatch({ type: 'run-status', run: parsed.data.run });
    };

    const onRunEvent = (message: unknown): void => {
      const parsed = RunEventNoticeSchema.safeParse(message);
      if (parsed.success) dispatch({ type: 'run-event', event: parsed.data });
      else
        dispatch({
          type: 'invalid',
          message: `ignored invalid run event: ${parsed.error.message}`,
        });
    };

    socket.on('connect', subscribe);
    socket.on('run-event', onRunEvent);
    socket.on('metrics', onMetrics);
    socket.on('workers', onWorkers);
    socket.on('run-status', onRunStatus);
    if (socket.connected) subscribe();
    return () => {
      live = false;
      socket.off('connect', subscribe);
      socket.off('metrics', onMetrics);
      socket.off('workers', onWorkers);
      socket.off('run-status', onRunStatus);
      socket.off('run-event', onRunEvent);
    };
  }, [socket, runId]);

  return state;
}
