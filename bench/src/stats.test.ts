import { describe, expect, it } from 'vitest';
import {
  intervalSign,
  meanCurve,
  meanInterval95,
  pairedDifferences,
  spread,
  timeToTarget,
  tQuantile975,
} from './stats.js';

describe('stats', () => {
  it('spread: mean, sample std, range', () => {
    const s = spread([1, 2, 3, 4]);
    expect(s.mean).toBe(2.5);
    expect(s.std).toBeCloseTo(Math.sqrt(5 / 3), 12);
    expect([s.min, s.max, s.n]).toEqual([1, 4, 4]);
    expect(spread([7]).std).toBe(0);
    expect(Number.isNaN(spread([]).mean)).toBe(true);
  });

  it('timeToTarget interpolates the crossing, null when never reached', () => {
    const curve = [
      { t: 0, accuracy: 0.1 },
      { t: 10, accuracy: 0.8 },
      { t: 20, accuracy: 0.9 },
    ];
    expect(timeToTarget(curve, 0.85)).toBeCloseTo(15, 12);
    expect(timeToTarget(curve, 0.05)).toBe(0);
    expect(timeToTarget(curve, 0.95)).toBeNull();
  });

  it('meanCurve averages point by point and cuts to the shortest', () => {
    const a = [
      { t: 0, accuracy: 0.2 },
      { t: 1, accuracy: 0.4 },
      { t: 2, accuracy: 0.6 },
    ];
    const b = [
      { t: 0, accuracy: 0.4 },
      { t: 1, accuracy: 0.6 },
    ];
    expect(meanCurve([a, b])).toEqual([
      { t: 0, accuracy: 0.30000000000000004 },
      { t: 1, accuracy: 0.5 },
    ]);
  });

  it('tQuantile975: the table, then the expansion close to the exact values', () => {
    expect(tQuantile975(1)).toBe(12.706);
    expect(tQuantile975(4)).toBe(2.776);
    expect(tQuantile975(30)).toBe(2.042);
    // Exact: t(0.975, 40) = 2.0211, t(0.975, 120) = 1.9799; large df tends to z.
    expect(tQuantile975(40)).toBeCloseTo(2.0211, 3);
    expect(tQuantile975(120)).toBeCloseTo(1.9799, 3);
    expect(tQuantile975(1e9)).toBeCloseTo(1.96, 3);
    expect(() => tQuantile975(0)).toThrow(RangeError);
    expect(() => tQuantile975(2.5)).toThrow(RangeError);
  });

  it('meanInterval95: mean ± t · s / √n, NaN bounds for one value', () => {
    // n = 5, mean 3, s = sqrt(2.5): half-width 2.776 * sqrt(2.5) / sqrt(5).
    const ci = meanInterval95([1, 2, 3, 4, 5]);
    const half = (2.776 * Math.sqrt(2.5)) / Math.sqrt(5);
    expect(ci.mean).toBe(3);
    expect(ci.low).toBeCloseTo(3 - half, 12);
    expect(ci.high).toBeCloseTo(3 + half, 12);
    expect(ci.n).toBe(5);
    const one = meanInterval95([0.4]);
    expect(one.mean).toBe(0.4);
    expect(Number.isNaN(one.low) && Number.isNaN(one.high)).toBe(true);
  });

  it('pairedDifferences pairs by seed and skips seeds only one side has', () => {
    const a = new Map([
      [1, 0.9],
      [2, 0.8],
      [3, 0.7],
    ]);
    const b = new Map([
      [3, 0.5],
      [1, 0.6],
    ]);
    const d = pairedDifferences(a, b);
    expect(d).toHaveLength(2);
    expect(d[0]).toBeCloseTo(0.3, 12);
    expect(d[1]).toBeCloseTo(0.2, 12);
  });

  it('intervalSign says where an interval lies against 0', () => {
    expect(intervalSign({ mean: 1, low: 0.1, high: 2, n: 5 })).toBe('above');
    expect(intervalSign({ mean: -1, low: -2, high: -0.1, n: 5 })).toBe('below');
    expect(intervalSign({ mean: 0.1, low: -0.1, high: 0.3, n: 5 })).toBe('spans');
    expect(intervalSign({ mean: 0.1, low: Number.NaN, high: Number.NaN, n: 1 })).toBe('spans');
  });
});
