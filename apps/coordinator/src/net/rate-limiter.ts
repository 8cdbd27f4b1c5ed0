/**
 * Token bucket per connection: `capacity` messages at once, refilled at
 * `perSecond`. A worker trains at most tens of updates per second; a flood
 * beyond the bucket is refused, and a connection that keeps flooding is cut.
 */
export class RateLimiter {
  private tokens: number;
  private last: number;
  /** Consecutive refusals; reset by any allowed message. */
  refusedInARow = 0;

  constructor(
    private readonly capacity: number,
    private readonly perSecond: number,
    now: number,
  ) {
    this.tokens = capacity;
    this.last = now;
  }

  allow(now: number): boolean {
    this.tokens = Math.min(
      this.capacity,
      this.tokens + ((now - this.last) / 1000) * this.perSecond,
    );
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      this.refusedInARow = 0;
      return true;
    }
    this.refusedInARow += 1;
    return false;
  }
}
