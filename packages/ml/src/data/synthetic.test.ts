import { describe, expect, it } from 'vitest';
import { assertValidDataset, classCounts } from './dataset.js';
import { extent, sameElements } from '../test-support/bytes.js';
import { generateSynthetic, syntheticPrototypes } from './synthetic.js';

describe('generateSynthetic', () => {
  const small = { seed: 3, trainExamples: 200, testExamples: 50 };

  it('produces valid 28x28x1 sets with exactly balanced labels', () => {
    const { train, test } = generateSynthetic(small);
    assertValidDataset(train);
    assertValidDataset(test);
    expect(train.count).toBe(200);
    expect(test.count).toBe(50);
    expect(Array.from(classCounts(train.labels, 10))).toEqual(new Array<number>(10).fill(20));
    expect(train.info.name).toBe('synthetic');
  });

  it('is deterministic, and the training set does not depend on the test size', () => {
    const a = generateSynthetic(small);
    const b = generateSynthetic(small);
    expect(sameElements(b.train.images, a.train.images)).toBe(true);
    expect(sameElements(b.test.images, a.test.images)).toBe(true);
    const other = generateSynthetic({ ...small, testExamples: 7 });
    expect(sameElements(other.train.images, a.train.images)).toBe(true);
    expect(sameElements(other.test.images, a.test.images.subarray(0, 7 * 784))).toBe(true);
    const reseeded = generateSynthetic({ ...small, seed: 4 });
    expect(sameElements(reseeded.train.images, a.train.images)).toBe(false);
  });

  it('draws distinct prototypes whose classes are not a single-pixel rule', () => {
    const prototypes = syntheticPrototypes(0);
    for (let a = 0; a < 10; a++) {
      for (let b = a + 1; b < 10; b++) {
        let diff = 0;
        for (let p = 0; p < 784; p++)
          diff += Math.abs(prototypes[a * 784 + p] - prototypes[b * 784 + p]);
        expect(diff).toBeGreaterThan(5);
      }
    }
    // Noise and distractors: no example is a clean prototype, and pixels use the whole range.
    const { train } = generateSynthetic(small);
    expect(extent(train.images)).toEqual({ min: 0, max: 255 });
  });

  it('rejects negative or fractional sizes', () => {
    expect(() => generateSynthetic({ ...small, trainExamples: -1 })).toThrow(
      expect.objectContaining({ code: 'invalid-argument' }),
    );
    expect(() => generateSynthetic({ ...small, testExamples: 1.5 })).toThrow(
      expect.objectContaining({ code: 'invalid-argument' }),
    );
  });
});
