import type { MetricsPoint, RunSummary } from '@vtrain/protocol';
import { useEffect, useMemo, useState } from 'react';
import { getMetrics } from '../shared/api.js';
import { ChartCard } from './ChartCard.js';
import { compareOptions } from './chart-options.js';
import { describeError } from './errors.js';
import { overlayAccuracy, type XAxis } from './series.js';
import { UplotChart } from './UplotChart.js';

export interface CompareRunsProps {
  /** The run list, for names and statuses. */
  readonly runs: readonly RunSummary[];
  /** The runs to overlay, in the order they were ticked. */
  readonly runIds: readonly string[];
}

/** Active runs keep moving, so their series are fetched again at this interval. */
const REFRESH_MS = 5_000;

/** Test accuracy of two or more runs on one chart, from `GET /api/runs/:id/metrics`. */
export function CompareRuns({ runs, runIds }: CompareRunsProps) {
  const [axis, setAxis] = useState<XAxis>('time');
  const [series, setSeries] = useState<ReadonlyMap<string, readonly MetricsPoint[]>>(new Map());
  const [error, setError] = useState<string | undefined>(undefined);
  const key = runIds.join(',');
  const anyActive = runs.some((r) => runIds.includes(r.id) && r.status === 'active');

  useEffect(() => {
    let live = true;
    const ids = key.split(',');
    const load = (): void => {
      Promise.all(ids.map(async (id) => [id, await getMetrics(id)] as const)).then(
        (entries) => {
          if (!live) return;
          setSeries(new Map(entries));
          setError(undefined);
        },
        (failure: unknown) => {
          if (live) setError(`Cannot load the metrics: ${describeError(failure)}`);
        },
      );
    };
    load();
    const timer = anyActive ? setInterval(load, REFRESH_MS) : undefined;
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [key, anyActive]);

  // Keyed by the names' text, not the list's identity: a list poll must not rebuild the chart (and lose zoom).
  const namesKey = JSON.stringify(
    key.split(',').map((id) => runs.find((r) => r.id === id)?.name ?? id),
  );
  const options = useMemo(
    () => compareOptions(JSON.parse(namesKey) as string[], axis),
    [namesKey, axis],
  );
  const data = useMemo(
    () =>
      overlayAccuracy(
        key.split(',').map((id) => series.get(id) ?? []),
        axis,
      ),
    [series, key, axis],
  );

  return (
    <section className="compare">
      <header className="card compare-header">
        <h2>Compare runs</h2>
        <div className="segmented" role="group" aria-label="x axis">
          {(['time', 'version'] as const).map((choice) => (
            <button
              key={choice}
              type="button"
              className={axis === choice ? 'selected' : ''}
              onClick={() => {
                setAxis(choice);
              }}
            >
              by {choice === 'time' ? 'training time' : 'version'}
            </button>
          ))}
        </div>
        {error === undefined ? null : (
          <p className="error" role="alert">
            {error}
          </p>
        )}
      </header>
      <ChartCard title="Test accuracy" note={`${String(runIds.length)} runs overlaid`}>
        <UplotChart testId="chart-compare" options={options} data={data} height={360} />
      </ChartCard>
    </section>
  );
}
