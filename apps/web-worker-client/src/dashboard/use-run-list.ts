import { RunStatusNoticeSchema, type RunSummary } from '@vtrain/protocol';
import { useCallback, useEffect, useState } from 'react';
import { listRuns } from '../shared/api.js';
import type { DashboardSocket } from './dashboard-socket.js';
import { describeError } from './errors.js';

/** Polling interval of the run list; run-status notices make most changes show at once. */
export const RUN_LIST_POLL_MS = 3_000;

export interface RunListState {
  readonly runs: readonly RunSummary[] | undefined;
  readonly error: string | undefined;
  /** Fetches the list now (after launching or stopping a run). */
  readonly refresh: () => void;
}

/** Puts a run's new summary in place, or first when it is new (the list is newest first). */
export function upsertRun(runs: readonly RunSummary[], run: RunSummary): RunSummary[] {
  const index = runs.findIndex((r) => r.id === run.id);
  if (index === -1) return [run, ...runs];
  return runs.map((r, i) => (i === index ? run : r));
}

/**
 * The run list, live: `GET /api/runs` every few seconds (which also heals any
 * missed notice or a reconnect), and each `run-status` notice applied as it
 * arrives.
 */
export function useRunList(socket: DashboardSocket): RunListState {
  const [runs, setRuns] = useState<readonly RunSummary[] | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);

  const refresh = useCallback(() => {
    listRuns().then(
      (list) => {
        setRuns(list);
        setError(undefined);
      },
      (failure: unknown) => {
        setError(`Cannot load the runs: ${describeError(failure)}`);
      },
    );
  }, []);

  useEffect(() => {
    refresh();
    const timer = setInterval(refresh, RUN_LIST_POLL_MS);
    return () => {
      clearInterval(timer);
    };
  }, [refresh]);

  useEffect(() => {
    const onRunStatus = (message: unknown): void => {
      const parsed = RunStatusNoticeSchema.safeParse(message);
      if (!parsed.success) {
        setError(`Ignored an invalid run-status notice: ${parsed.error.message}`);
        return;
      }
      setRuns((current) => upsertRun(current ?? [], parsed.data.run));
    };
    socket.on('run-status', onRunStatus);
    return () => {
      socket.off('run-status', onRunStatus);
    };
  }, [socket]);

  return { runs, error, refresh };
}
