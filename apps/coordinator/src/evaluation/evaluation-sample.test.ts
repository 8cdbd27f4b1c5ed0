import { describe, expect, it } from 'vitest';
import { evaluationSample } from './evaluation-sample.js';

describe('evaluationSample', () => {
  it('is a seeded sample of distinct examples: the same for the same seed, not the first n', () => {
    const sample = evaluationSample(10_000, 2000, 7);
    expect(sample.length).toBe(2000);
    expect(new Set(sample).size).toBe(2000);
    expect(Math.max(...sample)).toBeLessThan(10_000);
    expect([...sample]).toEqual([...sample].sort((a, b) => a - b));
    expect(evaluationSample(10_000, 2000, 7)).toEqual(sample);
    expect(evaluationSample(10_000, 2000, 8)).not.toEqual(sample);
    // Not the first 2000 examples: about a fifth of them fall in the first 2000 indices.
    const inFirst = sample.filter((i) => i < 2000).length;
    expect(inFirst).toBeGreaterThan(300);
    expect(inFirst).toBeLessThan(500);
    // Spread over both halves of the set (the first half of MNIST's test set is the easier one).
    expect(sample.filter((i) => i >= 5000).length).toBeGreaterThan(900);
    expect(sample.filter((i) => i >= 5000).length).toBeLessThan(1100);
  });

  it('is the whole set when the size reaches it', () => {
    expect([...evaluationSample(5, 9, 1)]).toEqual([0, 1, 2, 3, 4]);
  });

  it('refuses sizes that are not positive integers', () => {
    expect(() => evaluationSample(10, 0, 1)).toThrow(RangeError);
    expect(() => evaluationSample(0, 1, 1)).toThrow(RangeError);
    expect(() => evaluationSample(10, 1.5, 1)).toThrow(RangeError);
  });
});
