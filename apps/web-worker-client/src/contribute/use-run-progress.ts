import { useEffect, useState } from 'react';
import type { Phase } from '@vtrain/protocol';
import { getRun } from '../shared/api.js';

/** How often the page asks the coordinator for the run's latest metrics. */
const POLL_MS = 5_000;

/** The run's latest global figures, from `GET /api/runs/:id`. */
export interface RunProgress {
  readonly testAccuracy?: number;
  /** Updates the run has applied in total (every worker's). */
  readonly updatesApplied: number;
  /** The schedule's phase and K at the latest point (a worker only hears of changes). */
  readonly phase?: Phase;
  readonly k?: number;
  readonly activeWorkers?: number;
}

/** Polls the run's summary while `runId` is set; a failed poll keeps the last figures. */
export function useRunProgress(runId: string | undefined): RunProgress | undefined {
  // Keyed by run, so a new run never shows the previous one's figures.
  const [progress, setProgress] = useState<{ runId: string; figures: RunProgress } | undefined>();

  useEffect(() => {
    if (runId === undefined) return;
    let cancelled = false;
    const poll = async () => {
      try {
        const run = await getRun(runId);
        if (cancelled) return;
        const latest = run.latest;
        const figures: RunProgress =
          latest === undefined
            ? { updatesApplied: 0 }
            : {
                ...(latest.testAccuracy === undefined ? {} : { testAccuracy: latest.testAccuracy }),
                updatesApplied: latest.updatesApplied,
                phase: latest.phase,
                k: latest.k,
                activeWorkers: latest.activeWorkers,
              };
        setProgress({ runId, figures });
      } catch {
        // The coordinator may be restarting; the worker session shows the connection state.
      }
    };
    void poll();
    const timer = setInterval(() => void poll(), POLL_MS);
    return () => {
      cancelled = true;
      clearInterval(timer);
    };
  }, [runId]);

  return progress !== undefined && progress.runId === runId ? progress.figures : undefined;
}
