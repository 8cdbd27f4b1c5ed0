import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { partition, PartitionError } from './partition.js';

const labelsArb = (classes: number, minLength: number) =>
  fc
    .array(fc.integer({ min: 0, max: classes - 1 }), { minLength, maxLength: 400 })
    .map((l) => Uint8Array.from(l));

/** Every index appears in at most one shard; returns how many appear at all. */
function assertDisjoint(shards: Uint32Array[], n: number): number {
  const seen = new Uint8Array(n);
  for (const shard of shards) {
    for (const i of shard) {
      expect(i).toBeLessThan(n);
      expect(seen[i]).toBe(0);
      seen[i] = 1;
    }
  }
  return seen.reduce((a, b) => a + b, 0);
}

const labelSet = (labels: Uint8Array, shard: Uint32Array) =>
  new Set(Array.from(shard, (i) => labels[i]));

describe('partition iid', () => {
  it('uses every example exactly once, in shards whose sizes differ by at most 1', () => {
    fc.assert(
      fc.property(
        labelsArb(10, 1),
        fc.integer({ min: 1, max: 40 }),
        fc.nat(),
        (labels, s, seed) => {
          fc.pre(s <= labels.length);
          const shards = partition(labels, { kind: 'iid' }, s, seed);
          expect(shards).toHaveLength(s);
          expect(assertDisjoint(shards, labels.length)).toBe(labels.length);
          const sizes = shards.map((shard) => shard.length);
          expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
          for (const shard of shards)
            expect(Array.from(shard)).toEqual(Array.from(shard).sort((a, b) => a - b));
        },
      ),
    );
  });

  it('is deterministic per seed and shuffles (shard 0 is not simply the first n/S)', () => {
    const labels = new Uint8Array(1000);
    const a = partition(labels, { kind: 'iid' }, 4, 3);
    expect(partition(labels, { kind: 'iid' }, 4, 3)).toEqual(a);
    expect(partition(labels, { kind: 'iid' }, 4, 4)).not.toEqual(a);
    // 7 examples -> sizes floor(7i/3) boundaries 0, 2, 4, 7: [2, 2, 3].
    expect(partition(new Uint8Array(7), { kind: 'iid' }, 3, 0).map((s) => s.length)).toEqual([
      2, 2, 3,
    ]);
    expect(a[0].some((i) => i >= 250)).toBe(true);
  });
});

describe('partition by-label', () => {
  it('gives 3 shards of 3 classes with L = 1 one class each', () => {
    const labels = Uint8Array.from([0, 1, 2, 0, 1, 2]);
    const shards = partition(labels, { kind: 'by-label', labelsPerShard: 1 }, 3, 11);
    const sets = shards.map((shard) => [...labelSet(labels, shard)]);
    expect(sets.every((s) => s.length === 1)).toBe(true);
    expect(sets.flat().sort()).toEqual([0, 1, 2]);
    expect(shards.every((shard) => shard.length === 2)).toBe(true);
  });

  it('uses every example once, covers every class, at most L labels per shard', () => {
    fc.assert(
      fc.property(
        labelsArb(10, 30),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 10 }),
        fc.nat(),
        (labels, s, l, seed) => {
          const classes = new Set(labels).size;
          fc.pre(s <= labels.length && l <= classes && s * l >= classes);
          const shards = partition(labels, { kind: 'by-label', labelsPerShard: l }, s, seed);
          expect(assertDisjoint(shards, labels.length)).toBe(labels.length);
          const covered = new Set<number>();
          for (const shard of shards) {
            const set = labelSet(labels, shard);
            expect(set.size).toBeLessThanOrEqual(l);
            for (const c of set) covered.add(c);
          }
          expect(covered.size).toBe(classes);
          expect(partition(labels, { kind: 'by-label', labelsPerShard: l }, s, seed)).toEqual(
            shards,
          );
        },
      ),
    );
  });

  it('gives exactly L labels per shard when every class has enough examples', () => {
    // 10 classes x 100 examples, 20 shards x 2 labels = 40 slots: each class in 4 shards, 25 each.
    const labels = Uint8Array.from({ length: 1000 }, (_, i) => i % 10);
    const shards = partition(labels, { kind: 'by-label', labelsPerShard: 2 }, 20, 5);
    for (const shard of shards) {
      expect(labelSet(labels, shard).size).toBe(2);
      expect(shard.length).toBe(50);
    }
  });
});

describe('partition errors', () => {
  const labels = Uint8Array.from([0, 1, 2, 3]);
  it.each([
    [{ kind: 'iid' } as const, 0, 'invalid-shard-count'],
    [{ kind: 'iid' } as const, 1.5, 'invalid-shard-count'],
    [{ kind: 'iid' } as const, 5, 'more-shards-than-examples'],
    [{ kind: 'by-label', labelsPerShard: 0 } as const, 2, 'invalid-labels-per-shard'],
    [{ kind: 'by-label', labelsPerShard: 5 } as const, 2, 'invalid-labels-per-shard'],
    [{ kind: 'by-label', labelsPerShard: 1 } as const, 3, 'too-few-shards'],
  ])('%o with %d shards -> %s', (spec, shards, code) => {
    expect(() => partition(labels, spec, shards, 0)).toThrow(PartitionError);
    expect(() => partition(labels, spec, shards, 0)).toThrow(expect.objectContaining({ code }));
  });

  it('rejects a bad seed', () => {
    expect(() => partition(labels, { kind: 'iid' }, 2, -1)).toThrow(
      expect.objectContaining({ code: 'invalid-seed' }),
    );
  });
});
