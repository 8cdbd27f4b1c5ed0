/**
 * Which web origins may talk to the coordinator (HTTP API and socket.io).
 *
 * Default (no list): same-origin only, i.e. the pages the coordinator serves
 * itself. A request without an `Origin` header is not from a browser page on
 * another site (headless workers, curl, tfjs in Node send none), so it passes:
 * the origin check protects browsers' ambient access, the token protects
 * researcher actions.
 */
export type OriginPolicy = (origin: string | undefined, host: string | undefined) => boolean;

/** Thrown for an `ORIGINS` entry that is not an origin (`scheme://host[:port]`). */
export class OriginListError extends Error {
  constructor(readonly entry: string) {
    super(`"${entry}" is not an origin like https://example.org or http://localhost:5173`);
    this.name = 'OriginListError';
  }
}

/** Normalises `scheme://host[:port]` (default ports dropped), or throws {@link OriginListError}. */
export function normaliseOrigin(entry: string): string {
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    throw new OriginListError(entry);
  }
  if (url.origin === 'null' || url.pathname !== '/' || url.search !== '' || url.hash !== '') {
    throw new OriginListError(entry);
  }
  return url.origin;
}

/** Parses a comma-separated `ORIGINS` value; empty or absent means same-origin only. */
export function parseOriginList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map(normaliseOrigin);
}

/** The policy for an allowlist; the coordinator's own origin (its `Host`) is always allowed. */
export function originPolicy(allowed: readonly string[] = []): OriginPolicy {
  const allowedSet = new Set(allowed.map(normaliseOrigin));
  return (origin, host) => {
    if (origin === undefined) return true;
    let parsed: URL;
    try {
      parsed = new URL(origin);
    } catch {
      return false; // includes the opaque origin "null" (sandboxed frames, file: pages)
    }
    if (allowedSet.has(parsed.origin)) return true;
    // Same origin: the page was served by this coordinator under the host the browser used.
    return parsed.host === host?.toLowerCase();
  };
}
