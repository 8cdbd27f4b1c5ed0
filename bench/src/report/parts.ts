import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Calibration } from '../experiments/calibration.js';
import type { ResultGroup } from '../experiments/grid.js';
import { provenanceText } from '../provenance.js';
import type { ExperimentResult } from '../results.js';
import type { TestSetDescription } from '../sim/training-data.js';
import { secondsSpread } from './format.js';
import type { summarise } from './summaries.js';

/** Pieces every experiment section of the report shares. */

export interface Output {
  readonly markdownFile: string;
  /** Folder of the SVG figures; the markdown links them relative to its own folder. */
  readonly figureDir: string;
}

export function group(result: ExperimentResult | undefined, key: string): ResultGroup | undefined {
  return result?.groups.find((g) => g.key === key);
}

export function json(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) =>
    typeof v === 'number' && !Number.isFinite(v) ? String(v) : v,
  );
}

function ms(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}

export function clusterLine(cluster: Record<string, unknown>): string {
  const c = cluster as Partial<Record<string, number | string>>;
  const up = Number(c.uploadBytesPerSecond) / 1e6;
  const down = Number(c.downloadBytesPerSecond) / 1e6;
  const perCoordinate = Number(c.coordinatorMsPerCoordinate);
  const link = Number(c.coordinatorBytesPerSecond);
  const coordinator =
    c.coordinatorMsPerCoordinate === undefined
      ? '; the coordinator takes no time and has no shared link (not modelled in this run)'
      : `; coordinator: one thread at ${(perCoordinate * 1000).toFixed(3)} µs per coordinate of an update, behind one ${Number.isFinite(link) ? `${link / 1e6} MB/s` : 'unlimited'} link each way shared by every worker`;
  return (
    `${c.workers} workers, fastest step ${ms(Number(c.baseStepMs))} ms, slowdowns spread evenly over 1–${c.speedSpread}x, ` +
    `log-normal jitter σ=${c.jitterSigma}, stall probability ${c.stallProbability} per update (${c.stallMs} ms), ` +
    `latency ${c.latencyMs} ms one way, ${up} MB/s up, ${down} MB/s down, ` +
    `mean uptime ${Number.isFinite(Number(c.meanUptimeMs)) ? `${Number(c.meanUptimeMs) / 1000} s` : '∞'} then ${Number(c.downtimeMs) / 1000} s away` +
    coordinator
  );
}

export function trainingLine(training: Record<string, unknown>): string {
  const t = training as {
    model: unknown;
    batchSize: number;
    learningRate: number | string;
    density: number;
    errorFeedback: boolean;
  };
  const lr =
    typeof t.learningRate === 'number'
      ? `worker SGD lr ${t.learningRate}, server SGD lr 1 (plain averaging)`
      : `worker and server SGD learning rates ${t.learningRate} (per row)`;
  return `model ${json(t.model)} (MNIST), batch ${t.batchSize}, ${lr}, top-k density ${t.density * 100}% ${t.errorFeedback ? 'with' : 'without'} error feedback, f32 values`;
}

/** Which test examples the accuracies are on, from the result's parameters (older files: the first 2,000). */
export function testSetText(parameters: Readonly<Record<string, unknown>>): string {
  const t = parameters.testSet as TestSetDescription | undefined;
  if (t === undefined) return 'test accuracy on the first 2,000 MNIST test images (an older run)';
  if (t.examples >= t.of)
    return `test accuracy on the whole MNIST test set (${t.of.toLocaleString('en-US')} images)`;
  return `test accuracy on a seeded random sample of ${t.examples.toLocaleString('en-US')} of the ${t.of.toLocaleString('en-US')} MNIST test images (sample seed ${t.sampleSeed})`;
}

/** Where the simulated times come from, stated with their sources. */
export function calibrationText(parameters: Readonly<Record<string, unknown>>): string {
  const c = parameters.calibration as Calibration | undefined;
  if (c === undefined) {
    return 'This run predates the calibration: its fastest step is the fixed figure above, and it models no coordinator time and no shared link, so its virtual times do not compare with the calibrated experiments.';
  }
  return (
    `**Calibration.** The fastest worker's step (${c.baseStepMs.toFixed(2)} ms) is one batch of 32 at the bare wasm tfjs loop's measured ${c.bareSamplesPerSecond.toFixed(0)} samples/s (\`${c.overheadSource.file}\`, ${provenanceText(c.overheadSource.provenance)}). ` +
    `The coordinator's time per update is the run engine's measured submit plus ack patch, ${c.engineMsPerUpdate.toFixed(2)} ms for ${c.engineCoordinatesPerUpdate.toLocaleString('en-US')} coordinates on a ${c.engineParameterCount.toLocaleString('en-US')}-parameter model (\`${c.ingestSource.file}\` engineCost, ${provenanceText(c.ingestSource.provenance)}), ` +
    `scaled linearly to the coordinates of each update: ${(c.coordinatorMsPerCoordinate * 1000).toFixed(3)} µs per coordinate (an assumption; the engine was not timed at this model's size in that file). ` +
    `The coordinator's shared link is ${c.coordinatorBytesPerSecond / 1e6} MB/s (${(c.coordinatorBytesPerSecond * 8) / 1e6} Mbit/s) each way: an assumed small server, not a measurement.`
  );
}

export function timeCell(summary: ReturnType<typeof summarise>, target: number): string {
  const entry = summary.timeTo[String(target)];
  if (entry.reached === 0) return 'not reached';
  const suffix = entry.reached < summary.seeds ? ` (${entry.reached}/${summary.seeds} seeds)` : '';
  return `${secondsSpread(entry.time)}${suffix}`;
}

export async function figure(out: Output, name: string, svg: string): Promise<string> {
  await mkdir(out.figureDir, { recursive: true });
  await writeFile(path.join(out.figureDir, name), svg);
  const relative = path.relative(path.dirname(out.markdownFile), path.join(out.figureDir, name));
  return `![${name}](${relative.split(path.sep).join('/')})`;
}
