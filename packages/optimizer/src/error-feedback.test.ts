import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorFeedback } from './error-feedback.js';
import { mulberry32 } from './random.js';
import { densify } from './sparse-vector.js';
import { selectTopK } from './top-k.js';

/**
 * Bit patterns after adding +0, which maps -0 to +0 and leaves every other
 * float32 alone. The identity holds bit for bit except for the sign of zero:
 * -0 + 0 is +0, so a -0 entry of a reads as +0 in sent + r'.
 */
function canonicalBits(values: Float32Array): number[] {
  return Array.from(new Uint32Array(values.map((x) => x + 0).buffer));
}

const finite = { min: -1e6, max: 1e6, noNaN: true } as const;

describe('ErrorFeedback', () => {
  it('follows a hand-computed two-step run', () => {
    const feedback = new ErrorFeedback(4);
    // Step 1: r = 0, u = [1, -3, 2, 0.5], a = u; top-2 by |a| = indices 1 (3) and 2 (2).
    const first = feedback.compress(Float32Array.from([1, -3, 2, 0.5]), 2, mulberry32(1));
    expect(Array.from(first.indices)).toEqual([1, 2]);
    expect(Array.from(first.values)).toEqual([-3, 2]);
    expect(Array.from(feedback.residual)).toEqual([1, 0, 0, 0.5]);
    // Step 2: u = [1, 1, 1, 1], a = [2, 1, 1, 1.5]; top-2 = indices 0 (2) and 3 (1.5).
    const second = feedback.compress(Float32Array.from([1, 1, 1, 1]), 2, mulberry32(2));
    expect(Array.from(second.indices)).toEqual([0, 3]);
    expect(Array.from(second.values)).toEqual([2, 1.5]);
    expect(Array.from(feedback.residual)).toEqual([0, 1, 1, 0]);
  });

  it('loses nothing: densify(sent) + r_new == r_old + input, bitwise in float32, step after step', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }).chain((length) =>
          fc.tuple(
            fc.constant(length),
            fc.array(fc.float32Array({ minLength: length, maxLength: length, ...finite }), {
              minLength: 1,
              maxLength: 6,
            }),
            fc.nat({ max: length }),
          ),
        ),
        fc.integer(),
        ([length, inputs, k], seed) => {
          const feedback = new ErrorFeedback(length);
          const random = mulberry32(seed);
          for (const input of inputs) {
            const before = feedback.residual.slice();
            // a = r + u, rounded to float32 once: what the worker accumulated this step.
            const accumulated = before.map((r, i) => r + input[i]);
            const sent = feedback.compress(input, k, random);
            expect(sent.indices.length).toBe(k);
            const reconstructed = densify(sent).map((s, i) => s + feedback.residual[i]);
            expect(canonicalBits(reconstructed)).toEqual(canonicalBits(accumulated));
            // And the sent part is exactly top-k of a.
            const expected = selectTopK(accumulated, k, mulberry32(0));
            expect(Array.from(sent.indices)).toEqual(Array.from(expected.indices));
          }
        },
      ),
    );
  });

  it('holds the identity on vectors long enough for the sampled-threshold path', () => {
    const length = 50_000;
    const random = mulberry32(11);
    const feedback = new ErrorFeedback(length);
    for (let step = 0; step < 3; step++) {
      const input = new Float32Array(length).map(() => random() - 0.5);
      const accumulated = feedback.residual.map((r, i) => r + input[i]);
      const sent = feedback.compress(input, 500, random);
      const reconstructed = densify(sent).map((s, i) => s + feedback.residual[i]);
      expect(canonicalBits(reconstructed)).toEqual(canonicalBits(accumulated));
    }
  });

  it('is plain top-k without memory when disabled', () => {
    fc.assert(
      fc.property(
        fc.float32Array({ minLength: 1, maxLength: 40, ...finite }),
        fc.nat({ max: 40 }),
        (input, k) => {
          const feedback = new ErrorFeedback(input.length, { enabled: false });
          const once = feedback.compress(input, k, mulberry32(1));
          const twice = feedback.compress(input, k, mulberry32(2));
          const expected = selectTopK(input, k, mulberry32(3));
          expect(Array.from(once.indices)).toEqual(Array.from(expected.indices));
          expect(Array.from(twice.indices)).toEqual(Array.from(expected.indices));
          expect(feedback.residual.every((r) => r === 0)).toBe(true);
        },
      ),
    );
  });

  it('reset forgets the residual', () => {
    const feedback = new ErrorFeedback(3);
    feedback.compress(Float32Array.from([1, 2, 3]), 1, mulberry32(1));
    expect(Array.from(feedback.residual)).toEqual([1, 2, 0]);
    feedback.reset();
    expect(Array.from(feedback.residual)).toEqual([0, 0, 0]);
  });

  it('rejects non-finite input, leaving the residual as it was', () => {
    const feedback = new ErrorFeedback(3);
    // a = [1, 2, 3]; top-1 sends index 2, so r = [1, 2, 0].
    feedback.compress(Float32Array.from([1, 2, 3]), 1, mulberry32(1));
    for (const bad of [Number.NaN, Infinity, -Infinity]) {
      expect(() => feedback.compress(Float32Array.from([0, bad, 0]), 1, mulberry32(1))).toThrow(
        expect.objectContaining({ name: 'ErrorFeedbackError', code: 'non-finite' }),
      );
      expect(Array.from(feedback.residual)).toEqual([1, 2, 0]);
    }
  });

  it('rejects a float32 overflow of r + u, leaving the residual as it was', () => {
    const feedback = new ErrorFeedback(2);
    // a = [3e38, -3.2e38]; top-1 sends index 1 (the larger magnitude), so r = [3e38, 0].
    feedback.compress(Float32Array.from([3e38, -3.2e38]), 1, mulberry32(1));
    expect(Array.from(feedback.residual)).toEqual([Math.fround(3e38), 0]);
    // r + u = 3e38 + 3e38 = 6e38 > 3.4e38: Infinity in float32, although u itself is finite.
    expect(() => feedback.compress(Float32Array.from([3e38, 0]), 1, mulberry32(1))).toThrow(
      expect.objectContaining({ name: 'ErrorFeedbackError', code: 'non-finite' }),
    );
    expect(Array.from(feedback.residual)).toEqual([Math.fround(3e38), 0]);
  });

  it('rejects an input of the wrong length', () => {
    expect(() => new ErrorFeedback(3).compress(new Float32Array(4), 1, mulberry32(1))).toThrow(
      expect.objectContaining({ code: 'length-mismatch' }),
    );
  });

  it('restore gives a rejected update back: residual after == r_old + input, bit for bit', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 64 })
          .chain((length) =>
            fc.tuple(
              fc.float32Array({ minLength: length, maxLength: length, ...finite }),
              fc.float32Array({ minLength: length, maxLength: length, ...finite }),
              fc.integer({ min: 0, max: length }),
              fc.integer(),
            ),
          ),
        ([first, input, k, seed]) => {
          const feedback = new ErrorFeedback(first.length);
          feedback.compress(first, Math.floor(k / 2), mulberry32(seed));
          const before = feedback.residual.slice();
          const sent = feedback.compress(input, k, mulberry32(seed + 1));
          feedback.restore(sent);
          const expected = before.map((r, i) => r + input[i]);
          expect(canonicalBits(feedback.residual)).toEqual(canonicalBits(expected));
        },
      ),
    );
  });

  it('restore refuses a bad vector or an overflow and leaves the residual alone; no-op without memory', () => {
    const feedback = new ErrorFeedback(3);
    // a = [3e38, 1, 2]; top-1 sends index 0, so r = [0, 1, 2].
    const sent = feedback.compress(Float32Array.from([3e38, 1, 2]), 1, mulberry32(1));
    const vector = (indices: number[], values: number[], length = 3) => ({
      length,
      indices: Uint32Array.from(indices),
      values: Float32Array.from(values),
    });
    expect(() => {
      feedback.restore(vector([0], [1], 4));
    }).toThrow(expect.objectContaining({ code: 'length-mismatch' }));
    expect(() => {
      feedback.restore(vector([2, 1], [1, 1]));
    }).toThrow(expect.objectContaining({ code: 'invalid-vector' }));
    expect(Array.from(feedback.residual)).toEqual([0, 1, 2]);
    feedback.restore(sent);
    expect(Array.from(feedback.residual)).toEqual([Math.fround(3e38), 1, 2]);
    // A second give-back would make r[0] = 6e38, Infinity in float32; index 2 comes after it
    // and must not have been written either.
    expect(() => {
      feedback.restore(vector([0, 2], [3e38, 1]));
    }).toThrow(expect.objectContaining({ code: 'non-finite' }));
    expect(Array.from(feedback.residual)).toEqual([Math.fround(3e38), 1, 2]);
    const plain = new ErrorFeedback(3, { enabled: false });
    plain.restore(vector([0], [1]));
    expect(Array.from(plain.residual)).toEqual([0, 0, 0]);
  });
});
