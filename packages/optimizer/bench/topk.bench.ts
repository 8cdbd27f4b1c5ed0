/// <reference types="node" />
/**
 * Top-k benchmark (run with `pnpm bench:topk` from the repository root).
 *
 * For P = 1M and 10M normal-ish float32 values from a seeded PRNG at density
 * 1%, times the O(P) selector (one-shot and with reused scratch), top-k with
 * error feedback, and the full-sort reference, checks once per size that the
 * selector keeps exactly the reference's entries, prints a table and writes
 * `bench/results/topk.json`. Target (docs/algorithms.md#selecting-the-top-k-in-linear-time): at
 * P = 1M, median <= 15 ms and >= 10x faster than the full sort.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { arch, cpus, platform, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { ErrorFeedback } from '../src/error-feedback.js';
import { mulberry32 } from '../src/random.js';
import type { RandomSource } from '../src/random.js';
import type { SparseVector } from '../src/sparse-vector.js';
import { fullSortTopK } from '../src/test-support/reference-top-k.js';
import { selectTopK, TopKSelector, topKCount } from '../src/top-k.js';

const DENSITY = 0.01;
const TARGET_MEDIAN_MS = 15;
const TARGET_SPEEDUP = 10;

interface SizePlan {
  readonly parameterCount: number;
  readonly repetitions: number;
  readonly sortRepetitions: number;
  readonly checkTarget: boolean;
}

const plans: readonly SizePlan[] = [
  { parameterCount: 1_000_000, repetitions: 25, sortRepetitions: 3, checkTarget: true },
  { parameterCount: 10_000_000, repetitions: 7, sortRepetitions: 1, checkTarget: false },
];

interface Timing {
  readonly method: string;
  readonly runs: number;
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
}

/** Sum of four uniforms, centred and scaled: close enough to N(0, 1) for magnitudes. */
function normalishValues(length: number, random: RandomSource): Float32Array {
  const values = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    values[i] = (random() + random() + random() + random() - 2) * Math.sqrt(3);
  }
  return values;
}

function time(method: string, warmups: number, runs: number, body: () => void): Timing {
  for (let w = 0; w < warmups; w++) body();
  const samples: number[] = [];
  for (let r = 0; r < runs; r++) {
    const start = performance.now();
    body();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  const middle = samples.length >> 1;
  const medianMs =
    samples.length % 2 === 1 ? samples[middle] : (samples[middle - 1] + samples[middle]) / 2;
  return { method, runs, medianMs, minMs: samples[0], maxMs: samples[samples.length - 1] };
}

function sameEntries(a: SparseVector, b: SparseVector): boolean {
  if (a.indices.length !== b.indices.length) return false;
  for (let j = 0; j < a.indices.length; j++) {
    if (a.indices[j] !== b.indices[j] || !Object.is(a.values[j], b.values[j])) return false;
  }
  return true;
}

const fmt = (ms: number): string => ms.toFixed(2).padStart(10);

const sizes = plans.map((plan) => {
  const { parameterCount, repetitions, sortRepetitions } = plan;
  const k = topKCount(DENSITY, parameterCount);
  const values = normalishValues(parameterCount, mulberry32(parameterCount));
  const random = mulberry32(42);

  const reference = fullSortTopK(values, k);
  const correct =
    sameEntries(selectTopK(values, k, random), reference) &&
    sameEntries(new TopKSelector(parameterCount).select(values, k, random), reference);

  const selector = new TopKSelector(parameterCount);
  const feedback = new ErrorFeedback(parameterCount);
  const timings = [
    time('selectTopK (one-shot)', 3, repetitions, () => selectTopK(values, k, random)),
    time('TopKSelector.select (reused)', 3, repetitions, () => selector.select(values, k, random)),
    time('ErrorFeedback.compress', 3, repetitions, () => feedback.compress(values, k, random)),
    time('fullSortTopK (reference)', 0, sortRepetitions, () => fullSortTopK(values, k)),
  ];
  const sortMedian = timings[3].medianMs;
  const rows = timings.map((t) => ({ ...t, sortOverThis: sortMedian / t.medianMs }));

  console.log(`\nP = ${parameterCount.toLocaleString('en')}, k = ${k.toLocaleString('en')}`);
  console.log(
    `${'method'.padEnd(30)}${'runs'.padStart(6)}${'median ms'.padStart(10)}${'min ms'.padStart(10)}${'max ms'.padStart(10)}${'sort/this'.padStart(11)}`,
  );
  for (const row of rows) {
    console.log(
      `${row.method.padEnd(30)}${String(row.runs).padStart(6)}${fmt(row.medianMs)}${fmt(row.minMs)}${fmt(row.maxMs)}${row.sortOverThis.toFixed(1).padStart(11)}`,
    );
  }
  console.log(`same entries as the full sort: ${correct ? 'yes' : 'NO'}`);

  const verdicts = plan.checkTarget
    ? rows.slice(0, 3).map((row) => {
        const pass =
          correct && row.medianMs <= TARGET_MEDIAN_MS && row.sortOverThis >= TARGET_SPEEDUP;
        console.log(
          `${pass ? 'PASS' : 'FAIL'} ${row.method}: median ${row.medianMs.toFixed(2)} ms (target <= ${TARGET_MEDIAN_MS}), ${row.sortOverThis.toFixed(1)}x faster than sort (target >= ${TARGET_SPEEDUP})`,
        );
        return { method: row.method, pass };
      })
    : [];
  return { parameterCount, k, density: DENSITY, correct, timings: rows, verdicts };
});

const cpuList = cpus();
const report = {
  benchmark: 'top-k selection at 1% density',
  date: new Date().toISOString(),
  machine: {
    node: process.version,
    platform: platform(),
    arch: arch(),
    cpuModel: cpuList[0]?.model ?? 'unknown',
    logicalCores: cpuList.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
  },
  target: { parameterCount: 1_000_000, maxMedianMs: TARGET_MEDIAN_MS, minSpeedup: TARGET_SPEEDUP },
  sizes,
};
const resultsDir = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(resultsDir, { recursive: true });
// Written as Prettier writes it, so the committed figures pass the repository's format check.
const resultsFile = `${resultsDir}topk.json`;
writeFileSync(
  resultsFile,
  await format(JSON.stringify(report), {
    ...(await resolveConfig(resultsFile)),
    filepath: resultsFile,
  }),
);
console.log(`\nwrote ${resultsDir}topk.json`);
const failed = sizes.some((size) => !size.correct || size.verdicts.some((v) => !v.pass));
process.exitCode = failed ? 1 : 0;
