import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { densify } from '../sparse-vector.js';
import { dyadic, sparse, sparseVectorOf } from '../test-support/sparse-fixtures.js';
import { SgdOptimizer } from './sgd.js';

describe('SgdOptimizer', () => {
  it('takes w <- w - eta d, step by step', () => {
    const sgd = new SgdOptimizer({ kind: 'sgd', learningRate: 0.5 }, 2);
    const w = Float32Array.from([1, -2]);
    sgd.step(w, Float32Array.from([2, 4]));
    // [1 - 0.5*2, -2 - 0.5*4] = [0, -4]
    expect(Array.from(w)).toEqual([0, -4]);
    sgd.step(w, Float32Array.from([-1, 0.5]));
    // [0 + 0.5*1, -4 - 0.5*0.5] = [0.5, -4.25]
    expect(Array.from(w)).toEqual([0.5, -4.25]);
    expect(sgd.stepCount).toBe(2);
  });

  it('touches only the stored coordinates of a sparse update', () => {
    const sgd = new SgdOptimizer({ kind: 'sgd', learningRate: 0.25 }, 4);
    const w = Float32Array.from([1, 1, Number.NaN, 1]);
    sgd.step(w, sparse(4, [1, 3], [2, -2]));
    // [1, 1 - 0.25*2, untouched, 1 + 0.25*2] = [1, 0.5, NaN, 1.5]: the NaN proves index 2 was not read.
    expect(Array.from(w)).toEqual([1, 0.5, Number.NaN, 1.5]);
  });

  it('gives the same result for a sparse update and its dense form', () => {
    fc.assert(
      fc.property(
        fc.array(dyadic, { minLength: 10, maxLength: 10 }),
        sparseVectorOf(10, dyadic),
        (start, update) => {
          const a = Float32Array.from(start);
          const b = Float32Array.from(start);
          new SgdOptimizer({ kind: 'sgd', learningRate: 0.75 }, 10).step(a, update);
          new SgdOptimizer({ kind: 'sgd', learningRate: 0.75 }, 10).step(b, densify(update));
          expect(a).toEqual(b);
        },
      ),
    );
  });

  it.each([0, -0.1, Number.NaN, Infinity])('rejects learningRate = %s', (learningRate) => {
    expect(() => new SgdOptimizer({ kind: 'sgd', learningRate }, 3)).toThrow(
      expect.objectContaining({ name: 'OptimizerError', code: 'invalid-config' }),
    );
  });
});
