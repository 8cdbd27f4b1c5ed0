import type { EngineCost } from './engine-cost.js';

/** One server's side of the ingest benchmark. */
export interface IngestServerResult {
  readonly updatesPerSecond: number;
  readonly rssBytes: number;
  /** (RSS with clients connected − RSS before) / clients. */
  readonly memoryPerWorkerBytes: number;
  readonly rejected: Readonly<Record<string, number>>;
}

/** `bench/results/ingest.json`. */
export interface IngestResult {
  readonly clients: number;
  readonly processes: number;
  readonly parameterCount: number;
  readonly density: number;
  readonly payloadBytes: number;
  readonly seconds: number;
  readonly coordinator: IngestServerResult;
  readonly bare: IngestServerResult;
  /** The coordinator again, each client sending its own index set (acks carry budget-bounded patches). */
  readonly distinctIndices: IngestServerResult;
  readonly ratio: number;
  /** The bare server again, each ack carrying a payload the size of the coordinator's patch. */
  readonly bareWithPatch?: IngestServerResult;
  readonly ratioToBareWithPatch?: number;
  /** The run engine timed alone on the same model and payload (no sockets). */
  readonly engineCost: EngineCost;
  /** The same, each worker sending its own index set (the distinct-indices row). */
  readonly engineCostDistinct?: EngineCost;
  readonly notes: string;
}
