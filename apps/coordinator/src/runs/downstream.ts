import { kthLargest, mulberry32, type RandomSource } from '@vtrain/optimizer';

/** What to send a worker: the full weights, or new values of at most `budget` coordinates. */
export type DownstreamReply =
  | { readonly kind: 'dense' }
  | {
      readonly kind: 'patch';
      readonly fromVersion: number;
      /** Increasing coordinates. */
      readonly indices: Uint32Array;
      /** The global model's values there (new values, not differences). */
      readonly values: Float32Array;
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

/** A patch sent and not yet confirmed by the worker's next message. */
interface PendingPatch {
  readonly label: number;
  readonly indices: Uint32Array;
  readonly values: Float32Array;
  readonly residual: Uint32Array | null;
}

/** The coordinator's record of one worker's copy of the model. */
interface Replica {
  /** What the worker holds (confirmed), labelled `label`. */
  readonly copy: Float32Array;
  label: number;
  /**
   * Coordinates where `copy` may differ from the global model other than those
   * changed after `label`: what earlier patches left out; null: anywhere (the
   * list would be a large part of P, so the next reply scans every coordinate).
   */
  residual: Uint32Array | null;
  pending: PendingPatch | undefined;
  /** Set while the worker is disconnected: the order in which departed replicas are dropped. */
  departedAt: number | undefined;
}

const EMPTY = new Uint32Array(0);

/** Bytes per patch entry at f32, generously (a 5-byte varint gap and 4 value bytes). */
const PATCH_BYTES_PER_ENTRY = 9;

/**
 * Magnitude keys: the bit pattern of a non-negative float32 shifted right by
 * this, which keeps the exponent and 5 mantissa bits (buckets about 2% wide);
 * 8192 keys (the sign bit is 0), a 32 KB histogram.
 */
const KEY_SHIFT = 18;
const KEYS = 1 << (31 - KEY_SHIFT);

/** Replicas of disconnected workers kept for their reconnect; the oldest go first beyond this. */
const DEPARTED_KEPT = 16;

/**
 * Bounded downstream with error feedback on the server's side, per worker
 * (DoubleSqueeze, Tang et al. ICML 2019, with the server's error memory kept
 * per worker as in asynchronous parameter servers): the coordinator keeps
 * each worker's copy of the model, and every weights reply carries the NEW
 * values of the `budget` coordinates where the global model and that copy
 * differ most (top-B of |global - copy|); what is left out stays in the
 * difference, so it goes out in a later reply once it is among the largest.
 * The copy is thereby the worker's model exactly, and its distance to the
 * global model is the error memory e_w = global - copy of the paper.
 *
 * Exactness: coordinates a patch carries end bit-identical to the global
 * model (values, not differences), so when the difference has at most
 * `budget` non-zero entries the worker's copy equals the global model; a
 * dense reply (a pull without a version) always does.
 *
 * Confirmation: the copy changes only when the worker shows it received a
 * patch, i.e. its next message reports the patch's version; a worker that
 * still reports its previous version lost the reply (a disconnect), and the
 * patch is dropped. Patch versions are always above the copy's, so the two
 * are told apart.
 *
 * Cost: a reply visits the candidates, the residual left by the previous
 * reply plus the coordinates changed since the worker's version (the union of
 * the applied updates' supports, from the patch history), or every coordinate
 * in one sequential pass when the history cannot tell or they reach a quarter
 * of P; it selects among them with a histogram of magnitude keys and a
 * quickselect of one bucket, O(candidates) with no sort of them. While fewer
 * than P/4 coordinates changed since the worker's version that is
 * O(residual + updates since its reply x k), whatever P is; workers that send
 * unrelated coordinates faster than B per reply spread the difference over
 * much of the model, and then an exact top-B must look at all of it. Memory is one float32 copy of the
 * model per worker (4 P bytes: 407 KB for the 101,770-parameter MLP, 4 MB for
 * a million parameters) plus its residual list (not kept once it would reach
 * a quarter of P: the next reply then scans every coordinate, O(P)).
 */
export class WorkerReplicas {
  private readonly replicas = new Map<string, Replica>();
  private readonly parameterCount: number;
  /** Generation stamps that de-duplicate candidates (one pass per reply). */
  private readonly stamps: Uint32Array;
  private generation = 0;
  private candidates: Uint32Array;
  private magnitudes: Float32Array;
  /** The bit patterns of `magnitudes` (the same memory). */
  private magnitudeBits: Uint32Array;
  /** Whether `candidates` are in increasing order (a scan of every coordinate). */
  private inIndexOrder = true;
  /** Count of candidates per magnitude key. */
  private readonly histogram = new Uint32Array(KEYS);
  /** Positions in `candidates` of the threshold bucket's entries, and their magnitudes. */
  private boundary: Uint32Array;
  private scratch: Float32Array;
  private readonly random: RandomSource;
  private departures = 0;

  /**
   * @param initialWeights - version 0, which every worker builds for itself.
   * @param budget - B >= 1: most coordinates per patch.
   */
  constructor(
    private readonly initialWeights: Float32Array,
    readonly budget: number,
  ) {
    this.parameterCount = initialWeights.length;
    this.stamps = new Uint32Array(this.parameterCount);
    this.candidates = new Uint32Array(Math.min(this.parameterCount, 1024));
    this.magnitudes = new Float32Array(this.candidates.length);
    this.magnitudeBits = new Uint32Array(this.magnitudes.buffer);
    this.boundary = new Uint32Array(this.candidates.length);
    this.scratch = new Float32Array(this.candidates.length);
    // Quickselect pivots only: the selected set does not depend on them.
    this.random = mulberry32(0x5eed);
  }

  /** Workers with a record (connected or recently departed). */
  get size(): number {
    return this.replicas.size;
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
    const count = this.collect(replica, model);
    const { budget } = this;
    const sendCount = Math.min(count, budget);
    if (sendCount * PATCH_BYTES_PER_ENTRY >= this.parameterCount * 4) {
      return this.dense(workerId, model); // as large as the weights themselves: send them exactly
    }
    const { indices, residual } = this.select(count, sendCount);
    const values = new Float32Array(indices.length);
    const weights = model.weights;
    for (let i = 0; i < indices.length; i++) values[i] = weights[indices[i] ?? 0] ?? 0;
    replica.pending = { label: model.version, indices, values, residual };
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
   * Squared L2 distance between the worker's confirmed copy and `weights`
   * (the error memory's norm squared), for tests and diagnostics.
   */
  distanceSquared(workerId: string, weights: Float32Array): number | undefined {
    const replica = this.replicas.get(workerId);
    if (replica === undefined) return undefined;
    let sum = 0;
    for (let i = 0; i < weights.length; i++) {
      const d = (weights[i] ?? 0) - (replica.copy[i] ?? 0);
      sum += d * d;
    }
    return sum;
  }

  /** The worker's record brought to `haveVersion`, or undefined when it cannot be. */
  private resolve(workerId: string, haveVersion: number): Replica | undefined {
    const replica = this.replicas.get(workerId);
    if (replica !== undefined) {
      const pending = replica.pending;
      replica.pending = undefined;
      if (pending?.label === haveVersion) {
        const { copy } = replica;
        for (let i = 0; i < pending.indices.length; i++) {
          copy[pending.indices[i] ?? 0] = pending.values[i] ?? 0;
        }
        replica.label = pending.label;
        replica.residual = pending.residual;
        return replica;
      }
      if (replica.label === haveVersion) return replica; // the pending patch never arrived
    }
    if (haveVersion !== 0) return undefined;
    // Version 0 is the seeded initial model the worker built: every coordinate may differ.
    const fresh: Replica = {
      copy: this.initialWeights.slice(),
      label: 0,
      residual: EMPTY,
      pending: undefined,
      departedAt: undefined,
    };
    this.replicas.set(workerId, fresh);
    return fresh;
  }

  private dense(workerId: string, model: GlobalModel): DownstreamReply {
    const existing = this.replicas.get(workerId);
    if (existing?.copy.length === model.weights.length) {
      existing.copy.set(model.weights);
      existing.label = model.version;
      existing.residual = EMPTY;
      existing.pending = undefined;
      existing.departedAt = undefined;
    } else {
      this.replicas.set(workerId, {
        copy: model.weights.slice(),
        label: model.version,
        residual: EMPTY,
        pending: undefined,
        departedAt: undefined,
      });
    }
    return { kind: 'dense' };
  }

  /**
   * Gathers the coordinates where the copy differs from the global model into
   * `candidates[0, count)` with |difference| in `magnitudes`; returns count. The candidates are the residual
   * plus the coordinates changed since the copy's version (O(candidates)), or
   * every coordinate in index order when that list would reach a quarter of P
   * (a sequential scan is then cheaper than gathering it).
   */
  private collect(replica: Replica, model: GlobalModel): number {
    const { copy, residual } = replica;
    const weights = model.weights;
    const quarter = Math.ceil(this.parameterCount / 4);
    const changed =
      residual === null ? undefined : model.changedSince(replica.label, quarter, false);
    let count = 0;
    if (residual === null || changed === undefined || changed.length + residual.length >= quarter) {
      this.reserve(this.parameterCount);
      const { candidates, magnitudes } = this;
      // Equal bit patterns first, as integers: cheaper than a float subtraction, and most are.
      const globalBits = new Int32Array(weights.buffer, weights.byteOffset, weights.length);
      const copyBits = new Int32Array(copy.buffer, copy.byteOffset, copy.length);
      for (let i = 0; i < weights.length; i++) {
        if (globalBits[i] === copyBits[i]) continue;
        const d = (weights[i] ?? 0) - (copy[i] ?? 0);
        if (d !== 0) {
          candidates[count] = i;
          magnitudes[count] = Math.abs(d);
          count++;
        }
      }
      this.inIndexOrder = true;
      return count;
    }
    this.reserve(changed.length + residual.length);
    const { candidates, magnitudes, stamps } = this;
    // Each list holds a coordinate once; only their overlap repeats, found by stamping the residual.
    let generation = 0;
    if (residual.length > 0) {
      this.generation = (this.generation + 1) >>> 0;
      if (this.generation === 0) {
        stamps.fill(0);
        this.generation = 1;
      }
      generation = this.generation;
    }
    for (const list of [residual, changed]) {
      const stamping = list === residual;
      for (const i of list) {
        if (stamping) stamps[i] = generation;
        else if (generation !== 0 && stamps[i] === generation) continue;
        const d = (weights[i] ?? 0) - (copy[i] ?? 0);
        if (d !== 0) {
          candidates[count] = i;
          magnitudes[count] = Math.abs(d);
          count++;
        }
      }
    }
    this.inIndexOrder = false;
    return count;
  }

  /**
   * Splits `candidates[0, count)` into the `sendCount` largest magnitudes
   * (returned in increasing coordinate order) and the rest (the new
   * residual); of equal magnitudes at the threshold the lowest coordinates
   * go, so the choice does not depend on the candidates' order and a reply
   * from the candidate list equals one from a scan of every coordinate.
   *
   * O(count): the histogram of magnitude keys (float32 bit patterns of
   * non-negative values order like the values) names the bucket holding the
   * threshold; everything above it is sent, everything below kept, and only
   * that bucket's entries go through quickselect.
   */
  private select(
    count: number,
    sendCount: number,
  ): { indices: Uint32Array; residual: Uint32Array | null } {
    const { candidates, magnitudes, magnitudeBits, histogram } = this;
    if (sendCount === count) {
      const all = candidates.slice(0, count);
      return { indices: this.inIndexOrder ? all : ascending(all), residual: EMPTY };
    }
    histogram.fill(0);
    for (let j = 0; j < count; j++) {
      const key = (magnitudeBits[j] ?? 0) >>> KEY_SHIFT;
      histogram[key] = (histogram[key] ?? 0) + 1;
    }
    let threshold = KEYS - 1;
    let above = 0;
    for (; threshold > 0; threshold--) {
      const inBucket = histogram[threshold] ?? 0;
      if (above + inBucket >= sendCount) break;
      above += inBucket;
    }
    const needed = sendCount - above; // taken from the threshold bucket
    this.reserveBoundary(histogram[threshold] ?? 0);
    const boundary = this.boundary;
    // A residual of a quarter of P or more is not listed: the next reply scans everything.
    const residual =
      count - sendCount < this.parameterCount / 4 ? new Uint32Array(count - sendCount) : null;
    const indices = new Uint32Array(sendCount);
    let sent = 0;
    let kept = 0;
    let inBoundary = 0;
    for (let j = 0; j < count; j++) {
      const key = (magnitudeBits[j] ?? 0) >>> KEY_SHIFT;
      if (key > threshold) indices[sent++] = candidates[j] ?? 0;
      else if (key === threshold) boundary[inBoundary++] = j;
      else if (residual !== null) residual[kept++] = candidates[j] ?? 0;
    }
    // Within the threshold bucket: the needed largest, lowest coordinates first among equals.
    // Everything in the bucket when it holds just the needed entries.
    let cut = -Infinity;
    let lowestTied = -1;
    if (needed < inBoundary) {
      const scratch = this.scratch;
      for (let b = 0; b < inBoundary; b++) scratch[b] = magnitudes[boundary[b] ?? 0] ?? 0;
      cut = kthLargest(scratch, inBoundary, needed, this.random);
      let greater = 0;
      const tied: number[] = [];
      for (let b = 0; b < inBoundary; b++) {
        const j = boundary[b] ?? 0;
        const m = magnitudes[j] ?? 0;
        if (m > cut) greater++;
        else if (m === cut) tied.push(candidates[j] ?? 0);
      }
      const tiesTaken = needed - greater;
      tied.sort((a, b) => a - b);
      lowestTied = tied[tiesTaken - 1] ?? -1; // ties above this coordinate stay behind
    }
    const taken = new Uint32Array(needed);
    let takenCount = 0;
    for (let b = 0; b < inBoundary; b++) {
      const j = boundary[b] ?? 0;
      const m = magnitudes[j] ?? 0;
      const i = candidates[j] ?? 0;
      if (m > cut || (m === cut && i <= lowestTied)) taken[takenCount++] = i;
      else if (residual !== null) residual[kept++] = i;
    }
    if (!this.inIndexOrder) {
      indices.set(taken, sent);
      return { indices: ascending(indices), residual };
    }
    // Both runs are in coordinate order: merge from the back.
    let head = sent - 1;
    let tail = needed - 1;
    for (let at = sendCount - 1; tail >= 0; at--) {
      const fromHead = indices[head] ?? 0;
      const fromTail = taken[tail] ?? 0;
      if (head >= 0 && fromHead > fromTail) {
        indices[at] = fromHead;
        head--;
      } else {
        indices[at] = fromTail;
        tail--;
      }
    }
    return { indices, residual };
  }

  private reserveBoundary(size: number): void {
    if (this.boundary.length >= size) return;
    const length = Math.min(this.parameterCount, Math.max(size, this.boundary.length * 2));
    this.boundary = new Uint32Array(length);
    this.scratch = new Float32Array(length);
  }

  private reserve(size: number): void {
    if (this.candidates.length >= size) return;
    const length = Math.min(this.parameterCount, Math.max(size, this.candidates.length * 2));
    this.candidates = new Uint32Array(length);
    this.magnitudes = new Float32Array(length);
    this.magnitudeBits = new Uint32Array(this.magnitudes.buffer);
  }
}

/** The indices sorted in place, after a linear check (one version's changes come sorted). */
function ascending(indices: Uint32Array): Uint32Array {
  for (let j = 1; j < indices.length; j++) {
    if ((indices[j] ?? 0) < (indices[j - 1] ?? 0)) return indices.sort();
  }
  return indices;
}
