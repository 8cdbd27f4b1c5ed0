/**
 * A min-priority queue of timed events for the virtual clock. Ties on time are
 * broken by insertion order, so a simulation that pushes the same events in the
 * same order pops them in the same order on every machine: the determinism the
 * simulated cluster promises rests on this.
 */
export interface Timed<T> {
  readonly at: number;
  readonly event: T;
}

interface Entry<T> extends Timed<T> {
  readonly order: number;
}

export class EventQueue<T> {
  private readonly heap: Entry<T>[] = [];
  private pushed = 0;
  private nowValue = 0;

  /** Time of the last popped event (0 before the first): the virtual clock. */
  get now(): number {
    return this.nowValue;
  }

  /** Schedules `event` at `at`, which may not lie before the clock (time never runs back). */
  push(at: number, event: T): void {
    if (!Number.isFinite(at) || at < this.nowValue) {
      throw new RangeError(`event at ${at} lies before the clock ${this.nowValue}`);
    }
    this.heap.push({ at, event, order: this.pushed++ });
    this.siftUp(this.heap.length - 1);
  }

  /** Removes and returns the earliest event, advancing the clock to it; undefined when empty. */
  pop(): Timed<T> | undefined {
    const top = this.heap.at(0);
    if (top === undefined) return undefined;
    const last = this.heap.pop();
    if (last !== undefined && this.heap.length > 0) {
      this.heap[0] = last;
      this.siftDown(0);
    }
    this.nowValue = top.at;
    return { at: top.at, event: top.event };
  }

  private before(a: Entry<T>, b: Entry<T>): boolean {
    return a.at < b.at || (a.at === b.at && a.order < b.order);
  }

  private siftUp(index: number): void {
    const heap = this.heap;
    let i = index;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(heap[i], heap[parent])) break;
      [heap[i], heap[parent]] = [heap[parent], heap[i]];
      i = parent;
    }
  }

  private siftDown(index: number): void {
    const heap = this.heap;
    let i = index;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let best = i;
      if (left < heap.length && this.before(heap[left], heap[best])) best = left;
      if (right < heap.length && this.before(heap[right], heap[best])) best = right;
      if (best === i) return;
      [heap[i], heap[best]] = [heap[best], heap[i]];
      i = best;
    }
  }
}
