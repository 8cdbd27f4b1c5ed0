import { cleanup, render } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Columns } from './series.js';

const instances: FakePlot[] = [];

class FakePlot {
  readonly setData = vi.fn();
  readonly destroy = vi.fn();
  readonly setSize = vi.fn();
  readonly width: number;
  constructor(
    readonly options: { width: number; height: number; plugins: unknown[] },
    readonly data: unknown,
    readonly target: HTMLElement,
  ) {
    this.width = options.width;
    target.append(document.createElement('canvas'));
    instances.push(this);
  }
}

vi.mock('uplot', () => ({ default: FakePlot }));

const { UplotChart } = await import('./UplotChart.js');

const OPTIONS = { series: [{}, { label: 'y' }] };

afterEach(() => {
  cleanup();
  instances.length = 0;
});

describe('UplotChart', () => {
  it('builds one chart and feeds new points with setData, never remounting', () => {
    const first: Columns = [[1], [0.1]];
    const { rerender, getByTestId, unmount } = render(
      <UplotChart testId="chart" options={OPTIONS} data={first} height={200} />,
    );
    expect(instances).toHaveLength(1);
    const chart = instances[0];
    expect(chart?.data).toBe(first);
    expect(chart?.options.height).toBe(200);
    expect(getByTestId('chart').querySelector('canvas')).not.toBeNull();

    const second: Columns = [
      [1, 2],
      [0.1, 0.2],
    ];
    rerender(<UplotChart testId="chart" options={OPTIONS} data={second} height={200} />);
    expect(instances).toHaveLength(1);
    expect(chart?.setData).toHaveBeenLastCalledWith(second);

    unmount();
    expect(chart?.destroy).toHaveBeenCalledOnce();
  });

  it('reserves a fixed height for plot and legend, so the page does not reflow', () => {
    const { getByTestId } = render(
      <UplotChart testId="chart" options={OPTIONS} data={[[], []]} height={200} />,
    );
    expect(getByTestId('chart').style.height).toMatch(/^\d+px$/);
    expect(Number.parseInt(getByTestId('chart').style.height)).toBeGreaterThan(200);
  });

  it('rebuilds only when the options change', () => {
    const data: Columns = [[1], [1]];
    const { rerender } = render(<UplotChart options={OPTIONS} data={data} height={100} />);
    rerender(<UplotChart options={{ series: [{}, { label: 'z' }] }} data={data} height={100} />);
    expect(instances).toHaveLength(2);
    expect(instances[0]?.destroy).toHaveBeenCalledOnce();
  });
});
