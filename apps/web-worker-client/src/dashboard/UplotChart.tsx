import { useEffect, useLayoutEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { phaseBandsPlugin } from './phase-bands-plugin.js';
import type { Columns, PhaseBand } from './series.js';

/** uPlot options without the size, which the wrapper owns. */
export type ChartOptions = Omit<uPlot.Options, 'width' | 'height'>;

export interface UplotChartProps {
  /** Keep this stable (module constant or useMemo): a new object rebuilds the chart. */
  readonly options: ChartOptions;
  readonly data: Columns;
  /** Height of the plot in CSS pixels; the frame reserves it so the page never reflows. */
  readonly height: number;
  /** Phase bands shaded behind the curves, if any. */
  readonly bands?: readonly PhaseBand[] | undefined;
  readonly testId?: string | undefined;
  /** Room for the legend under the plot, for charts with many or long series labels. */
  readonly legendHeight?: number | undefined;
}

const NO_BANDS: readonly PhaseBand[] = [];
/** Room kept under the plot for uPlot's legend, inside the fixed frame. */
const LEGEND_HEIGHT = 52;
/** Width until the frame has been laid out (and in DOM-less tests). */
const FALLBACK_WIDTH = 600;

/**
 * One uPlot instance per options object. New data goes in with `setData`
 * (no remount per point, no layout change), and the width follows the frame
 * through a ResizeObserver.
 */
export function UplotChart({
  options,
  data,
  height,
  bands,
  testId,
  legendHeight = LEGEND_HEIGHT,
}: UplotChartProps) {
  const frameRef = useRef<HTMLDivElement>(null);
  const chartRef = useRef<uPlot | null>(null);
  const dataRef = useRef(data);
  const bandsRef = useRef(bands ?? NO_BANDS);

  // Declared before the creating effect so a new chart starts from the latest data.
  useLayoutEffect(() => {
    dataRef.current = data;
    bandsRef.current = bands ?? NO_BANDS;
    chartRef.current?.setData(data);
  }, [data, bands]);

  useEffect(() => {
    const frame = frameRef.current;
    if (frame === null) return;
    const chart = new uPlot(
      {
        ...options,
        width: frame.clientWidth || FALLBACK_WIDTH,
        height,
        plugins: [...(options.plugins ?? []), phaseBandsPlugin(() => bandsRef.current)],
      },
      dataRef.current,
      frame,
    );
    chartRef.current = chart;
    const observer =
      typeof ResizeObserver === 'undefined'
        ? undefined
        : new ResizeObserver(() => {
            const width = frame.clientWidth;
            if (width > 0 && width !== chart.width) chart.setSize({ width, height });
          });
    observer?.observe(frame);
    return () => {
      observer?.disconnect();
      chart.destroy();
      chartRef.current = null;
    };
  }, [options, height]);

  return (
    <div
      className="chart-frame"
      ref={frameRef}
      data-testid={testId}
      style={{ height: height + legendHeight }}
    />
  );
}
