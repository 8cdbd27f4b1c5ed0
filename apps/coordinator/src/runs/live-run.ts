import type { Backend, RunConfig, WorkerSummary } from '@vtrain/protocol';
import type { StoredRun } from '../store/store.js';
import type { WorkerReplicas } from './downstream.js';
import type { RunEngine } from './run-engine.js';
import type { RunModel } from './run-setup.js';

/** A worker of a live run, as the dashboard's worker table shows it (no address, ever). */
export interface WorkerRecord {
  readonly workerId: string;
  readonly kind: 'browser' | 'node';
  /** Browser and OS families from the hello's description (never the raw user agent). */
  readonly browser: string;
  readonly os: string;
  readonly backend: Backend;
  samplesPerSecond: number;
  updatesApplied: number;
  updatesRejected: number;
  lastSeenAt: number;
  /** The training shard this worker was given. */
  readonly shardIndex: number;
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
  /** Each worker's copy of the model, for bounded weights replies. */
  readonly downstream: WorkerReplicas;
  readonly shards: Uint8Array[];
  readonly workers: Map<string, WorkerRecord>;
  /** elapsedSeconds at resume, and the wall time then: elapsed = base + (now - since). */
  readonly elapsedBase: number;
  readonly resumedAt: number;
  lastEvaluatedVersion: number;
  evaluating: boolean;
  lastCheckpoint: { version: number; at: number };
  checkpointing: Promise<void> | undefined;
  /**
   * Set while the whole test set checks a target the sample reached: updates and batch
   * deadlines wait for it, so a run that passes ends with the very weights that passed.
   */
  targetCheck?: Promise<void> | undefined;
  wakeTimer: ReturnType<typeof setTimeout> | undefined;
  stopping: boolean;
  /** Set while the run is being stopped: the final evaluation and checkpoint a second stop waits for. */
  ending?: Promise<void> | undefined;
}

export function workerSummary(record: WorkerRecord): WorkerSummary {
  return {
    workerId: record.workerId,
    kind: record.kind,
    browser: record.browser,
    os: record.os,
    backend: record.backend,
    samplesPerSecond: record.samplesPerSecond,
    updatesApplied: record.updatesApplied,
    updatesRejected: record.updatesRejected,
    lastSeenAt: record.lastSeenAt,
  };
}

/**
 * The shard a joining worker gets: the one the fewest current workers hold
 * (the lowest index among those). Unlike round-robin, a worker that leaves
 * frees its shard for the next one to join, so every shard stays covered under
 * churn, and a tab that reloads gets the shard it had (and has cached) back.
 */
export function leastCoveredShard(run: Pick<LiveRun, 'shards' | 'workers'>): number {
  const holders = run.shards.map(() => 0);
  for (const { shardIndex } of run.workers.values()) {
    holders[shardIndex] = (holders[shardIndex] ?? 0) + 1;
  }
  return holders.indexOf(Math.min(...holders));
}

export function elapsedSeconds(run: LiveRun, now: number): number {
  return run.elapsedBase + (now - run.resumedAt) / 1000;
}
