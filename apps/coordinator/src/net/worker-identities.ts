import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Store } from '../store/store.js';

/** How long and how many identities are kept; see {@link WorkerIdentities}. */
export interface IdentityRetention {
  /** An identity not issued or resumed for this long is forgotten (ms). */
  readonly ttlMs: number;
  /** At most this many identities are kept; the least recently seen go first. */
  readonly keepAtMost: number;
}

export const DEFAULT_IDENTITY_RETENTION: IdentityRetention = {
  ttlMs: 7 * 24 * 3600 * 1000,
  keepAtMost: 100_000,
};

/**
 * Anonymous worker identities: an id plus a secret the worker presents when it
 * reconnects, so it keeps its seq memory (idempotency) and contribution count,
 * and nobody else can speak as it. Only a hash of the secret is stored.
 *
 * Bounded: identities expire after {@link IdentityRetention.ttlMs} unused and
 * the least recently seen go beyond {@link IdentityRetention.keepAtMost}
 * ({@link sweep}); a run that forgets a departed worker's last seq revokes
 * the identity ({@link revoke}), because resuming it could replay an applied
 * update. A worker whose identity is gone gets a new one on its next hello.
 */
export class WorkerIdentities {
  constructor(
    private readonly store: Store,
    readonly retention: IdentityRetention = DEFAULT_IDENTITY_RETENTION,
    private readonly now: () => number = Date.now,
  ) {}

  issue(): { workerId: string; secret: string } {
    const workerId = randomUUID();
    const secret = randomBytes(24).toString('base64url');
    this.store.putWorkerSecret(workerId, hash(secret), Math.floor(this.now()));
    return { workerId, secret };
  }

  /** Whether `secret` is the identity's; a match refreshes the identity's last-seen time. */
  verify(workerId: string, secret: string): boolean {
    const stored = this.store.getWorkerSecret(workerId);
    if (stored === undefined) return false;
    const at = this.now();
    if (at - stored.lastSeenAt > this.retention.ttlMs) return false; // expired, not yet swept
    const expected = Buffer.from(stored.hash, 'hex');
    const given = Buffer.from(hash(secret), 'hex');
    const match = expected.length === given.length && timingSafeEqual(expected, given);
    if (match) this.store.putWorkerSecret(workerId, stored.hash, Math.floor(at));
    return match;
  }

  /** Forgets these identities: their secrets no longer resume them. */
  revoke(workerIds: readonly string[]): void {
    this.store.deleteWorkerSecrets(workerIds);
  }

  /** Drops expired identities and the oldest beyond the bound; returns how many are kept. */
  sweep(): number {
    return this.store.expireWorkerSecrets(
      this.now() - this.retention.ttlMs,
      this.retention.keepAtMost,
    );
  }
}

function hash(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}
