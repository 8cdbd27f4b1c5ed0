import { describe, expect, it } from 'vitest';
import type { LocalPeriodRule } from './config.js';
import { ScheduleError } from './errors.js';
import { localSteps } from './local-steps.js';

/** The code of the ScheduleError `fn` throws ('none' if it returns, 'other' for another error). */
function thrownCode(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return error instanceof ScheduleError ? error.code : 'other';
  }
  return 'none';
}

describe('localSteps (LUPA-SGD period H)', () => {
  it('fixed: H = steps whatever the round or loss', () => {
    const rule: LocalPeriodRule = { rule: 'fixed', steps: 5 };
    expect(localSteps(rule, 0, null, null)).toBe(5);
    expect(localSteps(rule, 7, 2, 0.1)).toBe(5);
  });

  describe('lupa-adaptive: H = min(maxSteps, ceil((F0 / F) ** (1/3)) * tau_0)', () => {
    const rule: LocalPeriodRule = { rule: 'lupa-adaptive', initialSteps: 10, maxSteps: 100 };

    it('is tau_0 before any evaluation', () => {
      expect(localSteps(rule, 3, null, null)).toBe(10);
    });

    it('F0 = 2.0, F = 0.25: ratio 8, cube root 2, H = 2 * tau_0', () => {
      expect(localSteps(rule, 1, 2.0, 0.25)).toBe(20);
    });

    it('any improvement at all already doubles H (ceil of a root just above 1)', () => {
      // ratio 2 / 1.9 = 1.0526, cube root 1.017 -> ceil 2 -> 20
      expect(localSteps(rule, 1, 2.0, 1.9)).toBe(20);
    });

    it('no improvement or a rising loss keeps tau_0', () => {
      expect(localSteps(rule, 1, 2.0, 2.0)).toBe(10); // cube root of 1 = 1
      expect(localSteps(rule, 1, 2.0, 4.0)).toBe(10); // 0.5^(1/3) = 0.79 -> ceil 1
    });

    it('F0 = 2.7, F = 0.1: ratio 27, cube root 3, H = 30', () => {
      expect(localSteps(rule, 1, 2.7, 0.1)).toBe(30);
    });

    it('caps at maxSteps', () => {
      // ratio 2 / 0.002 = 1000 -> 10 -> 100 = maxSteps exactly
      expect(localSteps(rule, 1, 2, 0.002)).toBe(100);
      // ratio 2000 -> cube root 12.6 -> 13 -> 130, capped to 100
      expect(localSteps(rule, 1, 2, 0.001)).toBe(100);
    });

    it('rejects a non-positive loss (the ratio is undefined)', () => {
      expect(thrownCode(() => localSteps(rule, 1, 2, 0))).toBe('invalid-argument');
    });
  });

  describe('lupa-linear: H = ceil((1 + i * alpha) * tau_0)', () => {
    it('the paper experiments: tau_0 = 91, alpha = 1.09', () => {
      const rule: LocalPeriodRule = { rule: 'lupa-linear', initialSteps: 91, alpha: 1.09 };
      // i=0: 91; i=1: 2.09 * 91 = 190.19 -> 191; i=2: 3.18 * 91 = 289.38 -> 290
      expect([0, 1, 2].map((i) => localSteps(rule, i, null, null))).toEqual([91, 191, 290]);
    });

    it('floating noise does not add a step', () => {
      // (1 + 3 * 1.1) * 10 evaluates to 43.00000000000001; the exact value is 43
      const rule: LocalPeriodRule = { rule: 'lupa-linear', initialSteps: 10, alpha: 1.1 };
      expect(localSteps(rule, 3, null, null)).toBe(43);
    });

    it('alpha = 0 is the constant period', () => {
      const rule: LocalPeriodRule = { rule: 'lupa-linear', initialSteps: 7, alpha: 0 };
      expect(localSteps(rule, 50, null, null)).toBe(7);
    });

    it('rejects a negative round index', () => {
      const rule: LocalPeriodRule = { rule: 'lupa-linear', initialSteps: 7, alpha: 1 };
      expect(thrownCode(() => localSteps(rule, -1, null, null))).toBe('invalid-argument');
    });
  });
});
