import { describe, expect, it } from 'vitest';
import { lineChart, niceTicks } from './svg-chart.js';

describe('svg chart', () => {
  it('niceTicks picks 1-2-5 steps covering the range', () => {
    expect(niceTicks(0, 60, 6)).toEqual([0, 10, 20, 30, 40, 50, 60]);
    expect(niceTicks(0.6, 1, 6)).toEqual([0.6, 0.7, 0.8, 0.9, 1]);
  });

  it('draws one polyline and one legend entry per series, escaping names', () => {
    const svg = lineChart(
      [
        {
          name: 'a < b',
          points: [
            [0, 0.5],
            [1, 0.9],
          ],
        },
        {
          name: 'c',
          points: [
            [0, 0.6],
            [1, 0.7],
          ],
          dashed: true,
        },
      ],
      { title: 't', xLabel: 'x', yLabel: 'y' },
    );
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<polyline/g)).toHaveLength(2);
    expect(svg).toContain('a &lt; b');
    expect(svg).toContain('stroke-dasharray');
  });

  it('extends the y axis below the requested floor when the data goes lower', () => {
    const svg = lineChart(
      [
        {
          name: 'low',
          points: [
            [0, 0.2],
            [1, 0.9],
          ],
        },
      ],
      { title: 't', xLabel: 'x', yLabel: 'y', yMin: 0.5, yMax: 1 },
    );
    expect(svg).toContain('>0.2</text>');
  });
});
