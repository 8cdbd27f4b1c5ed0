import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PatchHistory } from './patch-history.js';

const P = 12;

/** The obvious model: one index list per version, the union of those after `from`. */
function naiveChangedSince(
  steps: readonly { version: number; changed: number[] | null }[],
  capacity: number,
  fromVersion: number,
  maxEntries: number,
): number[] | undefined {
  // Only the run of consecutive versions at the end counts (a gap starts over).
  let start = steps.length - 1;
  while (start > 0 && steps[start - 1]?.version === (steps[start]?.version ?? 0) - 1) start--;
  const kept = steps.slice(start).slice(-capacity);
  const first = kept[0]?.version;
  if (first !== undefined && fromVersion + 1 < first) return undefined;
  const after = kept.filter((step) => step.version > fromVersion);
  if (after.some((step) => step.changed === null)) return undefined;
  const union = [...new Set(after.flatMap((step) => step.changed ?? []))].sort((a, b) => a - b);
  return union.length >= maxEntries ? undefined : union;
}

describe('PatchHistory', () => {
  it('lists the coordinates changed after a version, sorted', () => {
    const history = new PatchHistory(P, 8, 0);
    history.record(1, Uint32Array.from([4, 1]));
    history.record(2, Uint32Array.from([1, 7]));
    expect(Array.from(history.changedSince(0, P) ?? [])).toEqual([1, 4, 7]);
    expect(Array.from(history.changedSince(1, P) ?? [])).toEqual([1, 7]);
    expect(Array.from(history.changedSince(2, P) ?? [])).toEqual([]);
    expect(history.changedSince(0, 3)).toBeUndefined(); // not smaller than 3 entries
  });

  it('answers as the union of per-version lists would, gaps, capacity and dense steps included', () => {
    const step = fc.record({
      gap: fc.boolean(),
      changed: fc.option(fc.uniqueArray(fc.nat({ max: P - 1 }), { maxLength: P }), {
        freq: 8,
        nil: null,
      }),
    });
    fc.assert(
      fc.property(
        fc.array(step, { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: 10 }),
        fc.nat({ max: 40 }),
        fc.integer({ min: 1, max: P + 1 }),
        (draws, capacity, from, maxEntries) => {
          const history = new PatchHistory(P, capacity, 0);
          const steps: { version: number; changed: number[] | null }[] = [];
          let version = 0;
          for (const draw of draws) {
            version += draw.gap ? 3 : 1;
            steps.push({ version, changed: draw.changed });
            history.record(version, draw.changed === null ? null : Uint32Array.from(draw.changed));
          }
          const fromVersion = Math.min(from, version);
          const got = history.changedSince(fromVersion, maxEntries);
          expect(got === undefined ? undefined : Array.from(got)).toEqual(
            naiveChangedSince(steps, capacity, fromVersion, maxEntries),
          );
        },
      ),
      { numRuns: 2000 },
    );
  });
});
