import type { MetricsPoint } from '@vtrain/protocol';
import { useMemo } from 'react';
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
} from './series.js';
import { UplotChart } from './UplotChart.js';

const BY_TIME = convergenceOptions('time');
const BY_VERSION = convergenceOptions('version');
const HEIGHT = 220;

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
}

/** The run's live charts; each gets fresh columns per point and redraws in place. */
export function ConvergenceCharts({ metrics }: ConvergenceChartsProps) {
  const columns = useMemo(
    () => ({
      byTime: convergenceColumns(metrics, 'time'),
      byVersion: convergenceColumns(metrics, 'version'),
      bandsByTime: phaseBands(metrics, 'time'),
      bandsByVersion: phaseBands(metrics, 'version'),
      schedule: scheduleColumns(metrics),
      throughput: throughputColumns(metrics),
      traffic: trafficColumns(metrics),
      staleness: stalenessColumns(metrics),
      histogram: stalenessHistogram(metrics),
    }),
    [metrics],
  );

  return (
    <div className="chart-grid">
      <ChartCard title="Test accuracy and loss over training time" note={<PhaseLegend />}>
        <UplotChart
          testId="chart-accuracy"
          options={BY_TIME}
          data={columns.byTime}
          bands={columns.bandsByTime}
          height={HEIGHT}
        />
      </ChartCard>
      <ChartCard title="Test accuracy and loss by model version" note={<PhaseLegend />}>
        <UplotChart
          testId="chart-version"
          options={BY_VERSION}
          data={columns.byVersion}
          bands={columns.bandsByVersion}
          height={HEIGHT}
        />
      </ChartCard>
      <ChartCard
        title="Schedule: K(t), workers and local steps"
        note="K = 1 is asynchronous, K = N synchronous"
      >
        <UplotChart
          testId="chart-schedule"
          options={SCHEDULE_OPTIONS}
          data={columns.schedule}
          bands={columns.bandsByTime}
          height={HEIGHT}
        />
      </ChartCard>
      <ChartCard title="Throughput" note="rates between consecutive cumulative counters">
        <UplotChart
          testId="chart-throughput"
          options={THROUGHPUT_OPTIONS}
          data={columns.throughput}
          bands={columns.bandsByTime}
          height={HEIGHT}
        />
      </ChartCard>
      <ChartCard title="Traffic" note="bytes per second to and from workers">
        <UplotChart
          testId="chart-traffic"
          options={TRAFFIC_OPTIONS}
          data={columns.traffic}
          bands={columns.bandsByTime}
          height={HEIGHT}
        />
      </ChartCard>
      <ChartCard title="Staleness over time" note="of updates applied in each interval">
        <UplotChart
          testId="chart-staleness"
          options={STALENESS_OPTIONS}
          data={columns.staleness}
          bands={columns.bandsByTime}
          height={HEIGHT}
        />
      </ChartCard>
      <ChartCard title="Staleness distribution" note="all applied updates of the run">
        <UplotChart
          testId="chart-staleness-histogram"
          options={STALENESS_HISTOGRAM_OPTIONS}
          data={columns.histogram}
          height={HEIGHT}
        />
      </ChartCard>
    </div>
  );
}
