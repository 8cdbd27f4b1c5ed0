import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { CONV_TRAINING_KERNELS, useFastestNodeBackend } from './backend-node.js';

describe('useFastestNodeBackend', () => {
  it('picks wasm when it initialises and has the kernels', async () => {
    const reasons: string[] = [];
    expect(await useFastestNodeBackend({ onFallback: (r) => reasons.push(r) })).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(reasons).toEqual([]);
  });

  it('falls back to cpu, with the reason, when wasm lacks a required kernel', async () => {
    const reasons: string[] = [];
    const backend = await useFastestNodeBackend({
      requiredKernels: CONV_TRAINING_KERNELS,
      onFallback: (r) => reasons.push(r),
    });
    // tfjs-backend-wasm 4.22 registers no Conv2DBackpropFilter
    // (docs/architecture.md#tfjs-backends-and-their-speed).
    expect(backend).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(reasons).toEqual(['the wasm backend lacks the kernels Conv2DBackpropFilter']);
  });
});
