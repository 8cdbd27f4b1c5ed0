import { describe, expect, it } from 'vitest';
import { ContributionShare } from './contribution-share.js';

describe('ContributionShare', () => {
  it('limits a worker to slack / N of the window, never below one update', () => {
    const share = new ContributionShare(64, 2);
    expect(share.limit(1)).toBe(64);
    expect(share.limit(2)).toBe(64);
    expect(share.limit(4)).toBe(32);
    expect(share.limit(8)).toBe(16);
    expect(share.limit(1000)).toBe(1);
    expect(new ContributionShare(10, 1).limit(3)).toBe(4);
  });

  it('lets the worker whose oldest update leaves the full window go next, even at slack 1', () => {
    const share = new ContributionShare(4, 1);
    for (const id of ['a', 'a', 'b', 'b']) share.record(id);
    expect(share.allows('a', 2)).toBe(true); // its first 'a' is the one evicted
    expect(share.allows('b', 2)).toBe(false);
    share.record('a');
    expect(share.allows('a', 2)).toBe(true);
    share.record('a');
    expect(share.allows('a', 2)).toBe(false); // now a b b a a: the next to leave is a 'b'
    expect(share.allows('b', 2)).toBe(true);
  });

  it('counts only the last `window` updates', () => {
    const share = new ContributionShare(4, 1);
    for (const id of ['a', 'a']) share.record(id);
    expect(share.allows('a', 2)).toBe(false); // 2 of 4 with 2 workers: at its share
    expect(share.allows('b', 2)).toBe(true);
    for (const id of ['b', 'b', 'b']) share.record(id); // the first 'a' falls out
    expect(share.count('a')).toBe(1);
    expect(share.count('b')).toBe(3);
    expect(share.allows('a', 2)).toBe(true);
    share.record('b'); // and the second
    expect(share.count('a')).toBe(0);
    expect(share.count('b')).toBe(4);
  });

  it('does not let idle identities throttle the workers that train', () => {
    // 100 connected, 2 training: N is at most the contributors + 1 = 3, never 100.
    const share = new ContributionShare(64, 2);
    let accepted = 0;
    for (let i = 0; i < 1000; i++) {
      const id = i % 2 === 0 ? 'a' : 'b';
      if (share.allows(id, 100)) {
        share.record(id);
        accepted += 1;
      }
    }
    expect(accepted).toBe(1000);
    // One worker alone among idle ones is never refused.
    const alone = new ContributionShare(64, 2);
    for (let i = 0; i < 200; i++) {
      expect(alone.allows('a', 17)).toBe(true);
      alone.record('a');
    }
    // Still a cap: with a and b training, a fast c holds at most ceil(64 x 2 / 3) = 43.
    const fast = new ContributionShare(64, 2);
    for (let i = 0; i < 64; i++) fast.record(i % 2 === 0 ? 'a' : 'b');
    let held = 0;
    while (fast.allows('c', 3) && held < 64) {
      fast.record('c');
      held += 1;
    }
    expect(held).toBe(43);
  });
});
