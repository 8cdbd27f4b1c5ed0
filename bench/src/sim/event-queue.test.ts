import { describe, expect, it } from 'vitest';
import { EventQueue } from './event-queue.js';

describe('EventQueue', () => {
  it('pops in time order, ties in insertion order, and advances the clock', () => {
    const queue = new EventQueue<string>();
    queue.push(5, 'c');
    queue.push(1, 'a');
    queue.push(5, 'd');
    queue.push(3, 'b');
    queue.push(1, 'a2');
    const popped: string[] = [];
    for (let e = queue.pop(); e !== undefined; e = queue.pop()) popped.push(e.event);
    expect(popped).toEqual(['a', 'a2', 'b', 'c', 'd']);
    expect(queue.now).toBe(5);
  });

  it('refuses an event before the clock', () => {
    const queue = new EventQueue<number>();
    queue.push(10, 1);
    queue.pop();
    expect(() => {
      queue.push(9, 2);
    }).toThrow(RangeError);
    expect(() => {
      queue.push(Number.NaN, 2);
    }).toThrow(RangeError);
  });

  it('matches a sort on many random events', () => {
    const queue = new EventQueue<number>();
    const times: number[] = [];
    let x = 7;
    for (let i = 0; i < 500; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      const t = x % 97;
      times.push(t);
      queue.push(t, i);
    }
    const out: number[] = [];
    for (let e = queue.pop(); e !== undefined; e = queue.pop()) out.push(e.at);
    expect(out).toEqual([...times].sort((a, b) => a - b));
  });
});
