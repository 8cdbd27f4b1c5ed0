import uPlot from 'uplot';
import { formatBytes, formatDuration } from './format.js';
import { periodicLabel, type XAxis } from './series.js';
import type { ChartOptions } from './UplotChart.js';

/*
 * The dashboard's chart definitions. Each is built once (module constant or
 * memoised per x axis / run set): the charts then only ever get new data.
 */

export const COLORS = {
  accuracy: '#16a34a',
  testLoss: '#dc2626',
  trainLoss: '#f59e0b',
  k: '#7c3aed',
  workers: '#0284c7',
  localSteps: '#64748b',
  primary: '#2563eb',
  secondary: '#db2777',
} as const;

/** Distinct strokes for overlaid runs, in selection order. */
export const RUN_PALETTE = [
  '#2563eb',
  '#dc2626',
  '#16a34a',
  '#9333ea',
  '#ea580c',
  '#0891b2',
  '#4b5563',
  '#c026d3',
] as const;

const line = (label: string, stroke: string, extra: Partial<uPlot.Series> = {}): uPlot.Series => ({
  label,
  stroke,
  width: 2,
  spanGaps: true,
  points: { show: false },
  ...extra,
});

/** uPlot's `Axis.Side` is an ambient const enum, which isolated modules cannot read. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment
const RIGHT = 1 as uPlot.Axis.Side;

/** Legend value formatter; uPlot passes null at a gap although its types say number. */
const legend =
  (format: (value: number) => string) =>
  (_u: uPlot, value: number | null): string =>
    value === null ? '–' : format(value);

const DURATION_STEPS = [
  1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14_400, 28_800, 86_400,
];

const durationTicks = (_u: uPlot, values: number[]): string[] => values.map(formatDuration);
const byteTicks = (_u: uPlot, values: number[]): string[] =>
  values.map((v) => `${formatBytes(v)}/s`);

function xAxisOf(axis: XAxis): { series: uPlot.Series; axis: uPlot.Axis } {
  return axis === 'time'
    ? {
        series: { label: 'elapsed', value: legend(formatDuration) },
        // Steps a person reads as round durations (5 s, 1 min, 15 min...), not 3 s, 8 s, 13 s.
        axis: { label: 'training time', values: durationTicks, incrs: DURATION_STEPS },
      }
    : { series: { label: 'version' }, axis: { label: 'version' } };
}

const BASE: Pick<ChartOptions, 'scales' | 'cursor'> = {
  // Time is elapsed training seconds, not a calendar date.
  scales: { x: { time: false } },
  cursor: { drag: { x: true, y: false } },
};

const percent = legend((v) => `${(v * 100).toFixed(1)}%`);

/**
 * Test accuracy (left, fixed 0..1 so the axis never jumps) and losses (right). The periodic
 * evaluations (on the run's sample of `sampleSize` examples, or the whole set when it has
 * none) and the whole-test-set ones (final, target check) are separate series, each
 * labelled with what it is over. Build once per (axis, sample size).
 */
export function convergenceOptions(axis: XAxis, sampleSize: number | undefined): ChartOptions {
  const x = xAxisOf(axis);
  // Whole-set figures are few and apart: points, not joined across the periodic ones.
  const fullSet = { spanGaps: false, points: { show: true, size: 8 }, dash: [2, 3] };
  return {
    ...BASE,
    scales: { x: { time: false }, acc: { range: [0, 1] }, loss: { auto: true } },
    series: [
      x.series,
      line(periodicLabel('test accuracy', sampleSize), COLORS.accuracy, {
        scale: 'acc',
        points: { show: true, size: 4 },
        value: percent,
      }),
      line('test accuracy (whole test set)', COLORS.accuracy, {
        scale: 'acc',
        value: percent,
        ...fullSet,
      }),
      line(periodicLabel('test loss', sampleSize), COLORS.testLoss, {
        scale: 'loss',
        points: { show: true, size: 4 },
      }),
      line('test loss (whole test set)', COLORS.testLoss, { scale: 'loss', ...fullSet }),
      line('train loss', COLORS.trainLoss, { scale: 'loss', width: 1.5 }),
    ],
    axes: [
      x.axis,
      {
        scale: 'acc',
        label: 'accuracy',
        values: (_u, vs) => vs.map((v) => `${Math.round(v * 100)}%`),
      },
      { scale: 'loss', side: RIGHT, label: 'loss', grid: { show: false } },
    ],
  };
}

export const SCHEDULE_OPTIONS: ChartOptions = {
  ...BASE,
  series: [
    xAxisOf('time').series,
    line('K (updates per apply)', COLORS.k, { paths: uPlot.paths.stepped?.({ align: 1 }) }),
    line('active workers N', COLORS.workers, {
      paths: uPlot.paths.stepped?.({ align: 1 }),
      dash: [4, 4],
    }),
    line('local steps H', COLORS.localSteps, {
      paths: uPlot.paths.stepped?.({ align: 1 }),
      width: 1,
    }),
  ],
  axes: [xAxisOf('time').axis, { label: 'count' }],
};

export const THROUGHPUT_OPTIONS: ChartOptions = {
  ...BASE,
  scales: { x: { time: false }, updates: { auto: true }, samples: { auto: true } },
  series: [
    xAxisOf('time').series,
    line('applied/s', COLORS.primary, { scale: 'updates', value: legend((v) => v.toFixed(1)) }),
    line('rejected/s', COLORS.testLoss, { scale: 'updates', value: legend((v) => v.toFixed(1)) }),
    // Dashed: with one batch per update it runs parallel to applied/s, on its own axis.
    line('samples/s', COLORS.localSteps, {
      scale: 'samples',
      dash: [5, 4],
      width: 1.5,
      value: legend((v) => v.toFixed(0)),
    }),
  ],
  axes: [
    xAxisOf('time').axis,
    { scale: 'updates', label: 'updates/s' },
    { scale: 'samples', side: RIGHT, label: 'samples/s', grid: { show: false } },
  ],
};

export const TRAFFIC_OPTIONS: ChartOptions = {
  ...BASE,
  series: [
    xAxisOf('time').series,
    line('in (updates)', COLORS.primary, { value: legend((v) => `${formatBytes(v)}/s`) }),
    line('out (weights)', COLORS.secondary, { value: legend((v) => `${formatBytes(v)}/s`) }),
  ],
  axes: [xAxisOf('time').axis, { values: byteTicks, size: 70 }],
};

export const STALENESS_OPTIONS: ChartOptions = {
  ...BASE,
  series: [
    xAxisOf('time').series,
    line('p50', COLORS.primary, { paths: uPlot.paths.stepped?.({ align: 1 }) }),
    line('p90', COLORS.secondary, { paths: uPlot.paths.stepped?.({ align: 1 }) }),
    line('max', COLORS.localSteps, { paths: uPlot.paths.stepped?.({ align: 1 }), width: 1 }),
  ],
  axes: [xAxisOf('time').axis, { label: 'staleness (versions)' }],
};

export const STALENESS_HISTOGRAM_OPTIONS: ChartOptions = {
  scales: { x: { time: false, range: (_u, min, max) => [min - 0.5, max + 0.5] } },
  cursor: { drag: { x: false, y: false } },
  series: [
    { label: 'staleness' },
    {
      label: 'updates',
      stroke: COLORS.primary,
      fill: 'rgba(37, 99, 235, 0.35)',
      paths: uPlot.paths.bars?.({ size: [0.8, 40] }),
      points: { show: false },
    },
  ],
  axes: [
    { label: 'staleness (versions; last bucket: that or more)', incrs: [1, 2, 5, 10, 20, 50] },
    { label: 'updates' },
  ],
};

/** Test accuracy of several runs on one chart; rebuilt only when the set of runs changes. */
export function compareOptions(runNames: readonly string[], axis: XAxis): ChartOptions {
  const x = xAxisOf(axis);
  return {
    ...BASE,
    scales: { x: { time: false }, y: { range: [0, 1] } },
    series: [
      x.series,
      ...runNames.map((name, i) =>
        line(name, RUN_PALETTE[i % RUN_PALETTE.length] ?? COLORS.primary, {
          points: { show: true, size: 4 },
          value: legend((v) => `${(v * 100).toFixed(1)}%`),
        }),
      ),
    ],
    axes: [
      x.axis,
      { label: 'test accuracy', values: (_u, vs) => vs.map((v) => `${Math.round(v * 100)}%`) },
    ],
  };
}
