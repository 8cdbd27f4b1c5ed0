import { describe, expect, it } from 'vitest';
import { describeEvaluation, formatCount, formatPercent } from './format.js';

describe('formatPercent', () => {
  it('shows 0 as a value and only a missing figure as a dash', () => {
    expect(formatPercent(0)).toBe('0.0%');
    expect(formatPercent(0.7712)).toBe('77.1%');
    expect(formatPercent(undefined)).toBe('–');
  });
});

describe('describeEvaluation', () => {
  it('says which version and which examples a figure is of', () => {
    expect(formatCount(10_000)).toBe('10,000');
    expect(describeEvaluation({ version: 50, testExamples: 2000, testSet: 'sample' })).toBe(
      'version 50, sample of 2,000 examples',
    );
    expect(describeEvaluation({ version: 80, testExamples: 10_000, testSet: 'full' })).toBe(
      'version 80, whole test set (10,000)',
    );
    expect(describeEvaluation({ version: 3 })).toBe('version 3');
  });
});
