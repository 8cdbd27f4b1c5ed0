import { describe, expect, it } from 'vitest';
import { sparse } from '../test-support/sparse-fixtures.js';
import { MomentumOptimizer } from './momentum.js';

const updates = [2, 2, -4];

describe('MomentumOptimizer, heavy ball', () => {
  it('follows m <- mu m + d; w <- w - eta m', () => {
    const optimizer = new MomentumOptimizer(
      { kind: 'momentum', learningRate: 0.5, momentum: 0.5 },
      1,
    );
    const w = Float32Array.from([1]);
    const trace = updates.map((d) => {
      optimizer.step(w, Float32Array.from([d]));
      return [optimizer.state().buffers.momentum[0], w[0]];
    });
    expect(trace).toEqual([
      [2, 0], // m = 0.5*0 + 2 = 2;    w = 1 - 0.5*2 = 0
      [3, -1.5], // m = 0.5*2 + 2 = 3;    w = 0 - 0.5*3 = -1.5
      [-2.5, -0.25], // m = 0.5*3 - 4 = -2.5; w = -1.5 + 0.5*2.5 = -0.25
    ]);
  });
});

describe('MomentumOptimizer, Nesterov', () => {
  it('follows m <- mu m + d; w <- w - eta (d + mu m)', () => {
    const optimizer = new MomentumOptimizer(
      { kind: 'nesterov', learningRate: 0.5, momentum: 0.5 },
      1,
    );
    const w = Float32Array.from([1]);
    const trace = updates.map((d) => {
      optimizer.step(w, Float32Array.from([d]));
      return [optimizer.state().buffers.momentum[0], w[0]];
    });
    expect(trace).toEqual([
      [2, -0.5], // m = 2;    w = 1 - 0.5*(2 + 0.5*2) = 1 - 1.5 = -0.5
      [3, -2.25], // m = 3;    w = -0.5 - 0.5*(2 + 0.5*3) = -0.5 - 1.75 = -2.25
      [-2.5, 0.375], // m = -2.5; w = -2.25 - 0.5*(-4 + 0.5*(-2.5)) = -2.25 + 2.625 = 0.375
    ]);
    expect(optimizer.kind).toBe('nesterov');
  });

  it('decays the buffer everywhere when the update is sparse', () => {
    const optimizer = new MomentumOptimizer(
      { kind: 'nesterov', learningRate: 1, momentum: 0.5 },
      2,
    );
    const w = Float32Array.from([0, 0]);
    optimizer.step(w, Float32Array.from([4, 4]));
    // m = [4, 4]; w = -(4 + 2) = [-6, -6]
    optimizer.step(w, sparse(2, [0], [2]));
    // m = [0.5*4 + 2, 0.5*4 + 0] = [4, 2]; w = [-6 - (2 + 2), -6 - (0 + 1)] = [-10, -7]
    expect(Array.from(optimizer.state().buffers.momentum)).toEqual([4, 2]);
    expect(Array.from(w)).toEqual([-10, -7]);
  });

  it.each([-0.1, 1, Number.NaN])('rejects momentum = %s', (momentum) => {
    expect(
      () => new MomentumOptimizer({ kind: 'momentum', learningRate: 0.1, momentum }, 3),
    ).toThrow(expect.objectContaining({ code: 'invalid-config' }));
  });
});
