import { describe, expect, it } from 'vitest';
import { DEFAULT_CLUSTER } from '../experiments/common.js';
import { downloadMs, uploadMs, workerProfiles, WorkerTiming } from './cluster.js';

describe('cluster', () => {
  it('spreads slowdowns evenly from 1 to the spread', () => {
    const slowdowns = workerProfiles({ ...DEFAULT_CLUSTER, workers: 4, speedSpread: 4 }).map(
      (p) => p.slowdown,
    );
    expect(slowdowns).toEqual([1, 2, 3, 4]);
    expect(workerProfiles({ ...DEFAULT_CLUSTER, workers: 1 })[0]?.slowdown).toBe(1);
  });

  it('draws the same timings for the same seed and worker', () => {
    const profile = { index: 2, slowdown: 2 };
    const a = new WorkerTiming(DEFAULT_CLUSTER, profile, 5);
    const b = new WorkerTiming(DEFAULT_CLUSTER, profile, 5);
    const draws = (t: WorkerTiming): number[] => [t.computeMs(1), t.computeMs(4), t.uptimeMs()];
    expect(draws(a)).toEqual(draws(b));
  });

  it('compute time scales with local steps and slowdown; no jitter means exact', () => {
    const spec = { ...DEFAULT_CLUSTER, jitterSigma: 0, stallProbability: 0 };
    const timing = new WorkerTiming(spec, { index: 0, slowdown: 3 }, 1);
    expect(timing.computeMs(4)).toBeCloseTo(4 * 3 * spec.baseStepMs, 9);
  });

  it('transfer time is latency plus bytes over bandwidth', () => {
    const spec = {
      ...DEFAULT_CLUSTER,
      latencyMs: 50,
      uploadBytesPerSecond: 1e6,
      downloadBytesPerSecond: 4e6,
    };
    expect(uploadMs(spec, 500_000)).toBe(550);
    expect(downloadMs(spec, 400_000)).toBe(150);
  });
});
