import type { Backend } from '@vtrain/protocol';
import type { SessionLogLevel, WorkerStatus } from '@vtrain/worker';
import type { BackendDecision, BackendMeasurement, GpuAdapterDescription } from './pick-backend.js';

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
      /** Train on this backend, without probing (the page's `?backend=` parameter). */
      readonly forceBackend?: Backend;
      /** Probes of earlier visits (the page keeps them); one for the run's model skips probing. */
      readonly cachedProbes?: readonly BackendProbeReport[];
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

/**
 * How the engine chose its backend for a model and batch size: the probe's
 * measurements (measured now, or remembered from an earlier visit) and the
 * decision, or the page's override.
 */
export interface BackendProbeReport {
  /** `probeKey` of the model, data set and batch size measured. */
  readonly key: string;
  /** The model as the page names it, e.g. "mlp [16], batch 16". */
  readonly label: string;
  readonly source: 'probed' | 'cached' | 'forced';
  readonly choice: BackendDecision;
  /** Empty when forced. */
  readonly measurements: readonly BackendMeasurement[];
  readonly adapter?: GpuAdapterDescription;
  /** When the measurements were taken (ms since the epoch). */
  readonly measuredAt: number;
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
  /** The engine is timing the backends on a run's model (a few seconds). */
  | { readonly type: 'probe-started'; readonly key: string; readonly label: string }
  /** The backend for a run's model is chosen (the page stores a `probed` report for later visits). */
  | { readonly type: 'probe'; readonly report: BackendProbeReport }
  /** The session has stopped and closed its socket. */
  | { readonly type: 'stopped' };
