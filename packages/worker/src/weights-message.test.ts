import type { ParameterSlice } from '@vtrain/ml';
import { describe, expect, it } from 'vitest';
import { flatWeightsFromDense, WeightsLayoutError } from './weights-message.js';

const layout: ParameterSlice[] = [
  { name: 'hidden_0/kernel', shape: [2, 3], offset: 0, size: 6 },
  { name: 'hidden_0/bias', shape: [3], offset: 6, size: 3 },
];

function tensors(overrides: { name?: string; shape?: number[] } = {}) {
  return {
    tensors: [
      { name: 'hidden_0/kernel', shape: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, 6) },
      {
        name: overrides.name ?? 'hidden_0/bias',
        shape: overrides.shape ?? [3],
        data: Float32Array.of(7, 8, 9),
      },
    ],
  };
}

describe('flatWeightsFromDense', () => {
  it('concatenates the tensors at their layout offsets', () => {
    expect(Array.from(flatWeightsFromDense(tensors(), layout))).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9,
    ]);
  });

  it.each([
    ['another name', { name: 'hidden_0/gamma' }, 'name-mismatch'],
    ['another shape of the same size', { shape: [3, 1] }, 'shape-mismatch'],
  ])('refuses %s', (_, override, code) => {
    expect(() => flatWeightsFromDense(tensors(override), layout)).toThrow(
      expect.objectContaining({ code }) as Error,
    );
  });

  it('refuses a different number of tensors', () => {
    const error = (() => {
      try {
        flatWeightsFromDense({ tensors: tensors().tensors.slice(0, 1) }, layout);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(WeightsLayoutError);
    expect((error as WeightsLayoutError).code).toBe('tensor-count');
  });
});
