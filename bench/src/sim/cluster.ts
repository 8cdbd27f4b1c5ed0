import { mulberry32, type RandomSource } from '@vtrain/optimizer';

/**
 * The virtual cluster: how fast each volunteer computes, how often it stalls,
 * what its link costs, and when it leaves and comes back. Everything here is a
 * parameter of the report, so every number in it is explicit.
 */
export interface ClusterSpec {
  readonly workers: number;
  /** Compute time of one local step (one batch) of the fastest worker, virtual ms. */
  readonly baseStepMs: number;
  /** Slowest / fastest worker: speeds are spread evenly over [1, spread]. */
  readonly speedSpread: number;
  /** Log-normal jitter of each step time (sigma of ln). */
  readonly jitterSigma: number;
  /** Probability that one update's computation stalls (a throttled tab, a GC pause, a busy CPU). */
  readonly stallProbability: number;
  /** Length of a stall, virtual ms. */
  readonly stallMs: number;
  /** One-way network latency, virtual ms (the same for every worker). */
  readonly latencyMs: number;
  /** Worker upload bandwidth, bytes per virtual second. */
  readonly uploadBytesPerSecond: number;
  /** Worker download bandwidth, bytes per virtual second. */
  readonly downloadBytesPerSecond: number;
  /** Mean time between departures of one worker (virtual ms); Infinity for no churn. */
  readonly meanUptimeMs: number;
  /** How long a departed worker stays away before it joins again, virtual ms. */
  readonly downtimeMs: number;
  /**
   * The coordinator's own time per coordinate of an update (virtual ms): run
   * engine submit plus the ack's patch, one update at a time on one thread, so
   * updates queue behind each other. 0 leaves the coordinator out.
   */
  readonly coordinatorMsPerCoordinate: number;
  /**
   * The coordinator's link, bytes per virtual second each way, shared by every
   * worker: messages cross it one after the other (first come, first served).
   * Infinity leaves it out.
   */
  readonly coordinatorBytesPerSecond: number;
}

/** One virtual worker's fixed traits. */
export interface WorkerProfile {
  readonly index: number;
  /** Multiplier on `baseStepMs`, in [1, speedSpread]. */
  readonly slowdown: number;
}

/**
 * Slowdowns spread evenly from 1 to `speedSpread` (worker 0 fastest), so every
 * seed sees the same spread and seeds differ only in jitter, stalls, churn,
 * data order and initial weights.
 */
export function workerProfiles(spec: ClusterSpec): WorkerProfile[] {
  return Array.from({ length: spec.workers }, (_, index) => ({
    index,
    slowdown: spec.workers === 1 ? 1 : 1 + ((spec.speedSpread - 1) * index) / (spec.workers - 1),
  }));
}

/** Standard normal from two uniforms (Box-Muller); one value per call keeps streams simple. */
function normal(random: RandomSource): number {
  const u = Math.max(random(), 1e-12);
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/**
 * The random draws of one worker, from its own stream, so adding a worker or
 * a schedule decision elsewhere never shifts another worker's timings.
 */
export class WorkerTiming {
  private readonly random: RandomSource;

  constructor(
    private readonly spec: ClusterSpec,
    private readonly profile: WorkerProfile,
    seed: number,
  ) {
    this.random = mulberry32((seed * 7919 + profile.index * 104_729 + 17) >>> 0);
  }

  /** Virtual compute time of an update of `localSteps` steps, stalls included. */
  computeMs(localSteps: number): number {
    const { baseStepMs, jitterSigma, stallProbability, stallMs } = this.spec;
    let total = 0;
    for (let h = 0; h < localSteps; h++) {
      total += baseStepMs * this.profile.slowdown * Math.exp(jitterSigma * normal(this.random));
    }
    if (this.random() < stallProbability) total += stallMs;
    return total;
  }

  /** Time until this worker next departs (exponential), Infinity without churn. */
  uptimeMs(): number {
    const mean = this.spec.meanUptimeMs;
    if (!Number.isFinite(mean)) return Number.POSITIVE_INFINITY;
    return -mean * Math.log(Math.max(this.random(), 1e-12));
  }
}

/** Transfer time of one message: latency plus serialisation at the link's bandwidth. */
export function uploadMs(spec: ClusterSpec, bytes: number): number {
  return spec.latencyMs + (bytes * 1000) / spec.uploadBytesPerSecond;
}

export function downloadMs(spec: ClusterSpec, bytes: number): number {
  return spec.latencyMs + (bytes * 1000) / spec.downloadBytesPerSecond;
}

/**
 * The coordinator's shared resources on the virtual clock: its link (one queue
 * per direction) and its one thread. Each `reserve*` call takes the resource
 * from max(now, when it frees up) and returns when the message or the work is
 * done; callers reserve in event order, so service is first come, first served.
 */
export class CoordinatorModel {
  private inFreeAt = 0;
  private outFreeAt = 0;
  private cpuFreeAt = 0;
  /** Virtual ms the thread was busy, and the most an update waited for it. */
  busyMs = 0;
  maxQueueMs = 0;

  constructor(private readonly spec: ClusterSpec) {}

  private linkMs(bytes: number): number {
    const rate = this.spec.coordinatorBytesPerSecond;
    return Number.isFinite(rate) ? (bytes * 1000) / rate : 0;
  }

  /** An upload whose first byte reaches the coordinator at `at` and that the worker's own link delivers by `ownDoneAt`. */
  reserveInbound(at: number, bytes: number, ownDoneAt: number): number {
    const start = Math.max(at, this.inFreeAt);
    this.inFreeAt = start + this.linkMs(bytes);
    return Math.max(this.inFreeAt, ownDoneAt);
  }

  /** A reply leaving at `at`: when its last byte is out of the coordinator's link. */
  reserveOutbound(at: number, bytes: number): number {
    const start = Math.max(at, this.outFreeAt);
    this.outFreeAt = start + this.linkMs(bytes);
    return this.outFreeAt;
  }

  /** Processing an update of `coordinates` entries that is fully received at `at`: when it is done. */
  reserveProcessing(at: number, coordinates: number): number {
    const work = this.spec.coordinatorMsPerCoordinate * coordinates;
    const start = Math.max(at, this.cpuFreeAt);
    this.maxQueueMs = Math.max(this.maxQueueMs, start - at);
    this.cpuFreeAt = start + work;
    this.busyMs += work;
    return this.cpuFreeAt;
  }
}
