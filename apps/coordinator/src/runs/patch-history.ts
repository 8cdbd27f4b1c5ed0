/** Marks the end of the recency list. */
const NONE = -1;

/**
 * Which coordinates of the global model changed since a recent version, so a
 * worker at version v can be brought to the current version with the NEW
 * values of just those coordinates (a "sparse-patch", see the protocol)
 * instead of the full weights. Bounded: only the last `capacity` versions are
 * answered for; older workers, and versions that changed every coordinate (a
 * momentum or Adam step), get the full weights.
 *
 * Every coordinate that ever changed sits in one list ordered by the version
 * of its last change, newest first (a doubly linked list over the coordinate
 * indices). Recording a version moves its k coordinates to the front, O(k);
 * the coordinates changed since v are the front of the list down to the first
 * one last changed at or before v, O(answer). With many asynchronous workers a
 * worker's base is many versions back, and a union of one index list per
 * version would cost O(versions x k) per acknowledgement instead.
 */
export class PatchHistory {
  /** Version of each coordinate's last change; meaningful only where `listed`. */
  private readonly lastChanged: Float64Array;
  private readonly listed: Uint8Array;
  /** Neighbours in the recency list: `older[i]` changed before i, `newer[i]` after. */
  private readonly older: Int32Array;
  private readonly newer: Int32Array;
  private newest = NONE;
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
    this.lastChanged = new Float64Array(parameterCount);
    this.listed = new Uint8Array(parameterCount);
    this.older = new Int32Array(parameterCount).fill(NONE);
    this.newer = new Int32Array(parameterCount).fill(NONE);
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
    if (changedIndices === null) {
      this.everythingChangedAt = version;
      return;
    }
    for (const index of changedIndices) {
      this.moveToFront(index);
      this.lastChanged[index] = version;
    }
  }

  /**
   * Sorted coordinates changed after `fromVersion` up to the latest recorded
   * version, or undefined when the history cannot tell (too old, or a version
   * that changed everything) or when the patch would not be smaller than
   * `maxEntries`.
   */
  changedSince(fromVersion: number, maxEntries: number): Uint32Array | undefined {
    if (fromVersion + 1 < this.firstVersion) return undefined;
    if (this.everythingChangedAt !== undefined && fromVersion < this.everythingChangedAt) {
      return undefined;
    }
    const changed: number[] = [];
    for (let i = this.newest; i !== NONE; i = this.olderThan(i)) {
      if ((this.lastChanged[i] ?? fromVersion) <= fromVersion) break;
      changed.push(i);
      if (changed.length >= maxEntries) return undefined;
    }
    return Uint32Array.from(changed).sort();
  }

  private olderThan(index: number): number {
    return this.older[index] ?? NONE;
  }

  private moveToFront(index: number): void {
    if (this.listed[index] === 1) {
      if (this.newest === index) return;
      // Unlink: a listed coordinate that is not the newest has a newer neighbour.
      const older = this.olderThan(index);
      const newer = this.newer[index] ?? NONE;
      this.older[newer] = older;
      if (older !== NONE) this.newer[older] = newer;
    }
    this.listed[index] = 1;
    this.newer[index] = NONE;
    this.older[index] = this.newest;
    if (this.newest !== NONE) this.newer[this.newest] = index;
    this.newest = index;
  }

  private forget(): void {
    for (let i = this.newest; i !== NONE; i = this.olderThan(i)) this.listed[i] = 0;
    this.newest = NONE;
    this.everythingChangedAt = undefined;
  }
}
