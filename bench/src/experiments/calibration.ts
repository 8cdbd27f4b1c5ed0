import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IngestResult } from '../ingest/ingest-types.js';
import type { OverheadResult } from '../overhead/overhead-types.js';
import type { Provenance, Recorded } from '../provenance.js';

/**
 * Where the simulated cluster's times come from: the committed measurements
 * of this repository's own benches, read when an experiment is planned, so a
 * rerun of those benches recalibrates the simulation. The JSON of every
 * experiment records these figures and their sources.
 */
export interface Calibration {
  /** Compute time of one batch-32 MLP step on the fastest worker (ms): 32 / the bare wasm loop's samples/s. */
  readonly baseStepMs: number;
  readonly bareSamplesPerSecond: number;
  readonly overheadSource: CalibrationSource;
  /** Coordinator ms per coordinate of an update: (engine submit + ack patch) / coordinates per update of the ingest bench. */
  readonly coordinatorMsPerCoordinate: number;
  readonly engineMsPerUpdate: number;
  readonly engineCoordinatesPerUpdate: number;
  readonly engineParameterCount: number;
  readonly ingestSource: CalibrationSource;
  /** The coordinator's shared link, bytes/s each way: an assumption, not a measurement. */
  readonly coordinatorBytesPerSecond: number;
}

export interface CalibrationSource {
  readonly file: string;
  readonly provenance?: Provenance;
}

/** Batch size of the overhead bench's bare loop (MLP 784-128-10, batch 32, wasm), the same as the experiments'. */
export const CALIBRATION_BATCH = 32;

/** 100 Mbit/s each way: a small rented server's port; the report states it as assumed. */
export const COORDINATOR_LINK_BYTES_PER_SECOND = 12_500_000;

const resultsDir = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'results',
);

function read(name: string): unknown {
  const file = path.join(resultsDir, name);
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(
      `the simulated cluster is calibrated from bench/results/${name}; run its bench first (${(error as Error).message})`,
      { cause: error },
    );
  }
}

let cached: Calibration | undefined;

/** The calibration from `bench/results/overhead.json` and `bench/results/ingest.json`. */
export function calibration(): Calibration {
  if (cached) return cached;
  const overhead = read('overhead.json') as Recorded<OverheadResult>;
  const ingest = read('ingest.json') as Recorded<IngestResult>;
  const engineMsPerUpdate = ingest.engineCost.submitMs + ingest.engineCost.patchMs;
  const engineCoordinatesPerUpdate = Math.ceil(ingest.density * ingest.parameterCount);
  if (!(overhead.bareSamplesPerSecond > 0) || !(engineMsPerUpdate > 0)) {
    throw new Error('bench/results/overhead.json or ingest.json holds no usable rate');
  }
  cached = {
    baseStepMs: (1000 * CALIBRATION_BATCH) / overhead.bareSamplesPerSecond,
    bareSamplesPerSecond: overhead.bareSamplesPerSecond,
    overheadSource: { file: 'bench/results/overhead.json', provenance: overhead.provenance },
    coordinatorMsPerCoordinate: engineMsPerUpdate / engineCoordinatesPerUpdate,
    engineMsPerUpdate,
    engineCoordinatesPerUpdate,
    engineParameterCount: ingest.parameterCount,
    ingestSource: { file: 'bench/results/ingest.json', provenance: ingest.provenance },
    coordinatorBytesPerSecond: COORDINATOR_LINK_BYTES_PER_SECOND,
  };
  return cached;
}
