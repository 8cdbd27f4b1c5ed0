import { describe, expect, it } from 'vitest';
import { meanCurve, spread, timeToTarget } from './stats.js';

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
});
