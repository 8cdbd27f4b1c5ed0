import type { ReactNode } from 'react';

export interface ChartCardProps {
  readonly title: string;
  /** A line under the title saying how to read the chart. */
  readonly note?: ReactNode;
  readonly children: ReactNode;
}

export function ChartCard({ title, note, children }: ChartCardProps) {
  return (
    <figure className="card chart-card">
      <figcaption>
        <h3>{title}</h3>
        {note === undefined ? null : <span className="muted note">{note}</span>}
      </figcaption>
      {children}
    </figure>
  );
}
