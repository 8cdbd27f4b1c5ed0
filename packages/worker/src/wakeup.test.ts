import { describe, expect, it } from 'vitest';
import { Wakeup } from './wakeup.js';

describe('Wakeup', () => {
  it('returns true at once when the condition already holds', async () => {
    expect(await new Wakeup().until(() => true, 0)).toBe(true);
  });

  it('returns false after the timeout when nothing changes', async () => {
    const started = Date.now();
    expect(await new Wakeup().until(() => false, 40)).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(35);
  });

  it('re-checks on notify: a notify without the change keeps waiting, with it ends the wait', async () => {
    const wakeup = new Wakeup();
    let ready = false;
    let checks = 0;
    const waiting = wakeup.until(() => {
      checks++;
      return ready;
    }, Infinity);
    wakeup.notify();
    await new Promise((resolve) => setTimeout(resolve, 5));
    // Checked at the start and after the first notify.
    expect(checks).toBe(2);
    ready = true;
    wakeup.notify();
    expect(await waiting).toBe(true);
    expect(checks).toBe(3);
  });
});
