import { describe, expect, it } from 'vitest';
import { contributionShare } from './contribution-share.js';

describe('contributionShare', () => {
  it('is the tab share of the updates applied over the same interval', () => {
    expect(contributionShare({ mine: 10, run: 500 }, { mine: 40, run: 620 })).toBe(0.25);
  });

  it('is undefined until the run has applied something new', () => {
    expect(contributionShare({ mine: 3, run: 100 }, { mine: 5, run: 100 })).toBeUndefined();
  });

  it('stays within [0, 1] when the two counters are read at slightly different times', () => {
    expect(contributionShare({ mine: 0, run: 0 }, { mine: 12, run: 10 })).toBe(1);
  });
});
