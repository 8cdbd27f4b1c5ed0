import type { RunConfigInput } from '@vtrain/protocol';
import type { ConnectionKind, Directed, MessageTally } from './counting-proxy.js';

/** One evaluation of the global model on the full test set, as the coordinator recorded it. */
export interface PeerEvaluation {
  /** Seconds from the workers' start to the evaluation's end. */
  readonly seconds: number;
  readonly version: number;
  readonly accuracy: number;
}

/** Bytes on the wire at one moment, from the proxy, and the coordinator's own counters. */
export interface PeerBytes {
  /** Per connection kind (classified by each connection's first request line). */
  readonly byConnection: Record<ConnectionKind, Directed & { connections: number }>;
  /** socket.io websocket bytes by message kind (frames parsed in the proxy). */
  readonly byMessage: Record<string, MessageTally>;
  /** The run's `bytesIn` / `bytesOut` (update payloads in, weights payloads out). */
  readonly coordinator: { readonly bytesIn: number; readonly bytesOut: number };
}

/** One worker process's connection: what it pushed. */
export interface PeerWorker {
  readonly updates: number;
  readonly samples: number;
  /** Samples pushed per second of wall time from the workers' start to the end of the measurement. */
  readonly samplesPerSecond: number;
  /** Samples per second of the worker's own reported compute time (its `computeMs`). */
  readonly computeSamplesPerSecond: number;
}

/** One repetition: coordinator, proxy and two worker processes, fresh. */
export interface PeerRepetition {
  /** Seconds from the workers' start until an evaluation first reached the target; null if not within the cap. */
  readonly secondsToTarget: number | null;
  readonly bestAccuracy: number;
  /** Seconds the measurement covers: to the target, or the cap. */
  readonly seconds: number;
  /** Bytes at that moment (counted from the workers' start). */
  readonly bytes: PeerBytes;
  readonly workers: readonly PeerWorker[];
  readonly versions: number;
  readonly evaluations: readonly PeerEvaluation[];
}

/** A configuration measured some number of times. */
export interface PeerCandidate {
  readonly label: string;
  readonly config: RunConfigInput;
  readonly repetitions: readonly PeerRepetition[];
}

/** The peer's published figures (DISCO, federated averaging in TensorFlow.js). */
export interface PeerReference {
  readonly name: string;
  readonly setup: string;
  readonly accuracy: number;
  readonly seconds: number;
  readonly bytesUp: number;
  readonly bytesDown: number;
}

/** `bench/results/peer.json`. */
export interface PeerResult {
  readonly description: string;
  readonly targetAccuracy: number;
  readonly capSeconds: number;
  readonly workers: number;
  readonly peer: PeerReference;
  /** The goal of the comparison: at most these, to the target. */
  readonly goal: { readonly seconds: number; readonly bytes: number };
  readonly candidates: readonly PeerCandidate[];
}
