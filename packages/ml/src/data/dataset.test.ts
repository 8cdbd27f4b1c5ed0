import { describe, expect, it } from 'vitest';
import { DATASET_INFO } from './dataset-info.js';
import { assertValidDataset, classCounts, selectExamples, type Dataset } from './dataset.js';

const info = DATASET_INFO.synthetic;
const dataset: Dataset = {
  images: Uint8Array.from({ length: 3 * 784 }, (_, i) => Math.floor(i / 784) * 10),
  labels: Uint8Array.from([4, 5, 6]),
  count: 3,
  info,
};

describe('dataset helpers', () => {
  it('selects examples in the order asked, copying pixels and labels', () => {
    const picked = selectExamples(dataset, [2, 0]);
    expect(picked.count).toBe(2);
    expect(Array.from(picked.labels)).toEqual([6, 4]);
    expect(picked.images[0]).toBe(20);
    expect(picked.images[784]).toBe(0);
    expect(() => selectExamples(dataset, [3])).toThrow(
      expect.objectContaining({ code: 'index-out-of-range' }),
    );
  });

  it('counts classes and rejects labels >= classes', () => {
    expect(Array.from(classCounts(Uint8Array.from([0, 2, 2]), 3))).toEqual([1, 0, 2]);
    expect(() => classCounts(Uint8Array.from([3]), 3)).toThrow(
      expect.objectContaining({ code: 'label-out-of-range' }),
    );
  });

  it('checks the invariants', () => {
    expect(() => {
      assertValidDataset(dataset);
    }).not.toThrow();
    expect(() => {
      assertValidDataset({ ...dataset, count: 2 });
    }).toThrow(expect.objectContaining({ code: 'length-mismatch' }));
    expect(() => {
      assertValidDataset({ ...dataset, labels: Uint8Array.from([1, 2, 10]) });
    }).toThrow(expect.objectContaining({ code: 'label-out-of-range' }));
  });
});
