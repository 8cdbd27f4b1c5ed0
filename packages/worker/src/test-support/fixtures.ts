import {
  buildModel,
  DATASET_INFO,
  assignmentDatasetInfo,
  generateSynthetic,
  pixelsPerExample,
  zooParameterCount,
  type Dataset,
} from '@vtrain/ml';
import { AssignmentSchema, parseMessage, type Assignment } from '@vtrain/protocol';

/** The fields of a test assignment a test may change; the rest are small defaults. */
export interface TestAssignmentOptions {
  readonly runId?: string;
  readonly hiddenUnits?: readonly number[];
  readonly batchSize?: number;
  readonly learningRate?: number;
  readonly optimizer?: 'sgd' | 'adam';
  readonly density?: number;
  readonly errorFeedback?: boolean;
  readonly valueFormat?: 'f32' | 'f16';
  readonly localSteps?: number;
}

/**
 * A valid assignment for an MLP on the synthetic set, parsed by the wire schema
 * so every default is filled exactly as the coordinator's would be.
 */
export function testAssignment(options: TestAssignmentOptions = {}): Assignment {
  const hiddenUnits = [...(options.hiddenUnits ?? [8])];
  const model = { kind: 'mlp' as const, hiddenUnits };
  const learningRate = options.learningRate ?? 0.1;
  return parseMessage(
    AssignmentSchema,
    {
      runId: options.runId ?? 'run-1',
      runName: 'test run',
      model,
      parameterCount: zooParameterCount(model, DATASET_INFO.synthetic),
      dataset: {
        name: 'synthetic',
        shardUrl: '/shards/run-1/0.bin',
        shardIndex: 0,
        shardCount: 1,
      },
      training: {
        batchSize: options.batchSize ?? 16,
        workerOptimizer:
          options.optimizer === 'adam'
            ? { kind: 'adam', learningRate }
            : { kind: 'sgd', learningRate },
      },
      compression: {
        density: options.density ?? 0.05,
        errorFeedback: options.errorFeedback ?? true,
        valueFormat: options.valueFormat ?? 'f32',
      },
      localSteps: options.localSteps ?? 1,
      initialWeights: { seed: 0, sha256: '0'.repeat(64) },
    },
    'test assignment',
  );
}

/** A small synthetic train/test split (generated in milliseconds, identical on every run). */
export function smallSynthetic(trainExamples = 600, testExamples = 200) {
  return generateSynthetic({ seed: 7, trainExamples, testExamples });
}

/**
 * `copies` identical copies of one example: every batch drawn from it is the same
 * batch whatever the sampler's order, which makes a gradient reproducible outside
 * the engine.
 */
export function repeatedExample(source: Dataset, index: number, copies: number): Dataset {
  const perExample = pixelsPerExample(source.info);
  const images = new Uint8Array(copies * perExample);
  const labels = new Uint8Array(copies);
  const pixels = source.images.subarray(index * perExample, (index + 1) * perExample);
  for (let c = 0; c < copies; c++) {
    images.set(pixels, c * perExample);
    labels[c] = source.labels[index];
  }
  return { images, labels, count: copies, info: source.info };
}

/** The assignment's zoo model, built with `seed`. */
export function buildTestModel(assignment: Assignment, seed = 0) {
  return buildModel(assignment.model, assignmentDatasetInfo(assignment.dataset), seed);
}

/**
 * Index of the first position where a and b differ as numbers (so +0 and -0 count
 * as equal, NaN as different), or -1 when they agree everywhere, lengths included.
 */
export function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}
