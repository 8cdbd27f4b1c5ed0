import { describe, expect, it } from 'vitest';
import { modelNeedsConvolution } from './model-kernels.js';

describe('modelNeedsConvolution', () => {
  it('is false for an MLP and true for a zoo CNN', () => {
    expect(modelNeedsConvolution({ kind: 'mlp', hiddenUnits: [128] })).toBe(false);
    expect(modelNeedsConvolution({ kind: 'cnn', filters: [8, 16] })).toBe(true);
  });

  it('finds a convolution layer anywhere in a custom topology', () => {
    const dense = { class_name: 'Dense', config: { units: 10 } };
    const conv = { class_name: 'Conv2D', config: { filters: 4, kernel_size: [3, 3] } };
    const depthwise = { class_name: 'DepthwiseConv2D', config: {} };
    const topology = (layers: unknown[]) => ({
      class_name: 'Sequential',
      config: { name: 'm', layers },
    });
    expect(modelNeedsConvolution({ kind: 'custom', topology: topology([dense]) })).toBe(false);
    expect(modelNeedsConvolution({ kind: 'custom', topology: topology([conv, dense]) })).toBe(true);
    const nested = topology([{ class_name: 'Sequential', config: { layers: [depthwise] } }, dense]);
    expect(modelNeedsConvolution({ kind: 'custom', topology: nested })).toBe(true);
    // A layer merely named like a convolution is not one.
    const named = topology([{ class_name: 'Dense', config: { name: 'Conv2D', units: 3 } }]);
    expect(modelNeedsConvolution({ kind: 'custom', topology: named })).toBe(false);
  });
});
