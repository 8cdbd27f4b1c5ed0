import type { SessionLogLevel, WorkerStatus } from '@vtrain/worker';

/*
 * The small message API between the contribute page and the engine's Web
 * Worker. The page sends commands; the worker answers with snapshots. Both
 * sides are this app's own code, built together, so the types are the
 * contract (structured clone carries them; nothing here crosses a network).
 */

/** Page -> engine worker. */
export type EngineCommand =
  | {
      readonly type: 'start';
      /** The coordinator's origin (the page's own). */
      readonly url: string;
      /** Share of wall time spent computing, in (0, 1]. */
      readonly dutyCycle: number;
    }
  | { readonly type: 'pause' }
  | { readonly type: 'resume' }
  | { readonly type: 'set-duty-cycle'; readonly fraction: number }
  | { readonly type: 'stop' };

/** Hits and misses of the shard cache since the worker started. */
export interface ShardCacheStats {
  readonly hits: number;
  readonly misses: number;
  /** Why the cache is not used, when it is not (no Cache API in this context). */
  readonly unavailable?: string;
}

/** What the page shows: the session's status plus the engine's own facts. */
export interface EngineSnapshot {
  readonly status: WorkerStatus;
  /** tfjs tensors alive between two updates (`tf.memory().numTensors`); flat over a run means nothing leaks. */
  readonly tensors: number;
  readonly shardCache: ShardCacheStats;
}

/** Engine worker -> page. */
export type EngineEvent =
  | { readonly type: 'snapshot'; readonly snapshot: EngineSnapshot }
  | { readonly type: 'log'; readonly level: SessionLogLevel; readonly message: string }
  /** Starting failed before any session existed (no backend could initialise). */
  | { readonly type: 'failed'; readonly message: string }
  /** The session has stopped and closed its socket. */
  | { readonly type: 'stopped' };
