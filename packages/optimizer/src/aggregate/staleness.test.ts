import { describe, expect, it } from 'vitest';
import { stalenessWeight } from './staleness.js';

describe('stalenessWeight', () => {
  it.each([
    // [s, none, inverse = 1/max(1, s), inverse-plus-one = 1/(1 + s)]
    [0, 1, 1, 1],
    [1, 1, 1, 0.5],
    [4, 1, 0.25, 0.2],
    [9, 1, 1 / 9, 0.1],
  ])('at staleness %s is %s / %s / %s', (s, none, inverse, plusOne) => {
    expect(stalenessWeight(s, 'none')).toBe(none);
    expect(stalenessWeight(s, 'inverse')).toBe(inverse);
    expect(stalenessWeight(s, 'inverse-plus-one')).toBe(plusOne);
  });

  it.each([-1, Number.NaN, Infinity])('rejects staleness %s', (s) => {
    expect(() => stalenessWeight(s, 'inverse')).toThrow(
      expect.objectContaining({ name: 'AggregationError', code: 'invalid-option' }),
    );
  });
});
