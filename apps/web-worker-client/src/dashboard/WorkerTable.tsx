import type { WorkerSummary } from '@vtrain/protocol';
import { formatAgo } from './format.js';
import { useNow } from './use-now.js';

export interface WorkerTableProps {
  readonly workers: readonly WorkerSummary[];
}

/** The run's workers as the coordinator last reported them; it never sends their addresses. */
export function WorkerTable({ workers }: WorkerTableProps) {
  const now = useNow();
  if (workers.length === 0) return <p className="muted">No worker has joined this run yet.</p>;
  return (
    <div className="table-scroll">
      <table className="table">
        <thead>
          <tr>
            <th>worker</th>
            <th>kind</th>
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
              <td className="clip" title={`${worker.description} (${worker.workerId})`}>
                {worker.description === '' ? worker.workerId.slice(0, 8) : worker.description}
              </td>
              <td>{worker.kind}</td>
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
