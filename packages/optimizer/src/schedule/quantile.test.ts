import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { quantile } from './quantile.js';
import { roundDeadlineMs } from './round-deadline.js';
import { DEFAULT_ROUND_DEADLINE } from './config.js';
import { ScheduleError } from './errors.js';

/** The code of the ScheduleError `fn` throws ('none' if it returns, 'other' for another error). */
function thrownCode(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return error instanceof ScheduleError ? error.code : 'other';
  }
  return 'none';
}

describe('quantile (type 7, linear interpolation)', () => {
  it('interpolates between order statistics', () => {
    // sorted [1, 2, 3, 4], h = 3 * q: q=0.9 -> h=2.7 -> 3 + 0.7 * (4 - 3) = 3.7
    expect(quantile([4, 1, 3, 2], 0.9)).toBeCloseTo(3.7, 12);
    // q=0.5 -> h=1.5 -> 2 + 0.5 * 1 = 2.5; q=0 -> min; q=1 -> max
    expect(quantile([4, 1, 3, 2], 0.5)).toBe(2.5);
    expect(quantile([4, 1, 3, 2], 0)).toBe(1);
    expect(quantile([4, 1, 3, 2], 1)).toBe(4);
    expect(quantile([7], 0.9)).toBe(7);
  });

  it('does not reorder its input', () => {
    const samples = [3, 1, 2];
    quantile(samples, 0.5);
    expect(samples).toEqual([3, 1, 2]);
  });

  it('rejects an empty sample, q outside [0, 1] and non-finite samples', () => {
    expect(thrownCode(() => quantile([], 0.5))).toBe('invalid-argument');
    expect(thrownCode(() => quantile([1], 1.5))).toBe('invalid-argument');
    expect(thrownCode(() => quantile([1], Number.NaN))).toBe('invalid-argument');
    expect(thrownCode(() => quantile([1, Number.POSITIVE_INFINITY], 0.5))).toBe('invalid-argument');
  });

  it('lies between min and max and is non-decreasing in q', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 30 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (samples, a, b) => {
          const [lo, hi] = a <= b ? [a, b] : [b, a];
          const qLo = quantile(samples, lo);
          expect(qLo).toBeGreaterThanOrEqual(Math.min(...samples));
          expect(quantile(samples, hi)).toBeLessThanOrEqual(Math.max(...samples));
          expect(qLo).toBeLessThanOrEqual(quantile(samples, hi));
        },
      ),
    );
  });
});

describe('roundDeadlineMs = clamp(minMs, maxMs, slack * quantile(last window samples))', () => {
  const config = DEFAULT_ROUND_DEADLINE; // slack 2, q 0.9, window 20, 1000..60000 ms

  it('is maxMs before any sample', () => {
    expect(roundDeadlineMs(config, [])).toBe(60_000);
  });

  it('is slack times the quantile inside the clamps', () => {
    // q0.9 of [400, 500, 600]: h = 1.8 -> 500 + 0.8 * 100 = 580; 2 * 580 = 1160
    expect(roundDeadlineMs(config, [400, 500, 600])).toBeCloseTo(1160, 9);
  });

  it('clamps to minMs and maxMs', () => {
    expect(roundDeadlineMs(config, [100])).toBe(1000); // 2 * 100 = 200 < 1000
    expect(roundDeadlineMs(config, [50_000])).toBe(60_000); // 2 * 50000 = 100000 > 60000
  });

  it('only looks at the last `window` samples', () => {
    // window 3 drops the 10000: same as [400, 500, 600] -> 1160
    const windowed = { ...config, window: 3 };
    expect(roundDeadlineMs(windowed, [10_000, 400, 500, 600])).toBeCloseTo(1160, 9);
    expect(roundDeadlineMs(config, [10_000, 400, 500, 600])).toBeGreaterThan(1160);
  });
});
