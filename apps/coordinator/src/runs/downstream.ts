import { roundToFloat16 } from '@vtrain/protocol';
import { CoordinateSet } from './patch-history.js';

/** What to send a worker: the full weights, or new values of at most `budget` coordinates. */
export type DownstreamReply =
  | { readonly kind: 'dense' }
  | {
      readonly kind: 'patch';
      readonly fromVersion: number;
      /** Increasing coordinates. */
      readonly indices: Uint32Array;
      /** The broadcast model's values there (new values, not differences). */
      readonly values: Float32Array;
    }
  | {
      /** One version's broadcast chunk as f16 steps, to add: x̂_v = fround(x̂_(v-1) + step). */
      readonly kind: 'step';
      readonly fromVersion: number;
      /** Increasing coordinates. */
      readonly indices: Uint32Array;
      /** f16-exact differences. */
      readonly steps: Float32Array;
    };

/** The global model as a reply is computed from it. */
export interface GlobalModel {
  readonly weights: Float32Array;
  readonly version: number;
  /**
   * The coordinates changed after `fromVersion`, or undefined when the
   * history cannot tell or they are `maxEntries` or more (`RunEngine.changedSince`);
   * each coordinate once, in increasing order unless `ordered` is false.
   */
  changedSince(fromVersion: number, maxEntries: number, ordered: boolean): Uint32Array | undefined;
}

/**
 * What the coordinator knows of one worker's copy: the broadcast model at
 * `label` except at the `owed` coordinates from `cursor` on, which still hold
 * older broadcast values (a reply that had more to send than the budget).
 */
interface Follower {
  readonly label: number;
  readonly owed: Uint32Array;
  readonly cursor: number;
}

/** A worker's record: confirmed state, the state its last reply would give, departure order. */
interface Replica {
  state: Follower;
  pending: Follower | undefined;
  /** Set while the worker is disconnected: the order in which departed replicas are dropped. */
  departedAt: number | undefined;
  /**
   * Whether the copy is x̂ off the owed coordinates (a worker that started from
   * version 0); false after dense weights, which are x, not x̂, so a step (made
   * on x̂) would not land on them.
   */
  readonly followsBroadcast: boolean;
}

/** A version's chunk in increasing order, with its f16 steps when it has them. */
interface Chunk {
  readonly indices: Uint32Array;
  readonly steps: Float32Array | undefined;
}

/** Options of {@link WorkerReplicas}. */
export interface DownstreamOptions {
  /**
   * x̂ moves by f16-rounded steps and a worker one version behind gets the step
   * (`compression.downstreamValueFormat: 'f16'`).
   */
  readonly steps?: boolean;
}

/**
 * A coordinate whose error after an f16 step is at most this fraction of its weight (or
 * {@link SETTLED_ABSOLUTE}) leaves the error memory until x changes there again: f16
 * rounds a step to about 2^-11 of itself, and chasing that remainder would send every
 * coordinate twice.
 */
const SETTLED_RELATIVE = 2 ** -10;
const SETTLED_ABSOLUTE = 2 ** -20;

const EMPTY = new Uint32Array(0);

/** Bytes per patch entry at f32, generously (a 5-byte varint gap and 4 value bytes). */
const PATCH_BYTES_PER_ENTRY = 9;

/**
 * Magnitude keys: the bit pattern of a non-negative float32 shifted right by
 * this keeps the exponent and 5 mantissa bits (buckets about 3% wide); key 0
 * is reserved for "no error here", so keys are that plus one.
 */
const KEY_SHIFT = 18;
const KEYS = (1 << (31 - KEY_SHIFT)) + 1;

/** Scratch for {@link magnitudeKey}: a float32 and its bit pattern. */
const FLOAT = new Float32Array(1);
const FLOAT_BITS = new Uint32Array(FLOAT.buffer);

/**
 * The magnitude key of a difference: 0 when it is 0, else the top bits of
 * float32(|d|) plus one (a difference that rounds to float32 zero still must
 * go out: the smallest key).
 */
function magnitudeKey(d: number): number {
  if (d === 0) return 0;
  FLOAT[0] = d < 0 ? -d : d;
  return ((FLOAT_BITS[0] ?? 0) >>> KEY_SHIFT) + 1;
}

/** Replicas of disconnected workers kept for their reconnect; the oldest go first beyond this. */
const DEPARTED_KEPT = 16;

/** Versions of broadcast chunks remembered: a worker further behind gets the owed list or dense weights. */
const BROADCAST_HISTORY_VERSIONS = 256;

/** Recent reply lags (versions between a worker's two replies) the chunk size is set from. */
const LAG_SAMPLES = 64;

/**
 * Bounded downstream with ONE shared error memory on the server's side
 * (DoubleSqueeze, Tang et al. ICML 2019, Algorithm 1's server half): the
 * coordinator keeps a broadcast model x̂ (version 0: the seeded initial
 * weights every worker builds) and its error memory e = x − x̂. Whenever the
 * global model x has moved, the top-c coordinates of |e| join x̂ (x̂ := x
 * there, so e := 0 there) as that version's broadcast chunk; everything else
 * stays in e and goes out in a later chunk once it is among the largest
 * (error feedback). Every worker's copy follows x̂: a reply to a worker at
 * version u carries x̂'s values at the union of the chunks after u (a patch
 * history over x̂, not x), at most B of them.
 *
 * Chunk size: c = ⌊B / L⌋ per version, L the 90th percentile of the recent
 * reply lags (versions between a worker's consecutive replies): with N
 * workers sending in turn L ≈ N, so the chunks a typical worker missed fit
 * one reply; a synchronous round has L = 1 and c = B. When e holds at most
 * c entries a chunk takes all of it and x̂ = x (a synchronous round whose
 * workers' top-k supports together fit the budget stays exact every round,
 * as it was with a copy per worker; with f16 steps, up to the settled
 * remainders). With B ≥ P every chunk takes all of e: exact patches.
 *
 * A worker whose missed chunks exceed B gets B of them (the oldest first) and
 * is owed the rest, which fills the room its next replies leave after their
 * own chunks; its copy is x̂ except at the owed coordinates, which hold older
 * x̂ values. A
 * worker at version 0 whose chunks are beyond the history is owed every
 * coordinate ever broadcast. When what is owed would not be smaller than the
 * dense weights, or the version is unknown, the reply is the dense (exact)
 * weights x_d of the current version d; such a copy is x̂ + e_d off the
 * coordinates broadcast since d, and is never sent x̂'s (older) values there.
 *
 * Distance: a worker following the broadcast holds x̂ exactly, so its
 * distance to the global model is ‖e‖. Each chunk removes at least about
 * c/s of ‖e‖² (s the entries of e; the selection is exact up to the 3%
 * width of a magnitude bucket), so with D the largest change of x between
 * two chunks ‖e‖ ≤ D q / (1 − q), q = √(1 − 0.9 c / P) (the usual
 * error-feedback geometric sum, 0.9 covering the bucket width). A worker
 * last given dense weights at version d is within ‖e‖ + ‖e_d‖; one with owed
 * coordinates, within that plus the owed coordinates' lag.
 *
 * Confirmation: a worker's record moves only when it shows it received a
 * patch, i.e. its next message reports the patch's version; a worker that
 * still reports its previous version lost the reply (a disconnect), and the
 * patch is dropped (its chunks are sent again, with x̂'s newer values).
 *
 * Cost: O(k) per applied update whatever the number of workers and P, when
 * the patch history can tell what changed (plain SGD on sparse updates):
 * the error memory's magnitude structure (one stack of coordinates per
 * magnitude key, stale entries dropped lazily, rebuilt when they outnumber
 * the live ones) is touched only at the k changed and c sent coordinates,
 * and a reply gathers the chunks after the worker's version (about B
 * entries) in a bitmap that de-duplicates them and hands them out sorted,
 * O(B + P / 1024) with no sort; no per-worker copy of the model (memory per
 * worker: its owed list). A version that changed everything (momentum, Adam, a
 * rollback) costs one pass over P to rebuild the error memory.
 *
 * Why not the per-worker exact top-B this replaces (a copy and an error
 * memory per worker): when workers send unrelated coordinates the difference
 * to every worker's copy spreads over much of the model, and each reply had
 * to look at all of it (the ingest bench's distinct row: 19 ms per reply).
 */
export class WorkerReplicas {
  private readonly replicas = new Map<string, Replica>();
  private readonly parameterCount: number;
  /** x̂: what every worker following the broadcast holds. */
  private readonly broadcastWeights: Float32Array;
  /** The global version x̂ was last brought to. */
  private broadcastVersion = 0;
  /** The chunks of the last {@link BROADCAST_HISTORY_VERSIONS} versions, at `version % capacity`. */
  private readonly chunks: Chunk[] = [];
  private readonly chunkVersions = new Float64Array(BROADCAST_HISTORY_VERSIONS).fill(-1);
  /** Sorts and de-duplicates a reply's coordinates. */
  private readonly replySet: CoordinateSet;
  /** Magnitude key of |x − x̂| per coordinate, 0 where they are equal. */
  private readonly keys: Uint16Array;
  /** Per key, a stack of coordinates (entries whose key moved on are stale). */
  private readonly stacks: (Uint32Array | undefined)[] = new Array<Uint32Array | undefined>(KEYS);
  private readonly stackLength = new Uint32Array(KEYS);
  /** No stack above this key holds an entry. */
  private topKey = 0;
  /** Entries in all stacks, and coordinates with a non-zero key. */
  private entries = 0;
  private live = 0;
  /** Coordinates x̂ ever changed (where it may differ from version 0), each once. */
  private everSent: Uint32Array;
  private everSentCount = 0;
  private readonly everSentFlag: Uint8Array;
  /** Marks that de-duplicate the stacks when they are compacted (all 0 between uses). */
  private readonly marks: Uint8Array;
  private readonly lags = new Float64Array(LAG_SAMPLES);
  private lagCount = 0;
  /** Chunk entries per version, ⌊B / L⌋. */
  private perVersion: number;
  private departures = 0;

  /**
   * @param initialWeights - version 0, which every worker builds for itself.
   * @param budget - B >= 1: most coordinates per patch.
   */
  private readonly steps: boolean;

  constructor(
    initialWeights: Float32Array,
    readonly budget: number,
    options: DownstreamOptions = {},
  ) {
    this.steps = options.steps ?? false;
    this.parameterCount = initialWeights.length;
    this.broadcastWeights = initialWeights.slice();
    this.replySet = new CoordinateSet(this.parameterCount);
    this.keys = new Uint16Array(this.parameterCount);
    this.everSent = new Uint32Array(Math.min(this.parameterCount, 1024));
    this.everSentFlag = new Uint8Array(this.parameterCount);
    this.marks = new Uint8Array(this.parameterCount);
    this.perVersion = budget;
  }

  /** Workers with a record (connected or recently departed). */
  get size(): number {
    return this.replicas.size;
  }

  /** x̂, the broadcast model workers follow (read only; for tests and diagnostics). */
  get broadcast(): Float32Array {
    return this.broadcastWeights;
  }

  /** Chunk entries per version now, ⌊B / L⌋ (for tests and diagnostics). */
  get chunkSize(): number {
    return this.perVersion;
  }

  /**
   * Coordinates where the worker's copy may hold older broadcast values once
   * it has the last reply it was sent (undefined: no record), for tests and
   * diagnostics. Everywhere else a copy that was never sent dense weights
   * equals {@link broadcast}.
   */
  owed(workerId: string): Uint32Array | undefined {
    const replica = this.replicas.get(workerId);
    const state = replica?.pending ?? replica?.state;
    return state?.owed.subarray(state.cursor);
  }

  /**
   * The reply for a worker that says it holds `haveVersion` (undefined: it has
   * nothing, or wants the exact model): dense weights when the worker has
   * nothing, or holds a version this record cannot tell (after a coordinator
   * restart, or a future version); otherwise a patch of at most `budget`
   * coordinates, from `haveVersion` to `model.version`.
   */
  reply(workerId: string, haveVersion: number | undefined, model: GlobalModel): DownstreamReply {
    const replica = haveVersion === undefined ? undefined : this.resolve(workerId, haveVersion);
    if (replica === undefined || haveVersion === undefined || haveVersion > model.version) {
      return this.dense(workerId, model);
    }
    replica.departedAt = undefined;
    if (haveVersion === model.version) {
      // Nothing new was applied: an empty patch keeps every patch's version above its base.
      return {
        kind: 'patch',
        fromVersion: haveVersion,
        indices: EMPTY,
        values: new Float32Array(0),
      };
    }
    this.advance(model);
    const { state } = replica;
    const denseLimit = Math.floor((this.parameterCount * 4) / PATCH_BYTES_PER_ENTRY);
    let from = state.label;
    let owed = state.owed;
    let cursor = state.cursor;
    if (model.version - from > BROADCAST_HISTORY_VERSIONS) {
      // Beyond the chunks remembered: owe everything x̂ ever changed (a superset).
      if (this.everSentCount >= denseLimit) return this.dense(workerId, model);
      from = model.version;
      owed = this.everSent.slice(0, this.everSentCount);
      cursor = 0;
    } else {
      this.recordLag(model.version - from);
    }
    // At most this many (chunks may share coordinates).
    let listed = owed.length - cursor;
    for (let v = from + 1; v <= model.version; v++) listed += this.chunkAt(v).indices.length;
    if (listed >= denseLimit) return this.dense(workerId, model);
    const step = this.chunkAt(model.version);
    if (
      replica.followsBroadcast &&
      step.steps !== undefined &&
      from === model.version - 1 &&
      cursor >= owed.length &&
      step.indices.length <= this.budget
    ) {
      // One version, nothing owed: the copy is x̂_(v-1) and the chunk's steps make it x̂_v.
      replica.pending = { label: model.version, owed: EMPTY, cursor: 0 };
      return { kind: 'step', fromVersion: haveVersion, indices: step.indices, steps: step.steps };
    }
    const { indices, next } = this.choose(from, model.version, owed, cursor);
    const values = new Float32Array(indices.length);
    const x = this.broadcastWeights;
    for (let j = 0; j < indices.length; j++) values[j] = x[indices[j] ?? 0] ?? 0;
    replica.pending = { label: model.version, ...next };
    return { kind: 'patch', fromVersion: haveVersion, indices, values };
  }

  /** The worker disconnected: its record is kept for a reconnect, up to {@link DEPARTED_KEPT} of them. */
  depart(workerId: string): void {
    const replica = this.replicas.get(workerId);
    if (replica === undefined) return;
    replica.departedAt = this.departures++;
    const departed = [...this.replicas].filter(([, r]) => r.departedAt !== undefined);
    if (departed.length <= DEPARTED_KEPT) return;
    departed.sort(([, a], [, b]) => (a.departedAt ?? 0) - (b.departedAt ?? 0));
    for (const [id] of departed.slice(0, departed.length - DEPARTED_KEPT)) this.replicas.delete(id);
  }

  /**
   * Up to B coordinates: the chunks of versions after `from` (oldest first),
   * then what is owed from `cursor` on; returns them in increasing order, and
   * what is owed after (chunk entries that did not fit go before the rest).
   */
  private choose(
    from: number,
    to: number,
    owed: Uint32Array,
    cursor: number,
  ): { indices: Uint32Array; next: { owed: Uint32Array; cursor: number } } {
    const { budget, replySet } = this;
    let overflow: number[] | undefined;
    for (let v = from + 1; v <= to; v++) {
      const chunk = this.chunkAt(v).indices;
      for (const i of chunk) {
        if (replySet.size < budget) replySet.add(i);
        else if (!replySet.has(i)) (overflow ??= []).push(i);
      }
    }
    let at = cursor;
    for (; at < owed.length && replySet.size < budget; at++) replySet.add(owed[at] ?? 0);
    const indices = replySet.drain();
    if (overflow === undefined) {
      return {
        indices,
        next: at >= owed.length ? { owed: EMPTY, cursor: 0 } : { owed, cursor: at },
      };
    }
    const nextOwed = new Uint32Array(overflow.length + owed.length - at);
    nextOwed.set(overflow);
    nextOwed.set(owed.subarray(at), overflow.length);
    return { indices, next: { owed: nextOwed, cursor: 0 } };
  }

  /** The broadcast chunk of `version` (empty when none was made then). */
  private chunkAt(version: number): Chunk {
    const slot = version % BROADCAST_HISTORY_VERSIONS;
    const chunk = this.chunkVersions[slot] === version ? this.chunks[slot] : undefined;
    return chunk ?? { indices: EMPTY, steps: undefined };
  }

  /** The worker's record brought to `haveVersion`, or undefined when it cannot be. */
  private resolve(workerId: string, haveVersion: number): Replica | undefined {
    const replica = this.replicas.get(workerId);
    if (replica !== undefined) {
      const pending = replica.pending;
      replica.pending = undefined;
      if (pending?.label === haveVersion) {
        replica.state = pending;
        return replica;
      }
      if (replica.state.label === haveVersion) return replica; // the pending patch never arrived
    }
    if (haveVersion !== 0) return undefined;
    // Version 0 is the seeded initial model the worker built: x̂ at version 0.
    const fresh: Replica = {
      state: { label: 0, owed: EMPTY, cursor: 0 },
      pending: undefined,
      departedAt: undefined,
      followsBroadcast: true,
    };
    this.replicas.set(workerId, fresh);
    return fresh;
  }

  private dense(workerId: string, model: GlobalModel): DownstreamReply {
    // The exact weights x_V: off the coordinates x̂ changes later, the copy is x̂_V + e_V.
    this.replicas.set(workerId, {
      state: { label: model.version, owed: EMPTY, cursor: 0 },
      pending: undefined,
      departedAt: undefined,
      followsBroadcast: false,
    });
    // Broadcast chunks after V must be told apart from what came before.
    this.advance(model);
    return { kind: 'dense' };
  }

  /** One more reply lag; the chunk size follows the lags' 90th percentile. */
  private recordLag(lag: number): void {
    this.lags[this.lagCount++ % LAG_SAMPLES] = lag;
    // Re-ranked on every sample while the ring fills, then on every eighth.
    if (this.lagCount > LAG_SAMPLES && this.lagCount % 8 !== 0) return;
    const n = Math.min(this.lagCount, LAG_SAMPLES);
    const sorted = this.lags.slice(0, n).sort();
    const p90 = Math.max(1, sorted[Math.min(n - 1, Math.floor(0.9 * n))] ?? 1);
    this.perVersion = Math.max(1, Math.floor(this.budget / p90));
  }

  /**
   * Brings x̂ to the global model's version: the error memory takes the
   * coordinates x changed since (all of them when the history cannot tell),
   * then the largest |e| go into x̂ as this version's chunk.
   */
  private advance(model: GlobalModel): void {
    const version = model.version;
    const from = this.broadcastVersion;
    if (version <= from) return;
    const x = model.weights;
    const changed =
      this.budget >= this.parameterCount
        ? undefined
        : model.changedSince(from, Math.ceil(this.parameterCount / 4), false);
    if (changed === undefined) this.rebuild(x);
    else this.rekeyAll(changed, x);
    const capacity =
      this.budget >= this.parameterCount
        ? this.parameterCount
        : Math.min(this.parameterCount, this.perVersion * (version - from));
    const slot = version % BROADCAST_HISTORY_VERSIONS;
    this.chunks[slot] = this.takeLargest(capacity, x);
    this.chunkVersions[slot] = version;
    this.broadcastVersion = version;
  }

  /** The coordinates' errors changed: each gets an entry on its new key's stack (the old one goes stale). */
  private rekeyAll(changed: Uint32Array, x: Float32Array): void {
    const { keys, broadcastWeights } = this;
    let live = this.live;
    for (const i of changed) {
      const key = magnitudeKey((x[i] ?? 0) - (broadcastWeights[i] ?? 0));
      const old = keys[i] ?? 0;
      if (key === old) continue;
      keys[i] = key;
      if (old === 0) live++;
      if (key === 0) live--;
      else this.push(key, i);
    }
    this.live = live;
    if (this.entries > 2 * this.live + 4096) this.compact();
  }

  private push(key: number, i: number): void {
    let stack = this.stacks[key];
    const length = this.stackLength[key] ?? 0;
    if (stack === undefined || length === stack.length) {
      const grown = new Uint32Array(Math.max(16, length * 2));
      if (stack !== undefined) grown.set(stack);
      stack = grown;
      this.stacks[key] = stack;
    }
    stack[length] = i;
    this.stackLength[key] = length + 1;
    this.entries++;
    if (key > this.topKey) this.topKey = key;
  }

  /**
   * Pops up to `capacity` coordinates of the largest |e| into x̂; returns them in
   * increasing order. With steps, x̂ moves there by the f16-rounded difference
   * (all or none of the chunk: a difference beyond f16 makes it a values-only chunk,
   * x̂ := x), and a remainder that is not settled goes back into the error memory.
   */
  private takeLargest(capacity: number, x: Float32Array): Chunk {
    const chunk = new Uint32Array(Math.min(capacity, this.live));
    const { keys, stackLength, stacks } = this;
    let taken = 0;
    let key = this.topKey;
    while (taken < chunk.length && key > 0) {
      const stack = stacks[key];
      let length = stackLength[key] ?? 0;
      while (length > 0 && taken < chunk.length) {
        const i = stack?.[--length] ?? 0;
        this.entries--;
        if (keys[i] !== key) continue; // stale: its error moved to another key, or went out
        keys[i] = 0;
        this.live--;
        chunk[taken++] = i;
        if (this.everSentFlag[i] === 0) this.noteSent(i);
      }
      stackLength[key] = length;
      if (length === 0) key--;
    }
    this.topKey = key;
    const indices = (taken === chunk.length ? chunk : chunk.slice(0, taken)).sort();
    const steps = this.steps ? this.stepInto(indices, x) : undefined;
    if (steps === undefined) {
      const xhat = this.broadcastWeights;
      for (const i of indices) xhat[i] = x[i] ?? 0;
    }
    return { indices, steps };
  }

  /**
   * x̂ := fround(x̂ + f16(x − x̂)) at `indices`; the steps, or undefined (x̂
   * untouched) when one is beyond f16. Remainders that are not settled are keyed
   * again only now, so none is taken twice in one chunk.
   */
  private stepInto(indices: Uint32Array, x: Float32Array): Float32Array | undefined {
    const xhat = this.broadcastWeights;
    const steps = new Float32Array(indices.length);
    for (let j = 0; j < indices.length; j++) {
      const i = indices[j] ?? 0;
      steps[j] = roundToFloat16((x[i] ?? 0) - (xhat[i] ?? 0));
      if (!Number.isFinite(steps[j])) return undefined;
    }
    for (let j = 0; j < indices.length; j++) {
      const i = indices[j] ?? 0;
      xhat[i] = (xhat[i] ?? 0) + (steps[j] ?? 0); // the Float32Array rounds: the float32 sum
      const xi = x[i] ?? 0;
      const rest = xi - (xhat[i] ?? 0);
      const settled = Math.max(SETTLED_RELATIVE * Math.abs(xi), SETTLED_ABSOLUTE);
      if (Math.abs(rest) <= settled) continue;
      const key = magnitudeKey(rest);
      this.keys[i] = key;
      this.live++;
      this.push(key, i);
    }
    return steps;
  }

  private noteSent(i: number): void {
    this.everSentFlag[i] = 1;
    if (this.everSentCount === this.everSent.length) {
      const grown = new Uint32Array(Math.min(this.parameterCount, this.everSent.length * 2));
      grown.set(this.everSent);
      this.everSent = grown;
    }
    this.everSent[this.everSentCount++] = i;
  }

  /** Every coordinate's key from scratch: one pass over P (a version that changed everything). */
  private rebuild(x: Float32Array): void {
    this.stackLength.fill(0);
    this.entries = 0;
    this.live = 0;
    this.topKey = 0;
    const xhat = this.broadcastWeights;
    for (let i = 0; i < this.parameterCount; i++) {
      const key = magnitudeKey((x[i] ?? 0) - (xhat[i] ?? 0));
      this.keys[i] = key;
      if (key === 0) continue;
      this.live++;
      this.push(key, i);
    }
  }

  /** Drops the stale and repeated entries of every stack (they outnumbered the live ones). */
  private compact(): void {
    const { keys, stackLength, stacks, marks } = this;
    let entries = 0;
    for (let key = 1; key <= this.topKey; key++) {
      const stack = stacks[key];
      const length = stackLength[key] ?? 0;
      if (stack === undefined || length === 0) continue;
      let kept = 0;
      for (let j = 0; j < length; j++) {
        const i = stack[j] ?? 0;
        if (keys[i] !== key || marks[i] === 1) continue;
        marks[i] = 1;
        stack[kept++] = i;
      }
      for (let j = 0; j < kept; j++) marks[stack[j] ?? 0] = 0;
      stackLength[key] = kept;
      entries += kept;
    }
    this.entries = entries;
  }
}
