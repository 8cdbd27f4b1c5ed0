import { describe, expect, it } from 'vitest';
import { leastCoveredShard, type WorkerRecord } from './live-run.js';

function runWith(shardCount: number, held: number[]) {
  const workers = new Map<string, WorkerRecord>();
  held.forEach((shardIndex, i) => {
    workers.set(`w${i}`, {
      workerId: `w${i}`,
      kind: 'browser',
      browser: '',
      os: '',
      backend: 'webgpu',
      samplesPerSecond: 0,
      updatesApplied: 0,
      updatesRejected: 0,
      lastSeenAt: 0,
      shardIndex,
      unsaved: { applied: 0, rejected: 0, samples: 0 },
    });
  });
  return { shards: Array.from({ length: shardCount }, () => new Uint8Array()), workers };
}

describe('leastCoveredShard', () => {
  it('hands out every shard once before any twice', () => {
    expect(leastCoveredShard(runWith(3, []))).toBe(0);
    expect(leastCoveredShard(runWith(3, [0]))).toBe(1);
    expect(leastCoveredShard(runWith(3, [0, 1]))).toBe(2);
    expect(leastCoveredShard(runWith(3, [0, 1, 2]))).toBe(0);
  });

  it('gives the shard of a worker that left to the next one to join', () => {
    // Workers on 1, 2 and 3 remain; the one that held 0 left (a reloaded tab gets its cached shard back).
    expect(leastCoveredShard(runWith(4, [1, 2, 3]))).toBe(0);
    expect(leastCoveredShard(runWith(4, [0, 0, 1, 2, 3, 3]))).toBe(1);
  });
});
