/**
 * Which coordinates of the global model changed at each recent version, so a
 * worker at version v can be brought to the current version with the NEW
 * values of just those coordinates (a "sparse-patch", see the protocol)
 * instead of the full weights. Bounded: only the last `capacity` versions are
 * remembered; older workers, and versions that changed every coordinate (a
 * momentum or Adam step), get the full weights.
 */
export class PatchHistory {
  /** changed[i] holds the coordinates changed by version firstVersion + i; null = all of them. */
  private readonly changed: (Uint32Array | null)[] = [];
  private firstVersion: number;
  private readonly mark: Uint8Array;

  constructor(
    parameterCount: number,
    private readonly capacity: number,
    currentVersion: number,
  ) {
    this.firstVersion = currentVersion + 1;
    this.mark = new Uint8Array(parameterCount);
  }

  /** Records the coordinates changed by the step that produced `version` (null: all). */
  record(version: number, changedIndices: Uint32Array | null): void {
    if (version !== this.firstVersion + this.changed.length) {
      // A gap (e.g. after a restore) makes older entries useless: start over.
      this.changed.length = 0;
      this.firstVersion = version;
    }
    this.changed.push(changedIndices);
    if (this.changed.length > this.capacity) {
      this.changed.shift();
      this.firstVersion += 1;
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
    const start = fromVersion + 1 - this.firstVersion;
    const lists = this.changed.slice(start);
    if (lists.some((list) => list === null)) return undefined;
    const union: number[] = [];
    for (const list of lists as Uint32Array[]) {
      for (const index of list) {
        if (this.mark[index] === 1) continue;
        this.mark[index] = 1;
        union.push(index);
      }
      if (union.length >= maxEntries) break;
    }
    for (const index of union) this.mark[index] = 0;
    if (union.length >= maxEntries) return undefined;
    return Uint32Array.from(union).sort();
  }
}
