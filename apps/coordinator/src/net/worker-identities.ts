import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Store } from '../store/store.js';

/**
 * Anonymous worker identities: an id plus a secret the worker presents when it
 * reconnects, so it keeps its seq memory (idempotency) and contribution count,
 * and nobody else can speak as it. Only a hash of the secret is stored.
 */
export class WorkerIdentities {
  constructor(private readonly store: Store) {}

  issue(): { workerId: string; secret: string } {
    const workerId = randomUUID();
    const secret = randomBytes(24).toString('base64url');
    this.store.setSetting(settingKey(workerId), hash(secret));
    return { workerId, secret };
  }

  verify(workerId: string, secret: string): boolean {
    const stored = this.store.getSetting(settingKey(workerId));
    if (stored === undefined) return false;
    const expected = Buffer.from(stored, 'hex');
    const given = Buffer.from(hash(secret), 'hex');
    return expected.length === given.length && timingSafeEqual(expected, given);
  }
}

function settingKey(workerId: string): string {
  return `worker-secret:${workerId}`;
}

function hash(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}
