import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  sparse,
  sparseVectorOf,
  unweighted,
  withPermutation,
} from '../test-support/sparse-fixtures.js';
import { aggregateCenteredClip } from './centered-clip.js';
import { aggregateMean } from './mean.js';

const x1 = sparse(2, [0, 1], [3, 4]);
const x2 = sparse(2, [1], [0.5]);

describe('aggregateCenteredClip', () => {
  it('one step from zero clips each update to the radius around the centre', () => {
    // v0 = 0, tau = 1. ||x1 - v0|| = 5 -> c1 = 1/5; ||x2 - v0|| = 0.5 -> c2 = 1.
    // v1 = 0 + ((1/5) [3, 4] + [0, 0.5]) / 2 = ([0.6, 0.8] + [0, 0.5]) / 2 = [0.3, 0.65].
    const v1 = aggregateCenteredClip(unweighted([x1, x2]), { radius: 1 });
    expect(v1[0]).toBeCloseTo(0.3, 6);
    expect(v1[1]).toBeCloseTo(0.65, 6);
  });

  it('refines the centre over L iterations', () => {
    // Step 2 from v1 = [0.3, 0.65]: x1 - v1 = [2.7, 3.35], norm sqrt(7.29 + 11.2225) = 4.3026155
    // -> c1 = 0.23241677; x2 - v1 = [-0.3, -0.15], norm 0.3354102 < 1 -> c2 = 1.
    // v2 = v1 + (c1 [2.7, 3.35] + [-0.3, -0.15]) / 2 = [0.3 + (0.6275253 - 0.3) / 2,
    //      0.65 + (0.7785962 - 0.15) / 2] = [0.4637626, 0.9642981].
    const v2 = aggregateCenteredClip(unweighted([x1, x2]), { radius: 1, iterations: 2 });
    expect(v2[0]).toBeCloseTo(0.4637626, 6);
    expect(v2[1]).toBeCloseTo(0.9642981, 6);
  });

  it('measures distances to a dense centre, including coordinates an update does not store', () => {
    // v0 = [1, 1, 2]; x1 = [3, 4, 0], x2 = [0, 0.5, 0], tau = 1.
    // x1 - v0 = [2, 3, -2], norm sqrt(17) = 4.1231056 -> c1 = 0.24253563;
    // x2 - v0 = [-1, -0.5, -2], norm sqrt(5.25) = 2.2912878 -> c2 = 0.43643578.
    // v1 = v0 + (c1 (x1 - v0) + c2 (x2 - v0)) / 2
    //    = [1 + (0.4850713 - 0.4364358) / 2, 1 + (0.7276069 - 0.2182179) / 2,
    //       2 + (-0.4850713 - 0.8728716) / 2] = [1.0243177, 1.2546945, 1.3210286].
    const center = Float32Array.from([1, 1, 2]);
    const v1 = aggregateCenteredClip(
      unweighted([sparse(3, [0, 1], [3, 4]), sparse(3, [1], [0.5])]),
      { radius: 1, center },
    );
    expect(v1[0]).toBeCloseTo(1.0243177, 6);
    expect(v1[1]).toBeCloseTo(1.2546945, 6);
    expect(v1[2]).toBeCloseTo(1.3210286, 6);
    expect(Array.from(center)).toEqual([1, 1, 2]);
  });

  it('with a radius no update reaches is one step to the mean, from any centre', () => {
    fc.assert(
      fc.property(
        fc.array(sparseVectorOf(6), { minLength: 1, maxLength: 5 }),
        fc.float32Array({ minLength: 6, maxLength: 6, min: -1000, max: 1000, noNaN: true }),
        (updates, center) => {
          // v1 = v0 + (1/n) sum (x_i - v0) = (1/n) sum x_i when every c_i = 1.
          const v1 = aggregateCenteredClip(unweighted(updates), { radius: 1e9, center });
          const mean = aggregateMean(unweighted(updates));
          mean.forEach((m, j) => {
            expect(v1[j]).toBeCloseTo(m, 2);
          });
        },
      ),
    );
  });

  it('moves the centre by at most tau per iteration, whatever the updates', () => {
    const big = fc.float({ min: Math.fround(-1e20), max: Math.fround(1e20), noNaN: true });
    fc.assert(
      fc.property(
        fc.array(sparseVectorOf(6, big), { minLength: 1, maxLength: 5 }),
        fc.double({ min: 1e-3, max: 10, noNaN: true }),
        (updates, radius) => {
          // ||v1 - v0|| <= (1/n) sum_i c_i ||x_i - v0|| <= (1/n) n tau = tau (v0 = 0 here).
          const v1 = aggregateCenteredClip(unweighted(updates), { radius });
          const moved = Math.sqrt(v1.reduce((s, x) => s + x * x, 0));
          expect(moved).toBeLessThanOrEqual(radius * (1 + 1e-6));
        },
      ),
    );
  });

  it('is invariant to the order of contributions', () => {
    fc.assert(
      fc.property(
        withPermutation(fc.array(sparseVectorOf(6), { minLength: 1, maxLength: 6 })),
        ([updates, permuted]) => {
          const options = { radius: 5, iterations: 3 };
          const a = aggregateCenteredClip(unweighted(updates), options);
          const b = aggregateCenteredClip(unweighted(permuted), options);
          a.forEach((x, j) => {
            expect(b[j]).toBeCloseTo(x, 4);
          });
        },
      ),
    );
  });

  it('rejects bad options', () => {
    const contributions = unweighted([x1]);
    for (const options of [
      { radius: 0 },
      { radius: Number.NaN },
      { radius: 1, iterations: 0 },
      { radius: 1, iterations: 1.5 },
      { radius: 1, center: new Float32Array(3) },
      { radius: 1, center: Float32Array.from([0, Number.NaN]) },
    ]) {
      expect(() => aggregateCenteredClip(contributions, options)).toThrow(
        expect.objectContaining({ code: 'invalid-option' }),
      );
    }
  });
});
