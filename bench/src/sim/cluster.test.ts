import { describe, expect, it } from 'vitest';
import { DEFAULT_CLUSTER } from '../experiments/common.js';
import { CoordinatorModel, downloadMs, uploadMs, workerProfiles, WorkerTiming } from './cluster.js';

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

  it('the coordinator serves its link and its thread first come, first served', () => {
    const spec = {
      ...DEFAULT_CLUSTER,
      coordinatorBytesPerSecond: 1e6,
      coordinatorMsPerCoordinate: 0.01,
    };
    const c = new CoordinatorModel(spec);
    // 100 KB takes 100 ms on the shared link; the second message waits for the first.
    expect(c.reserveInbound(0, 100_000, 10)).toBe(100);
    expect(c.reserveInbound(50, 100_000, 60)).toBe(200);
    // A slow worker link finishes after the shared link is done with it.
    expect(c.reserveInbound(500, 1000, 900)).toBe(900);
    // 1,000 coordinates take 10 ms of the thread; the next update queues behind.
    expect(c.reserveProcessing(0, 1000)).toBe(10);
    expect(c.reserveProcessing(5, 1000)).toBe(20);
    expect(c.maxQueueMs).toBe(5);
    expect(c.busyMs).toBe(20);
    expect(c.reserveOutbound(0, 1_000_000)).toBe(1000);
    expect(c.reserveOutbound(10, 1000)).toBe(1001);
  });

  it('an infinite link and a free coordinator add no time', () => {
    const c = new CoordinatorModel({
      ...DEFAULT_CLUSTER,
      coordinatorBytesPerSecond: Number.POSITIVE_INFINITY,
      coordinatorMsPerCoordinate: 0,
    });
    expect(c.reserveInbound(7, 1e9, 7)).toBe(7);
    expect(c.reserveProcessing(7, 1e6)).toBe(7);
    expect(c.reserveOutbound(7, 1e9)).toBe(7);
  });
});
