import type { Backend, RunConfig, WorkerSummary } from '@vtrain/protocol';
import type { StoredRun } from '../store/store.js';
import type { RunEngine } from './run-engine.js';
import type { RunModel } from './run-setup.js';

/** A worker of a live run, as the dashboard's worker table shows it (no address, ever). */
export interface WorkerRecord {
  readonly workerId: string;
  readonly kind: 'browser' | 'node';
  readonly description: string;
  readonly backend: Backend;
  samplesPerSecond: number;
  updatesApplied: number;
  updatesRejected: number;
  lastSeenAt: number;
  /** Contribution counts not yet written to the database. */
  unsaved: { applied: number; rejected: number; samples: number };
}

/** Everything the coordinator holds for a run that is open to workers. */
export interface LiveRun {
  readonly id: string;
  readonly config: RunConfig;
  stored: StoredRun;
  readonly engine: RunEngine;
  readonly model: RunModel;
  readonly shards: Uint8Array[];
  readonly workers: Map<string, WorkerRecord>;
  /** Round-robin shard assignment. */
  nextShard: number;
  /** elapsedSeconds at resume, and the wall time then: elapsed = base + (now - since). */
  readonly elapsedBase: number;
  readonly resumedAt: number;
  lastEvaluatedVersion: number;
  evaluating: boolean;
  lastCheckpoint: { version: number; at: number };
  checkpointing: Promise<void> | undefined;
  wakeTimer: ReturnType<typeof setTimeout> | undefined;
  stopping: boolean;
}

export function workerSummary(record: WorkerRecord): WorkerSummary {
  return {
    workerId: record.workerId,
    kind: record.kind,
    description: record.description,
    backend: record.backend,
    samplesPerSecond: record.samplesPerSecond,
    updatesApplied: record.updatesApplied,
    updatesRejected: record.updatesRejected,
    lastSeenAt: record.lastSeenAt,
  };
}

export function elapsedSeconds(run: LiveRun, now: number): number {
  return run.elapsedBase + (now - run.resumedAt) / 1000;
}
