import type { ShardCacheStats } from './engine-messages.js';

/**
 * Shards never change under a URL (the coordinator serves them as cacheable
 * forever), so a reload or a later visit reads them from the Cache API
 * instead of downloading again. The name carries a version so a change of
 * the shard format can drop old entries by renaming.
 */
export const SHARD_CACHE_NAME = 'vtrain-shards-v1';

/** A download that takes longer than this is abandoned (the session retries). */
const FETCH_TIMEOUT_MS = 120_000;

async function download(url: string): Promise<Response> {
  const response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status} ${response.statusText}`);
  return response;
}

/** GETs shards through the Cache API and counts what came from it. */
export class ShardCache {
  private hits = 0;
  private misses = 0;
  /** The Cache API exists only in secure contexts (localhost or HTTPS). */
  private readonly storage: CacheStorage | undefined =
    'caches' in globalThis ? globalThis.caches : undefined;
  private readonly unavailable =
    this.storage === undefined ? 'no Cache API here (it needs a secure context)' : undefined;

  get stats(): ShardCacheStats {
    return {
      hits: this.hits,
      misses: this.misses,
      ...(this.unavailable === undefined ? {} : { unavailable: this.unavailable }),
    };
  }

  /** The shard's bytes: from the cache when it holds them, else downloaded and stored. */
  async fetchBytes(url: string): Promise<Uint8Array> {
    if (this.storage === undefined) {
      this.misses++;
      return new Uint8Array(await (await download(url)).arrayBuffer());
    }
    const cache = await this.storage.open(SHARD_CACHE_NAME);
    const cached = await cache.match(url);
    if (cached !== undefined) {
      this.hits++;
      return new Uint8Array(await cached.arrayBuffer());
    }
    const response = await download(url);
    this.misses++;
    // Store a copy before reading (a body can be read once); a full quota costs a download next time, not training.
    await cache.put(url, response.clone()).catch(() => undefined);
    return new Uint8Array(await response.arrayBuffer());
  }
}
