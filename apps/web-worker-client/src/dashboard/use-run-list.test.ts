import { describe, expect, it } from 'vitest';
import { mergeRunList, upsertRun } from './use-run-list.js';
import { point, run } from './test-support/fixtures.js';

describe('upsertRun', () => {
  it('replaces a known run in place and puts a new one first', () => {
    const list = [run({ id: 'b' }), run({ id: 'a' })];
    expect(
      upsertRun(list, run({ id: 'a', status: 'stopped' })).map((r) => [r.id, r.status]),
    ).toEqual([
      ['b', 'active'],
      ['a', 'stopped'],
    ]);
    expect(upsertRun(list, run({ id: 'c' })).map((r) => r.id)).toEqual(['c', 'b', 'a']);
  });
});

describe('run list ordering', () => {
  const at = (time: number, overrides: Parameters<typeof run>[0] = {}) =>
    run({ id: 'a', latest: point({ runId: 'a', at: time }), ...overrides });

  it('never puts an older summary over a newer one', () => {
    expect(upsertRun([at(2, { version: 50 })], at(1, { version: 48 }))[0]?.version).toBe(50);
    expect(upsertRun([at(1, { version: 48 })], at(2, { version: 50 }))[0]?.version).toBe(50);
    // As recent, but one of them has ended: the ended one is the newer view.
    expect(upsertRun([at(2, { status: 'completed' })], at(2))[0]?.status).toBe('completed');
    expect(upsertRun([at(2)], at(2, { status: 'stopped' }))[0]?.status).toBe('stopped');
  });

  it('keeps what the notices showed when a poll answered before them arrives after', () => {
    const fresh = at(5, { version: 50 });
    const polled = [at(3, { version: 48 }), run({ id: 'b' })];
    expect(mergeRunList([fresh], polled)).toEqual([fresh, run({ id: 'b' })]);
    expect(mergeRunList(undefined, polled)).toEqual(polled);
    // A newer poll wins.
    expect(mergeRunList([fresh], [at(7, { version: 60 })])[0]?.version).toBe(60);
  });
});
