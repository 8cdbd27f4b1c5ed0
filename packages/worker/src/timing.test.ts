import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assertDutyCycle,
  backoffDelayMs,
  DutyCycleError,
  dutyCycleIdleMs,
  ewma,
  jittered,
} from './timing.js';

const policy = { initialMs: 500, maxMs: 10_000 };

describe('jittered', () => {
  it('spreads over [ms (1 - f), ms (1 + f)): the ends and the middle', () => {
    // 1000 * (1 - 0.5 + 2 * 0.5 * r) = 500 + 1000 r
    expect(jittered(1000, () => 0)).toBe(500);
    expect(jittered(1000, () => 0.5)).toBe(1000);
    expect(jittered(1000, () => 0.75)).toBe(1250);
    // factor 0.1: 1000 * (0.9 + 0.2 * 0.5) = 1000
    expect(jittered(1000, () => 0.5, 0.1)).toBe(1000);
    expect(jittered(1000, () => 0, 0)).toBe(1000);
  });
});

describe('backoffDelayMs', () => {
  it('doubles from initialMs up to maxMs, before jitter', () => {
    const middle = () => 0.5; // jitter factor 1
    // 500 * 2^n: 500, 1000, 2000, 4000, 8000, then the cap 10000
    expect([0, 1, 2, 3, 4, 5, 6].map((n) => backoffDelayMs(n, policy, middle))).toEqual([
      500, 1000, 2000, 4000, 8000, 10_000, 10_000,
    ]);
  });

  it('stays within [base / 2, 3 base / 2] for any attempt and draw, and never overflows', () => {
    fc.assert(
      fc.property(
        fc.nat(10_000),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, r) => {
          const base = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(attempt, 30));
          const delay = backoffDelayMs(attempt, policy, () => r);
          expect(Number.isFinite(delay)).toBe(true);
          expect(delay).toBeGreaterThanOrEqual(base / 2);
          // r < 1, but 0.5 + r may round up to 1.5 in binary64.
          expect(delay).toBeLessThanOrEqual((3 * base) / 2);
        },
      ),
    );
  });
});

describe('duty cycle', () => {
  it('idles computeMs * (1 - d) / d', () => {
    // 100 * 0.75 / 0.25 = 300; 100 * 0.5 / 0.5 = 100; d = 1 never idles
    expect(dutyCycleIdleMs(100, 0.25)).toBe(300);
    expect(dutyCycleIdleMs(100, 0.5)).toBe(100);
    expect(dutyCycleIdleMs(100, 1)).toBe(0);
  });

  it('makes computing the fraction d of each cycle', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.01, max: 1, noNaN: true }),
        fc.double({ min: 1, max: 1e5, noNaN: true }),
        (d, computeMs) => {
          const idle = dutyCycleIdleMs(computeMs, d);
          expect(computeMs / (computeMs + idle)).toBeCloseTo(d, 9);
        },
      ),
    );
  });

  it('refuses d outside (0, 1]', () => {
    for (const bad of [0, -1, 1.0001, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => {
        assertDutyCycle(bad);
      }).toThrow(DutyCycleError);
    }
    expect(() => dutyCycleIdleMs(10, 0)).toThrow(/invalid-duty-cycle/);
  });
});

describe('ewma', () => {
  it('starts at the first sample, then moves alpha of the way', () => {
    // 100; 100 + 0.2 * (200 - 100) = 120; 120 + 0.2 * (20 - 120) = 100
    const first = ewma(undefined, 100, 0.2);
    const second = ewma(first, 200, 0.2);
    expect([first, second, ewma(second, 20, 0.2)]).toEqual([100, 120, 100]);
  });
});
