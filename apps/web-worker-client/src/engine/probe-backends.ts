import type * as tf from '@tensorflow/tfjs';
import {
  BatchSampler,
  buildModel,
  computeGradient,
  assignmentDatasetInfo,
  modelExampleShape,
  pixelsPerExample,
  readFlatWeights,
  writeFlatWeights,
  type Dataset,
} from '@vtrain/ml';
import type { Assignment } from '@vtrain/protocol';
import type { BackendCandidate } from './choose-backend.js';
import type { BackendMeasurement } from './pick-backend.js';

/*
 * The timing half of the backend probe: a few real training steps of the
 * run's model at the run's batch size on each backend. The decision is
 * pick-backend.ts.
 */

/** How long the probe may spend. */
export interface ProbeBudget {
  /**
   * Milliseconds of timed steps over all backends, shared equally (three
   * steps are timed in any case, unless they take longer than all of it). A
   * CPU backend whose warm-up step alone takes longer is not timed further
   * (see {@link measureBackends} for GPU backends).
   */
  readonly totalMs: number;
  /** Timed steps per backend at most. */
  readonly maxSteps: number;
}

/** A few seconds in all: a volunteer waits for it once per model and batch size (the page caches it). */
export const DEFAULT_PROBE_BUDGET: ProbeBudget = { totalMs: 3_000, maxSteps: 5 };

/**
 * Timed steps per backend at least, within the whole budget: the median of
 * three hides one step that still compiled something (WebGL's second step
 * often does).
 */
const MIN_TIMED_STEPS = 3;

/** Backends whose first step compiles shaders. */
const GPU_BACKENDS: ReadonlySet<string> = new Set(['webgpu', 'webgl']);

function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Stand-in examples of the run's data set geometry (the shard is not loaded
 * yet when the backend is chosen). The values do not change the step's cost:
 * dense and convolutional kernels do the same work whatever the pixels.
 */
function probeExamples(assignment: Assignment): Dataset {
  const info = assignmentDatasetInfo(assignment.dataset);
  const count = assignment.training.batchSize;
  const size = count * pixelsPerExample(info);
  const images = info.inputDtype === 'f32' ? new Float32Array(size) : new Uint8Array(size);
  for (let i = 0; i < images.length; i++) images[i] = (i * 2_654_435_761) >>> 24;
  const labels = Uint16Array.from({ length: count }, (_, i) => i % info.classes);
  return { images, labels, count, info };
}

/**
 * Times `candidates` in turn on the assignment's model and batch size. One
 * step is what the training engine does per local step: a batch uploaded, the
 * gradient computed and read back, the SGD step taken in JavaScript and the
 * weights written back to the model. The first step is a warm-up (first-run
 * shader compilation is slow) and is reported but not counted. Then steps are
 * timed until `maxSteps`, or once three are and the backend's share of the
 * budget is spent, or once they took the whole budget; the median counts.
 * A backend whose warm-up step took longer than the whole budget is not timed
 * (`over-budget`), except a GPU backend (webgpu, webgl) whose next step fits
 * the budget: its warm-up was the one-time shader compilation.
 *
 * Each candidate's `init` makes it the active tfjs backend; the last one tried
 * stays active, so the caller activates its choice again afterwards.
 */
export async function measureBackends(
  assignment: Assignment,
  candidates: readonly BackendCandidate[],
  budget: ProbeBudget = DEFAULT_PROBE_BUDGET,
  now: () => number = () => performance.now(),
): Promise<BackendMeasurement[]> {
  const data = probeExamples(assignment);
  const info = data.info;
  const share = budget.totalMs / Math.max(1, candidates.length);
  const learningRate = assignment.training.workerOptimizer.learningRate;
  const measurements: BackendMeasurement[] = [];
  for (const { name, init } of candidates) {
    let reason: string | undefined;
    try {
      reason = await init();
    } catch (error) {
      reason = message(error);
    }
    if (reason !== undefined) {
      measurements.push({ name, outcome: 'failed', reason });
      continue;
    }
    let model: tf.LayersModel | undefined;
    try {
      model = await buildModel(assignment.model, info, 0, {
        maxParameters: assignment.parameterCount,
      });
      const built = model;
      const sampler = new BatchSampler(data, {
        seed: 1,
        exampleShape: modelExampleShape(built, info),
      });
      const weights = await readFlatWeights(built);
      const step = async (): Promise<number> => {
        const started = now();
        const batch = sampler.nextBatch(assignment.training.batchSize);
        try {
          const { gradient } = await computeGradient(built, batch);
          weights.forEach((w, i) => {
            weights[i] = w - learningRate * (gradient[i] ?? 0);
          });
        } finally {
          batch.dispose();
        }
        writeFlatWeights(built, weights);
        return now() - started;
      };
      const firstStepMs = await step();
      // A GPU backend's first step is mostly shader compilation, paid once (SwiftShader's
      // WebGPU took 5.7 s for an MLP whose later steps take 0.1-0.5 s): it is timed on, and
      // only over the budget when its next step is too. A CPU backend has nothing to compile.
      const compiling = firstStepMs > budget.totalMs;
      if (compiling && !GPU_BACKENDS.has(name)) {
        measurements.push({ name, outcome: 'over-budget', firstStepMs });
        continue;
      }
      const times: number[] = [];
      let spent = 0;
      const minSteps = Math.min(MIN_TIMED_STEPS, Math.max(1, budget.maxSteps));
      while (times.length < budget.maxSteps && (times.length < minSteps || spent < share)) {
        const ms = await step();
        if (compiling && times.length === 0 && ms > budget.totalMs) break;
        times.push(ms);
        spent += ms;
        if (spent > budget.totalMs) break;
      }
      if (times.length === 0) {
        measurements.push({ name, outcome: 'over-budget', firstStepMs });
        continue;
      }
      measurements.push({
        name,
        outcome: 'measured',
        msPerStep: median(times),
        steps: times.length,
        firstStepMs,
      });
    } catch (error) {
      measurements.push({ name, outcome: 'failed', reason: message(error) });
    } finally {
      model?.dispose();
    }
  }
  return measurements;
}
