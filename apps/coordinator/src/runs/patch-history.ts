/** A coordinate that never changed (or was forgotten). */
const NEVER = -1;
const EMPTY = new Uint32Array(0);

/**
 * Which coordinates of the global model changed since a recent version, so a
 * worker at version v can be brought to the current version with the NEW
 * values of just those coordinates (a "sparse-patch", see the protocol)
 * instead of the full weights. Bounded: only the last `capacity` versions are
 * answered for; older workers, and versions that changed every coordinate (a
 * momentum or Adam step), get the full weights.
 *
 * Each remembered version keeps a bucket: the sorted coordinates whose last
 * change it is. Recording a version makes its changed coordinates its bucket
 * and marks them gone from their previous buckets (the version of each
 * coordinate's last change decides, so stale entries are skipped); a bucket
 * with more stale entries than live ones is compacted, so buckets never hold
 * more than twice their live entries. The coordinates changed since v are the
 * live entries of the buckets after v: O(answer) per acknowledgement, however
 * many versions back the worker's base is, where a union of one index list
 * per version would cost O(versions x k). Everything is read and written in
 * index order (no linked structure to chase): this is the hot loop of ingest.
 */
export class PatchHistory {
  /** Version of each coordinate's last change, NEVER where none is remembered. */
  private readonly lastChanged: Float64Array;
  /** Per remembered version v, at `v % capacity`: its bucket and its live entries. */
  private readonly buckets: Uint32Array[];
  private readonly liveCount: Uint32Array;
  /** The version whose recording last took entries from a bucket (each is compacted once per recording). */
  private readonly shrunkAt: Float64Array;
  /** The latest recorded version and the oldest one a query may start after (minus one). */
  private latestVersion: number;
  private firstVersion: number;
  /** The latest version that changed every coordinate, if any is remembered. */
  private everythingChangedAt: number | undefined;

  constructor(
    parameterCount: number,
    private readonly capacity: number,
    currentVersion: number,
  ) {
    this.lastChanged = new Float64Array(parameterCount).fill(NEVER);
    this.buckets = Array.from({ length: capacity }, () => EMPTY);
    this.liveCount = new Uint32Array(capacity);
    this.shrunkAt = new Float64Array(capacity).fill(NEVER);
    this.latestVersion = currentVersion;
    this.firstVersion = currentVersion + 1;
  }

  /** Records the coordinates changed by the step that produced `version` (null: all). */
  record(version: number, changedIndices: Uint32Array | null): void {
    if (version !== this.latestVersion + 1) {
      // A gap (e.g. after a restore) makes what came before useless: start over.
      this.forget();
      this.firstVersion = version;
    }
    this.latestVersion = version;
    this.firstVersion = Math.max(this.firstVersion, version - this.capacity + 1);
    const slot = version % this.capacity;
    // The slot held version - capacity, no longer remembered.
    this.buckets[slot] = EMPTY;
    this.liveCount[slot] = 0;
    if (changedIndices === null) {
      this.everythingChangedAt = version;
      return;
    }
    const { lastChanged, liveCount } = this;
    const oldest = version - this.capacity;
    const shrunk: { slot: number; version: number }[] = [];
    for (const index of changedIndices) {
      const last = lastChanged[index] ?? NEVER;
      if (last > oldest) {
        // last is within capacity versions back: its slot by subtraction (a float % is slow here).
        const back = slot - (version - last);
        const lastSlot = back < 0 ? back + this.capacity : back;
        liveCount[lastSlot] = (liveCount[lastSlot] ?? 1) - 1;
        if (this.shrunkAt[lastSlot] !== version) {
          this.shrunkAt[lastSlot] = version;
          shrunk.push({ slot: lastSlot, version: last });
        }
      }
      lastChanged[index] = version;
    }
    this.buckets[slot] = sortedCopy(changedIndices);
    liveCount[slot] = changedIndices.length;
    for (const bucket of shrunk) this.compactIfSparse(bucket.slot, bucket.version);
  }

  /**
   * Sorted coordinates changed after `fromVersion` up to the latest recorded
   * version, or undefined when the history cannot tell (too old, or a version
   * that changed everything) or when the patch would not be smaller than
   * `maxEntries`. With `ordered` false the coordinates come in no particular
   * order, which spares the sort when several versions contribute (a caller
   * that de-duplicates and selects among them needs no order).
   */
  changedSince(fromVersion: number, maxEntries: number, ordered = true): Uint32Array | undefined {
    if (fromVersion + 1 < this.firstVersion) return undefined;
    if (this.everythingChangedAt !== undefined && fromVersion < this.everythingChangedAt) {
      return undefined;
    }
    let count = 0;
    for (let v = fromVersion + 1; v <= this.latestVersion; v++) {
      count += this.liveCount[v % this.capacity] ?? 0;
    }
    if (count >= maxEntries) return undefined;
    const changed = new Uint32Array(count);
    let filled = 0;
    let bucketsUsed = 0;
    for (let v = fromVersion + 1; v <= this.latestVersion; v++) {
      const before = filled;
      filled = this.copyLive(v % this.capacity, v, changed, filled);
      if (filled > before) bucketsUsed++;
    }
    // One bucket is sorted already; entries of several interleave.
    return ordered && bucketsUsed > 1 ? changed.sort() : changed;
  }

  /** Copies the live entries of version's bucket into `out` from `at`; returns the next free position. */
  private copyLive(slot: number, version: number, out: Uint32Array, at: number): number {
    const bucket = this.buckets[slot] ?? EMPTY;
    const lastChanged = this.lastChanged;
    let next = at;
    for (const index of bucket) if (lastChanged[index] === version) out[next++] = index;
    return next;
  }

  /** Drops a bucket's stale entries once they outnumber the live ones (amortised O(1) per change). */
  private compactIfSparse(slot: number, version: number): void {
    const bucket = this.buckets[slot] ?? EMPTY;
    const live = this.liveCount[slot] ?? 0;
    if (live * 2 >= bucket.length) return;
    const kept = live === 0 ? EMPTY : new Uint32Array(live);
    if (live > 0) this.copyLive(slot, version, kept, 0);
    this.buckets[slot] = kept;
  }

  private forget(): void {
    this.lastChanged.fill(NEVER);
    this.buckets.fill(EMPTY);
    this.liveCount.fill(0);
    this.everythingChangedAt = undefined;
  }
}

/** The indices in increasing order (a step's changed indices usually are already). */
function sortedCopy(indices: Uint32Array): Uint32Array {
  const copy = indices.slice();
  for (let i = 1; i < copy.length; i++) {
    if ((copy[i] ?? 0) < (copy[i - 1] ?? 0)) return copy.sort();
  }
  return copy;
}
