import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ClockThresholdConfig } from './config.js';
import { ScheduleError } from './errors.js';
import { thresholdK } from './threshold.js';

/** The code of the ScheduleError `fn` throws ('none' if it returns, 'other' for another error). */
function thrownCode(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return error instanceof ScheduleError ? error.code : 'other';
  }
  return 'none';
}

const linear: ClockThresholdConfig = { shape: 'linear', clock: 'updates', horizon: 100 };
const exponential: ClockThresholdConfig = { shape: 'exponential', clock: 'updates', horizon: 100 };
const step4: ClockThresholdConfig = { shape: 'step', clock: 'time', horizon: 100, steps: 4 };

describe('thresholdK, N = 8, horizon 100', () => {
  it('linear: K = max(1, ceil(8 * min(s, 100) / 100))', () => {
    // s=0: ceil(0)=0 -> 1; s=1: ceil(0.08)=1; s=13: ceil(1.04)=2; s=50: 4; s=100: 8; s=1000: 8
    expect([0, 1, 13, 50, 100, 1000].map((s) => thresholdK(linear, 8, s))).toEqual([
      1, 1, 2, 4, 8, 8,
    ]);
  });

  it('exponential: K = max(1, min(8, round(8 ** (min(s, 100) / 100))))', () => {
    // 8^0 = 1; 8^0.1 = 1.231 -> 1; 8^0.25 = 1.682 -> 2; 8^0.5 = 2.828 -> 3;
    // 8^0.75 = 4.757 -> 5; 8^1 = 8; s = 1000 is capped at the horizon -> 8
    expect([0, 10, 25, 50, 75, 100, 1000].map((s) => thresholdK(exponential, 8, s))).toEqual([
      1, 1, 2, 3, 5, 8, 8,
    ]);
  });

  it('step with 4 steps: K = max(1, ceil(8 * floor(4 * s / 100) / 4))', () => {
    // floor(4s/100): s=0 -> 0, 24 -> 0, 25 -> 1, 49 -> 1, 50 -> 2, 75 -> 3, 99 -> 3, 100 -> 4
    // K: 0 -> max(1, 0) = 1; 1 -> 2; 2 -> 4; 3 -> 6; 4 -> 8
    expect([0, 24, 25, 49, 50, 75, 99, 100, 1000].map((s) => thresholdK(step4, 8, s))).toEqual([
      1, 1, 2, 2, 4, 6, 6, 8, 8,
    ]);
  });

  it('step rounds each level up to whole workers: N = 6, 4 steps', () => {
    // ceil(6 * 1/4) = ceil(1.5) = 2; ceil(6 * 2/4) = 3; ceil(6 * 3/4) = ceil(4.5) = 5; 6
    expect([25, 50, 75, 100].map((s) => thresholdK(step4, 6, s))).toEqual([2, 3, 5, 6]);
  });

  it('divides last, so an exact point does not round up', () => {
    // 25 * 28 / 100 = 700 / 100 = 7 exactly; 25 * (28 / 100) = 7.000000000000001 would give 8
    expect(thresholdK(linear, 25, 28)).toBe(7);
  });

  it('is 1 with no workers (a batch never needs zero updates)', () => {
    for (const config of [linear, exponential, step4]) expect(thresholdK(config, 0, 50)).toBe(1);
  });

  it('rejects a negative s or a fractional N', () => {
    expect(thrownCode(() => thresholdK(linear, 8, -1))).toBe('invalid-argument');
    expect(thrownCode(() => thresholdK(linear, 2.5, 1))).toBe('invalid-argument');
  });
});

const shapes = fc.oneof(
  fc.record({
    shape: fc.constant('linear' as const),
    clock: fc.constant('time' as const),
    horizon: fc.double({ min: 0.5, max: 1e6, noNaN: true }),
  }),
  fc.record({
    shape: fc.constant('exponential' as const),
    clock: fc.constant('time' as const),
    horizon: fc.double({ min: 0.5, max: 1e6, noNaN: true }),
  }),
  fc.record({
    shape: fc.constant('step' as const),
    clock: fc.constant('updates' as const),
    horizon: fc.integer({ min: 1, max: 1000 }),
    steps: fc.integer({ min: 1, max: 20 }),
  }),
);

describe('thresholdK properties', () => {
  it('is non-decreasing in s, within [1, max(1, N)], and N at the horizon', () => {
    fc.assert(
      fc.property(
        shapes,
        fc.integer({ min: 0, max: 256 }),
        fc.double({ min: 0, max: 2e6, noNaN: true }),
        fc.double({ min: 0, max: 2e6, noNaN: true }),
        (config, n, a, b) => {
          const [lo, hi] = a <= b ? [a, b] : [b, a];
          const kLo = thresholdK(config, n, lo);
          const kHi = thresholdK(config, n, hi);
          expect(kLo).toBeLessThanOrEqual(kHi);
          expect(kLo).toBeGreaterThanOrEqual(1);
          expect(kHi).toBeLessThanOrEqual(Math.max(1, n));
          expect(Number.isInteger(kLo)).toBe(true);
          expect(thresholdK(config, n, config.horizon)).toBe(Math.max(1, n));
        },
      ),
    );
  });

  it('starts asynchronous: K(0) = 1', () => {
    fc.assert(
      fc.property(shapes, fc.integer({ min: 0, max: 256 }), (config, n) => {
        expect(thresholdK(config, n, 0)).toBe(1);
      }),
    );
  });
});
