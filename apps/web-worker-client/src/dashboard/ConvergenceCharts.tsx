import type { MetricsPoint } from '@vtrain/protocol';
import { useMemo, type ReactNode } from 'react';
import { ChartCard } from './ChartCard.js';
import {
  convergenceOptions,
  SCHEDULE_OPTIONS,
  STALENESS_HISTOGRAM_OPTIONS,
  STALENESS_OPTIONS,
  THROUGHPUT_OPTIONS,
  TRAFFIC_OPTIONS,
} from './chart-options.js';
import { PHASE_COLORS } from './phase-bands-plugin.js';
import {
  convergenceColumns,
  phaseBands,
  scheduleColumns,
  stalenessColumns,
  stalenessHistogram,
  throughputColumns,
  trafficColumns,
  type Columns,
  type PhaseBand,
} from './series.js';
import { UplotChart, type ChartOptions } from './UplotChart.js';

const HEIGHT = 220;
/** Five labelled series (sample and whole-set accuracy and loss, train loss): four legend lines. */
const CONVERGENCE_LEGEND_HEIGHT = 108;

function PhaseLegend() {
  return (
    <span className="phase-legend">
      shaded by phase:{' '}
      {(['async', 'hybrid', 'sync'] as const).map((phase) => (
        <span key={phase} className="swatch" style={{ background: PHASE_COLORS[phase] }}>
          {phase}
        </span>
      ))}
    </span>
  );
}

export interface ConvergenceChartsProps {
  readonly metrics: readonly MetricsPoint[];
  /** Examples in the run's evaluation sample; absent when it evaluates on the whole test set. */
  readonly sampleSize: number | undefined;
}

interface ChartSpec {
  readonly testId: string;
  readonly title: string;
  readonly note: ReactNode;
  readonly options: ChartOptions;
  readonly data: Columns;
  readonly bands?: readonly PhaseBand[];
  /** Room for the legend, when the series are many. */
  readonly legendHeight?: number;
}

/** Every live chart of a run, with fresh columns for the given points. */
function chartSpecs(
  metrics: readonly MetricsPoint[],
  byTime: ChartOptions,
  byVersion: ChartOptions,
): ChartSpec[] {
  const bandsByTime = phaseBands(metrics, 'time');
  const legend = <PhaseLegend />;
  return [
    {
      testId: 'chart-accuracy',
      title: 'Test accuracy and loss over training time',
      note: legend,
      options: byTime,
      data: convergenceColumns(metrics, 'time'),
      bands: bandsByTime,
      legendHeight: CONVERGENCE_LEGEND_HEIGHT,
    },
    {
      testId: 'chart-version',
      title: 'Test accuracy and loss by model version',
      note: legend,
      options: byVersion,
      data: convergenceColumns(metrics, 'version'),
      bands: phaseBands(metrics, 'version'),
      legendHeight: CONVERGENCE_LEGEND_HEIGHT,
    },
    {
      testId: 'chart-schedule',
      title: 'Schedule: K(t), workers and local steps',
      note: 'K = 1 is asynchronous, K = N synchronous',
      options: SCHEDULE_OPTIONS,
      data: scheduleColumns(metrics),
      bands: bandsByTime,
    },
    {
      testId: 'chart-throughput',
      title: 'Throughput',
      note: 'rates between consecutive cumulative counters',
      options: THROUGHPUT_OPTIONS,
      data: throughputColumns(metrics),
      bands: bandsByTime,
    },
    {
      testId: 'chart-traffic',
      title: 'Traffic',
      note: 'bytes per second to and from workers',
      options: TRAFFIC_OPTIONS,
      data: trafficColumns(metrics),
      bands: bandsByTime,
    },
    {
      testId: 'chart-staleness',
      title: 'Staleness over time',
      note: 'of updates applied in each interval',
      options: STALENESS_OPTIONS,
      data: stalenessColumns(metrics),
      bands: bandsByTime,
    },
    {
      testId: 'chart-staleness-histogram',
      title: 'Staleness distribution',
      note: 'all applied updates of the run',
      options: STALENESS_HISTOGRAM_OPTIONS,
      data: stalenessHistogram(metrics),
    },
  ];
}

/** The run's live charts; each gets fresh columns per point and redraws in place. */
export function ConvergenceCharts({ metrics, sampleSize }: ConvergenceChartsProps) {
  // Options are rebuilt (and the charts with them) only when the sample size changes.
  const byTime = useMemo(() => convergenceOptions('time', sampleSize), [sampleSize]);
  const byVersion = useMemo(() => convergenceOptions('version', sampleSize), [sampleSize]);
  const charts = useMemo(
    () => chartSpecs(metrics, byTime, byVersion),
    [metrics, byTime, byVersion],
  );
  return (
    <div className="chart-grid">
      {charts.map((chart) => (
        <ChartCard key={chart.testId} title={chart.title} note={chart.note}>
          <UplotChart
            testId={chart.testId}
            options={chart.options}
            data={chart.data}
            bands={chart.bands}
            height={HEIGHT}
            legendHeight={chart.legendHeight}
          />
        </ChartCard>
      ))}
    </div>
  );
}
