import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  sparse,
  sparseVectorOf,
  toDenseArray,
  unweighted,
} from '../test-support/sparse-fixtures.js';
import { aggregate, AGGREGATION_RULE_NAMES } from './aggregate.js';
import type { AggregationRule } from './aggregate.js';
import { AggregationError } from './aggregation-error.js';
import { aggregateCenteredClip } from './centered-clip.js';
import { aggregateGuardedMean } from './guarded-mean.js';
import type { Contribution } from './contribution.js';
import { aggregateMean, aggregateMeanSparse } from './mean.js';
import { aggregateMedian } from './median.js';
import { aggregateNormClip } from './norm-clip.js';
import { aggregateNormFilter } from './norm-filter.js';
import { aggregateTrimmedMean } from './trimmed-mean.js';

const everyRule: readonly AggregationRule[] = [
  { rule: 'mean' },
  { rule: 'norm-clip', maxNorm: 3 },
  { rule: 'trimmed-mean', trimFraction: 0.2 },
  { rule: 'median' },
  { rule: 'centered-clip', radius: 2, iterations: 2 },
  { rule: 'norm-filter', factor: 3 },
  { rule: 'guarded-mean', normFactor: 4, magnitudeFactor: 8, window: 64, warmup: 8 },
];

function errorOf(action: () => unknown): AggregationError {
  try {
    action();
  } catch (error) {
    if (error instanceof AggregationError) return error;
    throw error;
  }
  throw new Error('expected an AggregationError');
}

describe('aggregate', () => {
  it('covers every rule name of the schema', () => {
    expect(everyRule.map((r) => r.rule)).toEqual([...AGGREGATION_RULE_NAMES]);
  });

  it('dispatches to the rule functions', () => {
    fc.assert(
      fc.property(fc.array(sparseVectorOf(8), { minLength: 1, maxLength: 5 }), (updates) => {
        const contributions = unweighted(updates);
        const center = Float32Array.from([1, 0, 0, 0, 0, 0, 0, -1]);
        // The mean goes sparse when the inputs store under a quarter of P (see mean.test.ts).
        const stored = updates.reduce((sum, u) => sum + u.indices.length, 0);
        expect(aggregate({ rule: 'mean' }, contributions)).toEqual(
          stored * 4 < 8 ? aggregateMeanSparse(contributions) : aggregateMean(contributions),
        );
        expect(aggregate({ rule: 'norm-clip', maxNorm: 3 }, contributions)).toEqual(
          aggregateNormClip(contributions, 3),
        );
        expect(aggregate({ rule: 'trimmed-mean', trimFraction: 0.2 }, contributions)).toEqual(
          aggregateTrimmedMean(contributions, 0.2),
        );
        expect(aggregate({ rule: 'median' }, contributions)).toEqual(
          aggregateMedian(contributions),
        );
        expect(
          aggregate({ rule: 'centered-clip', radius: 2, iterations: 2 }, contributions, {
            center,
          }),
        ).toEqual(aggregateCenteredClip(contributions, { radius: 2, iterations: 2, center }));
        expect(
          aggregate({ rule: 'norm-filter', factor: 3 }, contributions, { recentNorms: [1] }),
        ).toEqual(aggregateNormFilter(contributions, 3, [1]).update);
        const guarded = { normFactor: 4, magnitudeFactor: 8, window: 64, warmup: 2 };
        const accepted = [{ norm: 1, maxAbs: 1 }];
        const modelScale = () => ({ norm: 2, maxAbs: 1 });
        expect(
          aggregate({ rule: 'guarded-mean', ...guarded }, contributions, { accepted, modelScale }),
        ).toEqual(aggregateGuardedMean(contributions, guarded, accepted, modelScale).update);
      }),
    );
  });

  it.each(everyRule)('$rule: n copies of one update aggregate to that update', (rule) => {
    fc.assert(
      fc.property(
        // |value| <= 0.5 on 8 coordinates gives norm <= sqrt(8) / 2 < 1.5: inside norm-clip's
        // maxNorm 3 and centered-clip's radius 2, so neither clips and both return the update.
        sparseVectorOf(8, fc.float({ min: -0.5, max: 0.5, noNaN: true })),
        fc.integer({ min: 1, max: 6 }),
        (update, n) => {
          // A model scale large enough that the guarded mean's warm-up bounds clip nothing.
          const result = aggregate(
            rule,
            Array.from({ length: n }, () => ({ update })),
            { modelScale: () => ({ norm: 10, maxAbs: 10 }) },
          );
          const dense = result instanceof Float32Array ? Array.from(result) : toDenseArray(result);
          const expected = toDenseArray(update);
          dense.forEach((x, i) => {
            expect(x).toBeCloseTo(expected[i], 6);
          });
        },
      ),
    );
  });

  describe.each(everyRule)('$rule validates before computing', (rule) => {
    it('rejects an empty list', () => {
      expect(errorOf(() => aggregate(rule, [])).code).toBe('no-contributions');
    });

    it('rejects mixed dimensions', () => {
      const error = errorOf(() =>
        aggregate(rule, unweighted([sparse(3, [0], [1]), sparse(4, [0], [1])])),
      );
      expect(error.code).toBe('dimension-mismatch');
      expect(error.contributionIndex).toBe(1);
    });

    it('rejects non-finite values, naming the contribution', () => {
      for (const bad of [Number.NaN, Infinity, -Infinity]) {
        const error = errorOf(() =>
          aggregate(rule, unweighted([sparse(3, [0], [1]), sparse(3, [1, 2], [1, bad])])),
        );
        expect(error.code).toBe('non-finite');
        expect(error.contributionIndex).toBe(1);
      }
    });

    it('rejects broken sparse vectors', () => {
      const error = errorOf(() => aggregate(rule, unweighted([sparse(3, [2, 1], [1, 1])])));
      expect(error.code).toBe('invalid-update');
      expect(error.cause).toMatchObject({ code: 'unsorted-indices' });
    });

    it('rejects negative or non-finite weights', () => {
      for (const weight of [-1, Number.NaN, Infinity]) {
        const contributions: Contribution[] = [{ update: sparse(3, [0], [1]), weight }];
        expect(errorOf(() => aggregate(rule, contributions)).code).toBe('invalid-weight');
      }
    });
  });
});
