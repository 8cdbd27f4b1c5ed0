/**
 * The per-worker share of a run's recent accepted updates (RunConfig
 * `contributionCap`): a ring of the last `window` worker ids and their counts.
 * One identity that computes (or fakes) updates faster than everyone else
 * must not outweigh the rest in an asynchronous run.
 */
export class ContributionShare {
  private readonly ring: (string | undefined)[];
  private readonly counts = new Map<string, number>();
  private next = 0;

  constructor(
    private readonly window: number,
    private readonly slack: number,
  ) {
    this.ring = new Array<string | undefined>(window).fill(undefined);
  }

  /** Most updates one worker may hold in the window when `workers` share it. */
  limit(workers: number): number {
    const share = Math.min(1, this.slack / Math.max(1, workers));
    return Math.max(1, Math.ceil(this.window * share));
  }

  /**
   * The N the limit divides by: the active workers, but at most one more than the workers
   * that hold updates in the window. Connected identities that send nothing (idle, or
   * opened by the hundred to shrink everyone's share) must not throttle the ones that
   * train: with the default slack 2, d contributors may together hold
   * d ceil(2 window / (d + 1)) >= window updates, so the window always moves on.
   */
  sharingWorkers(activeWorkers: number): number {
    return Math.max(1, Math.min(activeWorkers, this.counts.size + 1));
  }

  /**
   * Whether one more update of `workerId` stays within its limit, counting the window as it
   * will be after this update evicts the oldest: so with slack 1 and every worker at its fair
   * share, the one whose oldest update leaves may go next (round robin, never a standstill).
   */
  allows(workerId: string, activeWorkers: number): boolean {
    const evicted = this.ring[this.next] === workerId ? 1 : 0;
    const limit = this.limit(this.sharingWorkers(activeWorkers));
    return (this.counts.get(workerId) ?? 0) - evicted < limit;
  }

  /** Records an accepted update, forgetting the oldest one beyond the window. */
  record(workerId: string): void {
    const evicted = this.ring[this.next];
    if (evicted !== undefined) {
      const left = (this.counts.get(evicted) ?? 1) - 1;
      if (left === 0) this.counts.delete(evicted);
      else this.counts.set(evicted, left);
    }
    this.ring[this.next] = workerId;
    this.counts.set(workerId, (this.counts.get(workerId) ?? 0) + 1);
    this.next = (this.next + 1) % this.window;
  }

  /** Updates of `workerId` in the window. */
  count(workerId: string): number {
    return this.counts.get(workerId) ?? 0;
  }
}
