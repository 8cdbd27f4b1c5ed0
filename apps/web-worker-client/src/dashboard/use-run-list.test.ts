import { describe, expect, it } from 'vitest';
import { upsertRun } from './use-run-list.js';
import { run } from './test-support/fixtures.js';

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
