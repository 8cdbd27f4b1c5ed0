import { describe, expect, it } from 'vitest';
import {
  convergenceColumns,
  latestEvaluation,
  overlayAccuracy,
  periodicLabel,
  phaseBands,
  ratesOf,
  rejectedByReason,
  stalenessHistogram,
  throughputColumns,
  trafficColumns,
} from './series.js';
import { point } from './test-support/fixtures.js';

describe('convergenceColumns', () => {
  it('puts test metrics where evaluated and gaps elsewhere, against time', () => {
    const points = [
      point({ elapsedSeconds: 1, version: 10, trainLoss: 2 }),
      point({ elapsedSeconds: 2, version: 20, testAccuracy: 0.5, testLoss: 1.5, trainLoss: 1.8 }),
    ];
    expect(convergenceColumns(points, 'time')).toEqual([
      [1, 2],
      [null, 0.5],
      [null, null],
      [null, 1.5],
      [null, null],
      [2, 1.8],
    ]);
  });

  it('draws whole-test-set figures apart from the sample ones, an accuracy of 0 included', () => {
    const points = [
      point({ elapsedSeconds: 1, testAccuracy: 0, testLoss: 2.3, testExamples: 200 }),
      point({
        elapsedSeconds: 2,
        testAccuracy: 0.92,
        testLoss: 0.3,
        testExamples: 200,
        testSet: 'sample',
      }),
      point({
        elapsedSeconds: 3,
        testAccuracy: 0.88,
        testLoss: 0.4,
        testExamples: 10_000,
        testSet: 'full',
      }),
    ];
    const [, sample, full, sampleLoss, fullLoss] = convergenceColumns(points, 'time');
    expect(sample).toEqual([0, 0.92, null]);
    expect(full).toEqual([null, null, 0.88]);
    expect(sampleLoss).toEqual([2.3, 0.3, null]);
    expect(fullLoss).toEqual([null, null, 0.4]);
  });

  it('labels the periodic series with the sample size', () => {
    expect(periodicLabel('test accuracy', 2000)).toBe('test accuracy (2,000 examples)');
    expect(periodicLabel('test loss', undefined)).toBe('test loss (whole test set)');
  });

  it('sorts by version, since an evaluation point carries the older version it evaluated', () => {
    const points = [
      point({ elapsedSeconds: 1, version: 60 }),
      point({ elapsedSeconds: 2, version: 50, testAccuracy: 0.7 }),
      point({ elapsedSeconds: 3, version: 80 }),
    ];
    const [x, accuracy] = convergenceColumns(points, 'version');
    expect(x).toEqual([50, 60, 80]);
    expect(accuracy).toEqual([0.7, null, null]);
  });
});

describe('ratesOf', () => {
  it('divides the counter difference by the elapsed-time difference of consecutive points', () => {
    const points = [
      point({ elapsedSeconds: 0, updatesApplied: 0 }),
      point({ elapsedSeconds: 2, updatesApplied: 10 }),
      point({ elapsedSeconds: 3, updatesApplied: 13 }),
    ];
    expect(ratesOf(points, (p) => p.updatesApplied)).toEqual([null, 5, 3]);
  });

  it('leaves a gap when no time passed or the counter went down', () => {
    const points = [
      point({ elapsedSeconds: 1, bytesIn: 100 }),
      point({ elapsedSeconds: 1, bytesIn: 200 }),
      point({ elapsedSeconds: 2, bytesIn: 50 }),
      point({ elapsedSeconds: 4, bytesIn: 250 }),
    ];
    expect(ratesOf(points, (p) => p.bytesIn)).toEqual([null, null, null, 100]);
  });

  it('backs the throughput and traffic charts', () => {
    const points = [
      point({ elapsedSeconds: 0, samples: 0, bytesOut: 0, updatesRejected: { stale: 1 } }),
      point({
        elapsedSeconds: 4,
        samples: 128,
        bytesOut: 4000,
        updatesApplied: 4,
        updatesRejected: { stale: 3, late: 6 },
      }),
    ];
    expect(throughputColumns(points)).toEqual([
      [0, 4],
      [null, 1],
      [null, 2],
      [null, 32],
    ]);
    expect(trafficColumns(points)[2]).toEqual([null, 1000]);
  });
});

describe('phaseBands', () => {
  it('merges consecutive points of one phase and tiles the axis', () => {
    const points = [
      point({ elapsedSeconds: 0, phase: 'async' }),
      point({ elapsedSeconds: 5, phase: 'async' }),
      point({ elapsedSeconds: 10, phase: 'hybrid', k: 2 }),
      point({ elapsedSeconds: 15, phase: 'hybrid', k: 3 }),
      point({ elapsedSeconds: 20, phase: 'sync', k: 4 }),
      point({ elapsedSeconds: 30, phase: 'sync', k: 4 }),
    ];
    expect(phaseBands(points, 'time')).toEqual([
      { phase: 'async', from: 0, to: 10 },
      { phase: 'hybrid', from: 10, to: 20 },
      { phase: 'sync', from: 20, to: 30 },
    ]);
  });

  it('gives nothing for no points and a zero-width band for one', () => {
    expect(phaseBands([], 'time')).toEqual([]);
    expect(phaseBands([point({ version: 7, phase: 'sync' })], 'version')).toEqual([
      { phase: 'sync', from: 7, to: 7 },
    ]);
  });
});

describe('stalenessHistogram', () => {
  it('sums the per-interval counts bucket by bucket', () => {
    const points = [
      point({ staleness: { p50: 0, p90: 1, max: 1, counts: [3, 1] } }),
      point({ staleness: { p50: 1, p90: 2, max: 2, counts: [1, 2, 4] } }),
      point({ staleness: { p50: 0, p90: 0, max: 0, counts: [] } }),
    ];
    expect(stalenessHistogram(points)).toEqual([
      [0, 1, 2],
      [4, 3, 4],
    ]);
  });
});

describe('rejectedByReason', () => {
  it('lists non-zero reasons of the latest point, most frequent first', () => {
    const latest = point({ updatesRejected: { stale: 4, duplicate: 0, late: 9, 'non-finite': 4 } });
    expect(rejectedByReason(latest)).toEqual([
      { reason: 'late', count: 9 },
      { reason: 'non-finite', count: 4 },
      { reason: 'stale', count: 4 },
    ]);
    expect(rejectedByReason(undefined)).toEqual([]);
  });
});

describe('overlayAccuracy', () => {
  it('aligns runs on the union of their evaluated x values with gaps', () => {
    const a = [
      point({ elapsedSeconds: 1, testAccuracy: 0.2 }),
      point({ elapsedSeconds: 2 }),
      point({ elapsedSeconds: 3, testAccuracy: 0.6 }),
    ];
    const b = [point({ elapsedSeconds: 2, testAccuracy: 0.3 })];
    expect(overlayAccuracy([a, b], 'time')).toEqual([
      [1, 2, 3],
      [0.2, null, 0.6],
      [null, 0.3, null],
    ]);
  });

  it("overlays each run's periodic evaluations, not its occasional whole-set ones", () => {
    const sampled = [
      point({ elapsedSeconds: 1, testAccuracy: 0.5, testSet: 'sample', testExamples: 100 }),
      point({ elapsedSeconds: 2, testAccuracy: 0.4, testSet: 'full', testExamples: 2000 }),
    ];
    const wholeSet = [
      point({ elapsedSeconds: 2, testAccuracy: 0.7, testSet: 'full', testExamples: 2000 }),
    ];
    expect(overlayAccuracy([sampled, wholeSet], 'time')).toEqual([
      [1, 2],
      [0.5, null],
      [null, 0.7],
    ]);
  });
});

describe('latestEvaluation', () => {
  it('finds the last point with test metrics', () => {
    const evaluated = point({ version: 50, testAccuracy: 0.8, testLoss: 0.6 });
    expect(latestEvaluation([point(), evaluated, point({ version: 60 })])).toBe(evaluated);
    expect(latestEvaluation([point()])).toBeUndefined();
  });
});
