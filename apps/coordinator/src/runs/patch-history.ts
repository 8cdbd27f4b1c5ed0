const EMPTY = new Uint32Array(0);

/**
 * Which coordinates of the global model changed since a recent version, so a
 * worker at version v can be brought to the current version with the NEW
 * values of just those coordinates (a "sparse-patch", see the protocol)
 * instead of the full weights. Bounded: only the last `capacity` versions are
 * answered for; older workers, and versions that changed every coordinate (a
 * momentum or Adam step), get the full weights.
 *
 * Each remembered version keeps its changed coordinates as they came (one
 * copy, a sequential write: recording costs O(k) with no look-up per
 * coordinate, which matters because it runs on every applied update). The
 * coordinates changed since v are the union of the lists after v, made by a
 * {@link CoordinateSet} (a bitmap that stays in cache and comes out sorted):
 * O(entries listed + P / 1024). The usual question, what the latest version
 * changed, is one list and no union.
 */
export class PatchHistory {
  /** Per remembered version v, at `v % capacity`: its changed coordinates (null: all). */
  private readonly lists: (Uint32Array | null)[];
  /** The latest recorded version and the oldest one a query may start after (minus one). */
  private latestVersion: number;
  private firstVersion: number;
  private readonly union: CoordinateSet;

  constructor(
    parameterCount: number,
    private readonly capacity: number,
    currentVersion: number,
  ) {
    this.lists = Array.from({ length: capacity }, () => EMPTY);
    this.latestVersion = currentVersion;
    this.firstVersion = currentVersion + 1;
    this.union = new CoordinateSet(parameterCount);
  }

  /** Records the coordinates changed by the step that produced `version` (null: all). */
  record(version: number, changedIndices: Uint32Array | null): void {
    if (version !== this.latestVersion + 1) {
      // A gap (e.g. after a restore) makes what came before useless: start over.
      this.lists.fill(EMPTY);
      this.firstVersion = version;
    }
    this.latestVersion = version;
    this.firstVersion = Math.max(this.firstVersion, version - this.capacity + 1);
    this.lists[version % this.capacity] = changedIndices === null ? null : changedIndices.slice();
  }

  /**
   * Sorted coordinates changed after `fromVersion` up to the latest recorded
   * version, or undefined when the history cannot tell (too old, or a version
   * that changed everything) or when the patch would not be smaller than
   * `maxEntries`. With `ordered` false the coordinates may come in any order
   * (one version's list as recorded).
   */
  changedSince(fromVersion: number, maxEntries: number, ordered = true): Uint32Array | undefined {
    if (fromVersion + 1 < this.firstVersion) return undefined;
    let listed = 0;
    for (let v = fromVersion + 1; v <= this.latestVersion; v++) {
      const list = this.lists[v % this.capacity];
      if (list === null || list === undefined) return undefined;
      listed += list.length;
    }
    if (fromVersion + 1 === this.latestVersion) {
      const list = this.lists[this.latestVersion % this.capacity] ?? EMPTY;
      if (list.length >= maxEntries) return undefined;
      return ordered ? ascending(list.slice()) : list.slice();
    }
    const { union } = this;
    for (let v = fromVersion + 1; v <= this.latestVersion; v++) {
      const list = this.lists[v % this.capacity] ?? EMPTY;
      for (const i of list) union.add(i);
      if (union.size >= maxEntries) {
        union.drain();
        return undefined;
      }
    }
    return listed === 0 ? new Uint32Array(0) : union.drain();
  }
}

/** The indices sorted in place, after a linear check (a step's changed indices usually are). */
function ascending(indices: Uint32Array): Uint32Array {
  for (let i = 1; i < indices.length; i++) {
    if ((indices[i] ?? 0) < (indices[i - 1] ?? 0)) return indices.sort();
  }
  return indices;
}

/**
 * A set of coordinates below P that comes out sorted: a bitmap of P bits
 * (P / 8 bytes, which stays in cache) under a summary with one bit per
 * bitmap word. Draining visits the summary (P / 1024 words) and only the
 * words that hold members, so it costs O(P / 1024 + members), with no sort.
 */
export class CoordinateSet {
  private readonly words: Uint32Array;
  private readonly summary: Uint32Array;
  private count = 0;

  constructor(parameterCount: number) {
    this.words = new Uint32Array(Math.ceil(parameterCount / 32));
    this.summary = new Uint32Array(Math.ceil(this.words.length / 32));
  }

  get size(): number {
    return this.count;
  }

  has(i: number): boolean {
    return ((this.words[i >>> 5] ?? 0) & (1 << (i & 31))) !== 0;
  }

  /** Adds i; returns whether it was new. */
  add(i: number): boolean {
    const w = i >>> 5;
    const word = this.words[w] ?? 0;
    const bit = 1 << (i & 31);
    if ((word & bit) !== 0) return false;
    this.words[w] = word | bit;
    this.summary[w >>> 5] = (this.summary[w >>> 5] ?? 0) | (1 << (w & 31));
    this.count++;
    return true;
  }

  /** The members in increasing order; the set is empty after. */
  drain(): Uint32Array {
    const out = new Uint32Array(this.count);
    const { words, summary } = this;
    let n = 0;
    for (let s = 0; s < summary.length; s++) {
      let high = summary[s] ?? 0;
      if (high === 0) continue;
      summary[s] = 0;
      while (high !== 0) {
        const w = (s << 5) | (31 - Math.clz32(high & -high));
        high &= high - 1;
        let low = words[w] ?? 0;
        words[w] = 0;
        while (low !== 0) {
          out[n++] = (w << 5) | (31 - Math.clz32(low & -low));
          low &= low - 1;
        }
      }
    }
    this.count = 0;
    return out;
  }
}
