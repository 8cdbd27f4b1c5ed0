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

/** Whether a request's `Host` header names this coordinator (see {@link hostPolicy}). */
export type HostPolicy = (host: string | undefined) => boolean;

/** The host name of a `Host` header value (`name[:port]`, `[v6]:port`), lower case; undefined if malformed. */
export function hostName(host: string): string | undefined {
  let url: URL;
  try {
    url = new URL(`http://${host}`);
  } catch {
    return undefined;
  }
  // Anything but name[:port] (a path, credentials) is not a Host header.
  if (url.username !== '' || url.password !== '' || url.pathname !== '/' || url.search !== '') {
    return undefined;
  }
  return url.hostname.toLowerCase();
}

function isIpLiteral(name: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(name) || (name.startsWith('[') && name.endsWith(']'));
}

/**
 * The `Host` allowlist, against DNS rebinding: a page of another site whose name
 * re-resolves to this machine would be "same origin" with the coordinator and pass the
 * origin check, but its requests carry the other site's name as `Host`. Allowed:
 * - IP literals (`127.0.0.1:3000`, `[::1]`, a LAN address): a page can only reach those
 *   under the IP itself, which is not a name an attacker controls;
 * - `localhost` and `*.localhost` (browsers resolve these to loopback themselves);
 * - `extraNames`: the configured `HOST` when it is a name, and the hosts of `ORIGINS`
 *   (a coordinator served under a DNS name lists it there, e.g. behind a proxy).
 */
export function hostPolicy(extraNames: readonly string[] = []): HostPolicy {
  const names = new Set(extraNames.map((name) => name.toLowerCase()));
  return (host) => {
    if (host === undefined) return false;
    const name = hostName(host);
    if (name === undefined) return false;
    if (isIpLiteral(name)) return true;
    if (name === 'localhost' || name.endsWith('.localhost')) return true;
    return names.has(name);
  };
}

/** The names {@link hostPolicy} allows besides the defaults: `host` (when a name) and the ORIGINS' hosts. */
export function ownHostNames(host: string | undefined, origins: readonly string[]): string[] {
  const names = origins.map((origin) => new URL(normaliseOrigin(origin)).hostname);
  if (host !== undefined) {
    const name = hostName(host.includes(':') && !host.startsWith('[') ? `[${host}]` : host);
    if (name !== undefined) names.push(name);
  }
  return names;
}
