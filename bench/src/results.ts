import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ResultGroup, TuningRecord } from './experiments/grid.js';
import { formatted } from './formatting.js';
import { measuredHere } from './provenance.js';

/** One experiment's JSON file in `bench/results/`. */
export interface ExperimentResult {
  readonly id: string;
  readonly title: string;
  readonly suite: string;
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly groups: readonly ResultGroup[];
  /** Experiments that tune learning rates first: each schedule's grid and choice. */
  readonly tuning?: readonly TuningRecord[];
  /** Wall time the harness spent on it (not a result: simulated times are virtual). */
  readonly harnessSeconds: number;
}

/** Writes JSON with Infinity as a string (the cluster's "no churn"), which JSON cannot hold. */
export async function writeJson(file: string, value: unknown): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const text = JSON.stringify(
    value,
    (_, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v),
    1,
  );
  await writeFile(file, await formatted(file, text));
}

/** Writes a result file: the measurement and its {@link measuredHere | provenance}. */
export async function writeResult(file: string, result: object): Promise<void> {
  await writeJson(file, { ...result, provenance: measuredHere() });
}

export async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
