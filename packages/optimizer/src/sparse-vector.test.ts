import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addSparseInto,
  densify,
  InvalidSparseVectorError,
  scaleSparse,
  sparseNorm,
  validateSparseVector,
} from './sparse-vector.js';
import type { SparseVector } from './sparse-vector.js';
import { dyadic, sparse, sparseVectorOf, toDenseArray } from './test-support/sparse-fixtures.js';

function validationCode(vector: SparseVector): string | undefined {
  try {
    validateSparseVector(vector);
  } catch (error) {
    if (error instanceof InvalidSparseVectorError) return error.code;
    throw error;
  }
  return undefined;
}

describe('validateSparseVector', () => {
  it('accepts valid vectors, empty and with explicit zeros', () => {
    expect(validationCode(sparse(5, [], []))).toBeUndefined();
    expect(validationCode(sparse(5, [0, 4], [0, -2]))).toBeUndefined();
  });

  it('names each broken invariant', () => {
    expect(validationCode(sparse(5, [3, 1], [1, 1]))).toBe('unsorted-indices');
    expect(validationCode(sparse(5, [1, 1], [1, 1]))).toBe('unsorted-indices');
    expect(validationCode(sparse(5, [1, 5], [1, 1]))).toBe('index-out-of-range');
    expect(validationCode(sparse(5, [1, 2], [1]))).toBe('length-mismatch');
    expect(validationCode(sparse(5, [1, 2], [1, Number.NaN]))).toBe('non-finite');
    expect(validationCode(sparse(5, [1], [-Infinity]))).toBe('non-finite');
    expect(validationCode(sparse(2.5, [], []))).toBe('invalid-length');
    expect(validationCode(sparse(-1, [], []))).toBe('invalid-length');
  });
});

describe('addSparseInto', () => {
  it('scatter-adds scale * values', () => {
    const dense = Float32Array.from([1, 1, 1, 1]);
    addSparseInto(dense, sparse(4, [1, 3], [2, -4]), 0.5);
    // [1, 1 + 0.5*2, 1, 1 + 0.5*(-4)] = [1, 2, 1, -1]
    expect(Array.from(dense)).toEqual([1, 2, 1, -1]);
  });

  it('leaves the accumulator untouched when the vector is invalid', () => {
    const dense = Float32Array.from([1, 1, 1]);
    expect(() => {
      addSparseInto(dense, sparse(3, [0, 2], [5, Number.NaN]));
    }).toThrow(InvalidSparseVectorError);
    expect(() => {
      addSparseInto(dense, sparse(4, [0], [5]));
    }).toThrow(expect.objectContaining({ code: 'length-mismatch' }));
    expect(() => {
      addSparseInto(dense, sparse(3, [0], [5]), Infinity);
    }).toThrow(expect.objectContaining({ code: 'non-finite' }));
    expect(Array.from(dense)).toEqual([1, 1, 1]);
  });

  it('into zeros with scale 1 equals densify', () => {
    fc.assert(
      fc.property(sparseVectorOf(12), (vector) => {
        const dense = new Float32Array(12);
        addSparseInto(dense, vector);
        // 0 + v can turn -0 into +0; compare as numbers.
        expect(Array.from(dense)).toEqual(Array.from(densify(vector), (x) => x + 0));
      }),
    );
  });
});

describe('densify', () => {
  it('places values and zero-fills the rest', () => {
    expect(Array.from(densify(sparse(5, [0, 3], [7, -1.5])))).toEqual([7, 0, 0, -1.5, 0]);
  });

  it('matches the plain-array expansion', () => {
    fc.assert(
      fc.property(sparseVectorOf(20), (vector) => {
        expect(Array.from(densify(vector))).toEqual(toDenseArray(vector));
      }),
    );
  });
});

describe('sparseNorm', () => {
  it('is the L2 norm over stored entries', () => {
    // sqrt(3^2 + 4^2) = 5; sqrt(1 + 4 + 4) = 3.
    expect(sparseNorm(sparse(10, [2, 7], [3, -4]))).toBe(5);
    expect(sparseNorm(sparse(3, [0, 1, 2], [1, 2, -2]))).toBe(3);
    expect(sparseNorm(sparse(3, [], []))).toBe(0);
  });

  it('is absolutely homogeneous: ||c x|| = |c| ||x||, exactly for powers of two', () => {
    const powerOfTwo = fc.constantFrom(-4, -2, -1, -0.5, -0.25, 0.25, 0.5, 1, 2, 4);
    fc.assert(
      fc.property(sparseVectorOf(16, dyadic), powerOfTwo, (vector, c) => {
        // For normal floats (dyadic j/8 values, never subnormal) scaling by 2^m is exact in
        // float32, the squares scale by 4^m exactly, and sqrt(4^m s) = 2^m sqrt(s) holds for the
        // correctly rounded sqrt, so no tolerance is needed. (Subnormals would lose bits.)
        expect(sparseNorm(scaleSparse(vector, c))).toBe(Math.abs(c) * sparseNorm(vector));
      }),
    );
  });
});

describe('scaleSparse', () => {
  it('multiplies values and copies the arrays', () => {
    const vector = sparse(6, [1, 4], [2, -3]);
    const scaled = scaleSparse(vector, -0.5);
    // [2 * -0.5, -3 * -0.5] = [-1, 1.5]
    expect(Array.from(scaled.indices)).toEqual([1, 4]);
    expect(Array.from(scaled.values)).toEqual([-1, 1.5]);
    expect(scaled.length).toBe(6);
    expect(scaled.indices).not.toBe(vector.indices);
  });

  it('rejects a factor that overflows float32', () => {
    // 1e30 * 1e10 = 1e40 > 3.4e38.
    expect(() => scaleSparse(sparse(2, [0], [1e30]), 1e10)).toThrow(
      expect.objectContaining({ code: 'non-finite' }),
    );
  });
});
