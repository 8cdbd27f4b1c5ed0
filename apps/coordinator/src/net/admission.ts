import { RateLimiter } from './rate-limiter.js';

/**
 * What it costs to show up: limits on worker connections and on new
 * identities, per source address and in total. Identities are anonymous, so
 * without a price one machine could mint as many as it likes (each with its
 * own rate limits, share of the batch and state kept by the coordinator).
 */
export interface WorkerLimits {
  /** Open worker connections one address may hold at once. */
  readonly connectionsPerAddress: number;
  /** Open worker connections in total. */
  readonly connectionsTotal: number;
  /** New connections one address may open: burst, then per second. */
  readonly connectBurstPerAddress: number;
  readonly connectsPerSecondPerAddress: number;
  /** New identities (a hello without a valid `resume`) one address may get: burst, then per second. */
  readonly identityBurstPerAddress: number;
  readonly identitiesPerSecondPerAddress: number;
  /** New identities in total: burst, then per second. */
  readonly identityBurstTotal: number;
  readonly identitiesPerSecondTotal: number;
  /**
   * Take the client's address from the last `X-Forwarded-For` entry (the one
   * the proxy in front appended) instead of the socket's peer. Only behind a
   * proxy that sets it: otherwise any client could name any address.
   */
  readonly trustProxy: boolean;
  /** Pulls one connection may make: burst, then per second. */
  readonly pullBurst: number;
  readonly pullsPerSecond: number;
  /** Bytes of weights the coordinator sends per second, all connections together (0: no limit). */
  readonly bytesOutPerSecond: number;
}

/**
 * Defaults: generous enough for a classroom behind one NAT address and for the
 * test suites (which all connect from 127.0.0.1), tight enough that minting a
 * million identities from one address takes days, not seconds.
 */
export const DEFAULT_WORKER_LIMITS: WorkerLimits = {
  connectionsPerAddress: 256,
  connectionsTotal: 20_000,
  connectBurstPerAddress: 500,
  connectsPerSecondPerAddress: 20,
  identityBurstPerAddress: 500,
  identitiesPerSecondPerAddress: 5,
  identityBurstTotal: 5_000,
  identitiesPerSecondTotal: 200,
  trustProxy: false,
  pullBurst: 20,
  pullsPerSecond: 5,
  bytesOutPerSecond: 512 * 2 ** 20,
};

/** Addresses remembered at most; the least recently seen idle ones are dropped beyond this. */
const MAX_TRACKED_ADDRESSES = 100_000;

/** Why a connection or an identity was refused (the text says what to do). */
export interface Refusal {
  readonly code: 'rate-limited';
  readonly message: string;
}

interface AddressState {
  open: number;
  readonly connects: RateLimiter;
  readonly identities: RateLimiter;
}

/**
 * Keeps the counts behind {@link WorkerLimits}. Per-address state is bounded:
 * an address with no open connection is forgotten once
 * {@link MAX_TRACKED_ADDRESSES} others were seen after it (it then starts with
 * a full bucket again, which costs it nothing it could not get by waiting).
 */
export class Admission {
  private readonly addresses = new Map<string, AddressState>();
  private readonly identitiesTotal: RateLimiter;
  private open = 0;

  constructor(
    readonly limits: WorkerLimits,
    private readonly now: () => number,
  ) {
    this.identitiesTotal = new RateLimiter(
      limits.identityBurstTotal,
      limits.identitiesPerSecondTotal,
      now(),
    );
  }

  /** The address a handshake comes from (see {@link WorkerLimits.trustProxy}). */
  addressOf(peer: string, forwardedFor: string | string[] | undefined): string {
    if (!this.limits.trustProxy || forwardedFor === undefined) return peer;
    const header = Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor;
    const last = header.split(',').at(-1)?.trim() ?? '';
    return last === '' ? peer : last.slice(0, 64);
  }

  /** Admits a new connection from `address`, or says why not; an admitted one must be {@link release}d. */
  connect(address: string): Refusal | undefined {
    const { limits } = this;
    if (this.open >= limits.connectionsTotal) {
      return refusal(
        `the coordinator holds ${this.open} worker connections, its limit: retry later`,
      );
    }
    const state = this.state(address);
    if (state.open >= limits.connectionsPerAddress) {
      return refusal(
        `${state.open} worker connections from this address already, the limit per address: retry later`,
      );
    }
    if (!state.connects.allow(this.now())) {
      return refusal('too many new connections from this address: slow down');
    }
    state.open += 1;
    this.open += 1;
    return undefined;
  }

  release(address: string): void {
    const state = this.addresses.get(address);
    if (state && state.open > 0) state.open -= 1;
    if (this.open > 0) this.open -= 1;
  }

  /** Whether `address` may be given a new identity now (it costs a token of both buckets). */
  newIdentity(address: string): Refusal | undefined {
    const state = this.state(address);
    const at = this.now();
    if (!state.identities.allow(at)) {
      return refusal(
        'too many new worker identities from this address: reconnect with hello.resume, or wait',
      );
    }
    if (!this.identitiesTotal.allow(at)) {
      return refusal('the coordinator is handing out too many new identities: retry later');
    }
    return undefined;
  }

  /** Open connections in total (for tests and diagnostics). */
  get openConnections(): number {
    return this.open;
  }

  private state(address: string): AddressState {
    let state = this.addresses.get(address);
    if (state) {
      // Re-inserted: Map order is then least recently seen first.
      this.addresses.delete(address);
    } else {
      const at = this.now();
      const { limits } = this;
      state = {
        open: 0,
        connects: new RateLimiter(
          limits.connectBurstPerAddress,
          limits.connectsPerSecondPerAddress,
          at,
        ),
        identities: new RateLimiter(
          limits.identityBurstPerAddress,
          limits.identitiesPerSecondPerAddress,
          at,
        ),
      };
    }
    this.addresses.set(address, state);
    if (this.addresses.size > MAX_TRACKED_ADDRESSES) this.forgetIdle();
    return state;
  }

  private forgetIdle(): void {
    for (const [address, state] of this.addresses) {
      if (this.addresses.size <= MAX_TRACKED_ADDRESSES) return;
      if (state.open === 0) this.addresses.delete(address);
    }
  }
}

function refusal(message: string): Refusal {
  return { code: 'rate-limited', message };
}

/**
 * A global budget of bytes per second (a token bucket of bytes, one second's
 * worth deep): weights replies are sent while it lasts; beyond it a pull is
 * refused with the time to wait, so a restart that makes every worker pull the
 * dense model at once spreads the downloads instead of queuing them all in memory.
 */
export class ByteBudget {
  private available: number;
  private last: number;

  constructor(
    private readonly perSecond: number,
    now: number,
  ) {
    this.available = perSecond;
    this.last = now;
  }

  /** Takes `bytes` if the budget has them; else undefined and nothing is taken. */
  take(bytes: number, now: number): { ok: true } | { ok: false; retryAfterMs: number } {
    if (this.perSecond <= 0) return { ok: true };
    this.available = Math.min(
      this.perSecond,
      this.available + ((now - this.last) / 1000) * this.perSecond,
    );
    this.last = now;
    // A reply larger than a second's budget goes out once the budget is full.
    const needed = Math.min(bytes, this.perSecond);
    if (this.available >= needed) {
      this.available -= bytes;
      return { ok: true };
    }
    return {
      ok: false,
      retryAfterMs: Math.ceil(((needed - this.available) / this.perSecond) * 1000),
    };
  }

  /** Counts bytes that were sent anyway (weights carried by an ack are never held back). */
  spend(bytes: number): void {
    if (this.perSecond > 0) this.available -= bytes;
  }
}
