import { RunStatusNoticeSchema, type RunSummary } from '@vtrain/protocol';
import { useCallback, useEffect, useState } from 'react';
import { listRuns } from '../shared/api.js';
import type { DashboardSocket } from './dashboard-socket.js';
import { describeError } from './errors.js';

/**
 * Polling interval of the run list: a heal for missed notices. The coordinator sends a
 * `run-status` notice with each metrics point it records, so the list moves with the
 * run view's charts and header, from the same points.
 */
export const RUN_LIST_POLL_MS = 3_000;

export interface RunListState {
  readonly runs: readonly RunSummary[] | undefined;
  readonly error: string | undefined;
  /** Fetches the list now (after launching or stopping a run). */
  readonly refresh: () => void;
}

/**
 * Whether `a` is an older view of a run than `b`: its latest point is older, or it is as
 * recent but still active where `b` has ended. A poll answered before a notice can arrive
 * after it; it must not put older figures back.
 */
export function isOlderSummary(a: RunSummary, b: RunSummary): boolean {
  const at = a.latest?.at ?? Number.NEGATIVE_INFINITY;
  const bAt = b.latest?.at ?? Number.NEGATIVE_INFINITY;
  return at < bAt || (at === bAt && a.status === 'active' && b.status !== 'active');
}

/** Puts a run's new summary in place, or first when it is new (the list is newest first). */
export function upsertRun(runs: readonly RunSummary[], run: RunSummary): RunSummary[] {
  const index = runs.findIndex((r) => r.id === run.id);
  if (index === -1) return [run, ...runs];
  return runs.map((r, i) => (i === index && !isOlderSummary(run, r) ? run : r));
}

/** A fetched list, keeping any run the notices already showed newer than the answer. */
export function mergeRunList(
  current: readonly RunSummary[] | undefined,
  fetched: readonly RunSummary[],
): RunSummary[] {
  return fetched.map((run) => {
    const known = current?.find((r) => r.id === run.id);
    return known !== undefined && isOlderSummary(run, known) ? known : run;
  });
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
        setRuns((current) => mergeRunList(current, list));
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
