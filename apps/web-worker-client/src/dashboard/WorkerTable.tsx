import type { WorkerSummary } from '@vtrain/protocol';
import { formatAgo } from './format.js';
import { useNow } from './use-now.js';

export interface WorkerTableProps {
  /** The rows; undefined when the coordinator sent none (the dashboard lacks the researcher token). */
  readonly workers: readonly WorkerSummary[] | undefined;
  /** How many workers the run has now (shown when the rows are withheld). */
  readonly count: number;
}

/**
 * The run's workers as the coordinator last reported them: browser and OS families and the
 * backend, never an address or a full user agent. Only a dashboard with the researcher token
 * gets the rows; any other viewer sees how many workers there are.
 */
export function WorkerTable({ workers, count }: WorkerTableProps) {
  const now = useNow();
  if (workers === undefined) {
    return (
      <p className="muted" data-testid="worker-count">
        {count === 1 ? '1 worker' : `${count} workers`} connected. The worker table needs the
        researcher token.
      </p>
    );
  }
  if (workers.length === 0) return <p className="muted">No worker has joined this run yet.</p>;
  return (
    <div className="table-scroll">
      <table className="table">
        <thead>
          <tr>
            <th>worker</th>
            <th>browser</th>
            <th>OS</th>
            <th>backend</th>
            <th className="num">speed (samples/s)</th>
            <th className="num">updates applied</th>
            <th className="num">rejected</th>
            <th>last seen</th>
          </tr>
        </thead>
        <tbody>
          {workers.map((worker) => (
            <tr key={worker.workerId} data-testid="worker-row" data-backend={worker.backend}>
              <td className="clip" title={worker.workerId}>
                {worker.workerId.slice(0, 8)}
              </td>
              <td>{worker.browser === '' ? `${worker.kind} (unknown)` : worker.browser}</td>
              <td>{worker.os === '' ? '–' : worker.os}</td>
              <td>
                <span className={`backend backend-${worker.backend}`}>{worker.backend}</span>
              </td>
              <td className="num">{worker.samplesPerSecond.toFixed(0)}</td>
              <td className="num">{worker.updatesApplied}</td>
              <td className="num">{worker.updatesRejected}</td>
              <td>{formatAgo(worker.lastSeenAt, now)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
