import type { RunSummary } from '@vtrain/protocol';
import { describeEvaluation, formatPercent } from './format.js';

export interface RunListProps {
  readonly runs: readonly RunSummary[] | undefined;
  readonly error: string | undefined;
  readonly openRunId: string | undefined;
  /** Runs ticked for the comparison chart, in the order they were ticked. */
  readonly compared: readonly string[];
  readonly onOpen: (runId: string) => void;
  readonly onToggleCompared: (runId: string) => void;
}

/** The runs, newest first; a click opens one, the checkbox adds it to the comparison. */
export function RunList({
  runs,
  error,
  openRunId,
  compared,
  onOpen,
  onToggleCompared,
}: RunListProps) {
  return (
    <section className="run-list" aria-label="Runs">
      {error === undefined ? null : (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {runs === undefined ? <p className="muted">Loading runs...</p> : null}
      {runs?.length === 0 ? <p className="muted">No runs yet.</p> : null}
      <ul>
        {runs?.map((run) => {
          // The latest evaluation, with the version it is of (older than the run's while training).
          const { evaluation } = run;
          return (
            // The whole row opens the run (the e2e test clicks the row); the button inside gives keyboard access.
            <li
              key={run.id}
              data-testid="run-item"
              data-run-id={run.id}
              data-status={run.status}
              className={run.id === openRunId ? 'run-item open' : 'run-item'}
              onClick={() => {
                onOpen(run.id);
              }}
            >
              <input
                type="checkbox"
                aria-label={`compare ${run.name}`}
                title="compare this run"
                checked={compared.includes(run.id)}
                onClick={(event) => {
                  event.stopPropagation();
                }}
                onChange={() => {
                  onToggleCompared(run.id);
                }}
              />
              <button type="button" className="run-open">
                <span className="run-name">{run.name}</span>
                <span className="run-meta">
                  <span className={`status status-${run.status}`}>{run.status}</span>
                  <span>v{run.version}</span>
                  <span
                    data-testid="run-accuracy"
                    title={
                      evaluation === undefined
                        ? 'not evaluated yet'
                        : `test accuracy of ${describeEvaluation(evaluation)}`
                    }
                  >
                    {formatPercent(evaluation?.testAccuracy)}
                    {evaluation === undefined || evaluation.version === run.version
                      ? null
                      : ` @v${evaluation.version}`}
                  </span>
                  <span>{run.config.schedule.kind}</span>
                </span>
              </button>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
