import { describe, expect, it } from 'vitest';
import { AdamOptimizer } from './adam.js';

describe('AdamOptimizer', () => {
  it('follows Kingma & Ba Algorithm 1 with bias correction for three steps', () => {
    const adam = new AdamOptimizer(
      { kind: 'adam', learningRate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
      1,
    );
    const w = Float32Array.from([1]);
    // t = 1, d = 2: m = 0.1*2 = 0.2; v = 0.001*4 = 0.004; mhat = 0.2/0.1 = 2;
    //   vhat = 0.004/0.001 = 4; w = 1 - 0.1 * 2 / (2 + 1e-8) = 0.9000000005 -> 0.9 in float32.
    adam.step(w, Float32Array.from([2]));
    expect(w[0]).toBeCloseTo(0.9, 6);
    // t = 2, d = -1: m = 0.9*0.2 - 0.1 = 0.08; v = 0.999*0.004 + 0.001 = 0.004996;
    //   mhat = 0.08/0.19 = 0.42105263; vhat = 0.004996/0.001999 = 2.4992496, sqrt = 1.5809015;
    //   w = 0.9 - 0.1 * 0.42105263 / 1.5809015 = 0.9 - 0.0266337 = 0.8733663.
    adam.step(w, Float32Array.from([-1]));
    expect(w[0]).toBeCloseTo(0.8733663, 6);
    // t = 3, d = 0.5: m = 0.072 + 0.05 = 0.122; v = 0.004991004 + 0.00025 = 0.005241004;
    //   mhat = 0.122/0.271 = 0.4501845; vhat = 0.005241004/0.002997001 = 1.7487495, sqrt = 1.3224030;
    //   w = 0.8733663 - 0.1 * 0.4501845 / 1.3224030 = 0.8733663 - 0.0340429 = 0.8393234.
    adam.step(w, Float32Array.from([0.5]));
    expect(w[0]).toBeCloseTo(0.8393234, 6);
    const state = adam.state();
    expect(state.step).toBe(3);
    expect(state.buffers.firstMoment[0]).toBeCloseTo(0.122, 7);
    expect(state.buffers.secondMoment[0]).toBeCloseTo(0.005241004, 9);
  });

  it('moves each coordinate by about eta on the first step, whatever the scale of d', () => {
    // t = 1: mhat = d, vhat = d^2, so the step is eta * d / (|d| + eps) ~ eta * sign(d).
    const adam = new AdamOptimizer(
      { kind: 'adam', learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
      3,
    );
    const w = new Float32Array(3);
    adam.step(w, Float32Array.from([1000, -0.001, 0]));
    expect(w[0]).toBeCloseTo(-0.01, 6);
    expect(w[1]).toBeCloseTo(0.01, 4); // 0.01 * 0.001 / (0.001 + 1e-8) = 0.0099990
    expect(w[2]).toBe(0);
  });

  it('rejects bad hyper-parameters', () => {
    const good = {
      kind: 'adam',
      learningRate: 0.1,
      beta1: 0.9,
      beta2: 0.999,
      epsilon: 1e-8,
    } as const;
    for (const bad of [{ beta1: 1 }, { beta2: -0.5 }, { epsilon: 0 }, { learningRate: Infinity }]) {
      expect(() => new AdamOptimizer({ ...good, ...bad }, 2)).toThrow(
        expect.objectContaining({ code: 'invalid-config' }),
      );
    }
  });
});
