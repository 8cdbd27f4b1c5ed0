import { createHash, timingSafeEqual } from 'node:crypto';

/** Constant-time comparison of a presented token with the researcher token. */
export function tokenMatches(presented: unknown, token: string): boolean {
  if (typeof presented !== 'string') return false;
  // Hashing first makes the comparison length-independent.
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}

/** The token of an `Authorization: Bearer <token>` header, if any. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return match?.[1];
}

/** Shortest researcher token accepted at startup (the generated one has 32 characters). */
export const MIN_TOKEN_LENGTH = 16;

/** Thrown at startup for a researcher token that is empty or too short to resist guessing. */
export class ResearcherTokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResearcherTokenError';
  }
}

/**
 * Checks a configured researcher token; `source` names where it came from for the message.
 *
 * @throws {@link ResearcherTokenError} when it is shorter than {@link MIN_TOKEN_LENGTH}
 *   characters (an empty token file, `COORDINATOR_TOKEN=`), has whitespace (a bearer
 *   header cannot carry it), or is not ASCII-printable.
 */
export function checkResearcherToken(token: string, source: string): string {
  if (token.length < MIN_TOKEN_LENGTH) {
    throw new ResearcherTokenError(
      `the researcher token from ${source} has ${token.length} characters; at least ${MIN_TOKEN_LENGTH} are required (${
        source === 'COORDINATOR_TOKEN'
          ? 'set a longer one, or unset it to have one generated'
          : 'delete the file to have one generated, or set COORDINATOR_TOKEN'
      })`,
    );
  }
  if (!/^[\x21-\x7e]+$/.test(token)) {
    throw new ResearcherTokenError(
      `the researcher token from ${source} must be printable ASCII without spaces (it travels in an Authorization: Bearer header)`,
    );
  }
  return token;
}

/** Failed attempts an address may make at once, then {@link FAILED_REFILL_PER_MINUTE} a minute. */
const FAILED_BURST = 10;
const FAILED_REFILL_PER_MINUTE = 10;
/** Addresses remembered at most; the oldest is forgotten first (an attacker's many addresses cannot grow memory). */
const MAX_ADDRESSES = 10_000;

/**
 * Throttles wrong researcher tokens per client address, shared by the HTTP API and the
 * dashboard socket: {@link FAILED_BURST} wrong tokens at once, then
 * {@link FAILED_REFILL_PER_MINUTE} a minute. A throttled address is refused before its
 * token is even compared, so guessing runs at that rate however fast it asks; a right
 * token from an address that is not throttled always passes.
 */
export class FailedTokenThrottle {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly burst = FAILED_BURST,
    private readonly perMinute = FAILED_REFILL_PER_MINUTE,
  ) {}

  /** Whether `address` may try a token now. */
  allows(address: string): boolean {
    return this.level(address) >= 1;
  }

  /** Counts a wrong token from `address`. */
  failed(address: string): void {
    const tokens = this.level(address) - 1;
    this.buckets.delete(address); // re-inserted last: Map order is the eviction order
    this.buckets.set(address, { tokens: Math.max(0, tokens), at: this.now() });
    if (this.buckets.size > MAX_ADDRESSES) {
      const oldest = this.buckets.keys().next().value;
      if (oldest !== undefined) this.buckets.delete(oldest);
    }
  }

  /** Seconds until `address` may try again (0 when it may now). */
  retryAfterSeconds(address: string): number {
    const missing = 1 - this.level(address);
    return missing <= 0 ? 0 : Math.ceil((missing * 60) / this.perMinute);
  }

  private level(address: string): number {
    const bucket = this.buckets.get(address);
    if (!bucket) return this.burst;
    const refill = ((this.now() - bucket.at) / 60_000) * this.perMinute;
    return Math.min(this.burst, bucket.tokens + refill);
  }
}
