import type { MetricsPoint } from '@vtrain/protocol';
import { rejectedByReason } from './series.js';

export interface RejectedTableProps {
  /** The latest point: its reject counters are cumulative over the run. */
  readonly latest: MetricsPoint | undefined;
}

/** Rejected updates by reason, with each reason's share of all updates received. */
export function RejectedTable({ latest }: RejectedTableProps) {
  const rows = rejectedByReason(latest);
  if (rows.length === 0) return <p className="muted">No update has been rejected.</p>;
  const rejected = rows.reduce((sum, row) => sum + row.count, 0);
  const received = rejected + (latest?.updatesApplied ?? 0);
  return (
    <table className="table">
      <thead>
        <tr>
          <th>reason</th>
          <th className="num">updates</th>
          <th className="num">of all received</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={row.reason} data-testid="rejected-row" data-reason={row.reason}>
            <td>{row.reason}</td>
            <td className="num">{row.count}</td>
            <td className="num">{((row.count / received) * 100).toFixed(1)}%</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
