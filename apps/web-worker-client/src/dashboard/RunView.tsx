import type { RunSummary } from '@vtrain/protocol';
import { ConvergenceCharts } from './ConvergenceCharts.js';
import type { DashboardSocket } from './dashboard-socket.js';
import { ExportButtons } from './ExportButtons.js';
import { describeEvaluation, formatDuration, formatNumber, formatPercent } from './format.js';
import { RejectedTable } from './RejectedTable.js';
import { currentVersion } from './run-subscription-state.js';
import { latestEvaluation } from './series.js';
import { StopRunButton } from './StopRunButton.js';
import { useRunSubscription } from './use-run-subscription.js';
import { WorkerTable } from './WorkerTable.js';

export interface RunViewProps {
  readonly socket: DashboardSocket;
  readonly runId: string;
  readonly token: string;
  readonly onUnauthorized: () => void;
  readonly onStopped: () => void;
}

function describeSchedule(run: RunSummary): string {
  const { schedule, compression, aggregation } = run.config;
  return `${schedule.kind} · top-k ${(compression.density * 100).toFixed(2)}%${
    compression.errorFeedback ? ' + error feedback' : ''
  } · ${aggregation.rule}`;
}

/** One run, live: header with actions, the charts, the workers and the rejected updates. */
export function RunView({ socket, runId, token, onUnauthorized, onStopped }: RunViewProps) {
  const state = useRunSubscription(socket, runId);
  const { run, metrics, workers } = state;
  const version = currentVersion(state);
  const latest = metrics.at(-1);
  // The figures travel with the version and examples they are of; the summary's until a point arrives.
  const evaluation = latestEvaluation(metrics) ?? run?.evaluation;
  const sampleSize =
    metrics.findLast((p) => p.testSet === 'sample')?.testExamples ??
    run?.config.evaluation.testExamples;

  return (
    <section className="run-view" data-testid="run-view" data-run-id={runId}>
      <header className="card run-header">
        <div className="run-title">
          <h2>{run?.name ?? runId}</h2>
          {run === undefined ? null : (
            <span className={`status status-${run.status}`}>{run.status}</span>
          )}
        </div>
        <dl className="stats">
          <div>
            <dt>version</dt>
            <dd data-testid="run-version" data-value={version ?? 0}>
              {version ?? '–'}
            </dd>
          </div>
          <div>
            <dt>test accuracy</dt>
            <dd
              data-testid="run-accuracy"
              title={evaluation === undefined ? undefined : describeEvaluation(evaluation)}
            >
              {formatPercent(evaluation?.testAccuracy)}
              {evaluation === undefined ? null : (
                <small className="muted evaluation-scope"> {describeEvaluation(evaluation)}</small>
              )}
            </dd>
          </div>
          <div>
            <dt>test loss</dt>
            <dd>{formatNumber(evaluation?.testLoss)}</dd>
          </div>
          <div>
            <dt>phase · K</dt>
            <dd>{latest === undefined ? '–' : `${latest.phase} · ${latest.k}`}</dd>
          </div>
          <div>
            <dt>workers</dt>
            <dd>{latest?.activeWorkers ?? run?.activeWorkers ?? 0}</dd>
          </div>
          <div>
            <dt>training time</dt>
            <dd>{latest === undefined ? '–' : formatDuration(latest.elapsedSeconds)}</dd>
          </div>
          <div>
            <dt>parameters</dt>
            <dd>{run?.parameterCount.toLocaleString() ?? '–'}</dd>
          </div>
        </dl>
        {run === undefined ? null : <p className="muted">{describeSchedule(run)}</p>}
        <div className="actions">
          <StopRunButton
            runId={runId}
            token={token}
            disabled={run?.status !== 'active'}
            onUnauthorized={onUnauthorized}
            onStopped={onStopped}
          />
          <ExportButtons runId={runId} token={token} onUnauthorized={onUnauthorized} />
        </div>
        {run?.fault === undefined ? null : (
          <p className="error" role="alert" data-testid="run-fault">
            Storage fault since {new Date(run.fault.since).toLocaleTimeString()}: the coordinator
            cannot save progress ({run.fault.message}). Updates are refused until it can write
            again; nothing saved before is lost.
          </p>
        )}
        {state.error === undefined ? null : (
          <p className="error" role="alert">
            {state.error}
          </p>
        )}
        {state.warning === undefined ? null : <p className="warning">{state.warning}</p>}
        {state.events.map((event) => (
          <p key={`${event.at}-${event.version}`} className="warning" data-testid="run-event">
            {new Date(event.at).toLocaleTimeString()} · {event.kind}: {event.message} (version{' '}
            {event.foundAtVersion} → {event.version})
          </p>
        ))}
      </header>

      <ConvergenceCharts metrics={metrics} sampleSize={sampleSize} />

      <div className="tables">
        <section className="card">
          <h3>Workers</h3>
          <WorkerTable workers={workers} count={latest?.activeWorkers ?? run?.activeWorkers ?? 0} />
        </section>
        <section className="card">
          <h3>Rejected updates by reason</h3>
          <RejectedTable latest={latest} />
        </section>
      </div>
    </section>
  );
}
