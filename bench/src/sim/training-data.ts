import type * as tf from '@tensorflow/tfjs';
import {
  buildModel,
  DATASET_INFO,
  deriveSeed,
  evaluate,
  partition,
  readFlatWeights,
  seededPermutation,
  selectExamples,
  writeFlatWeights,
  type Dataset,
  type DatasetSplits,
} from '@vtrain/ml';
import type { ModelSpec } from '@vtrain/protocol';
import { loadMnist, useFastestNodeBackend } from '@vtrain/ml/node';

/** The evaluated test examples: the whole set, or a seeded random sample of it. */
export interface TestSetDescription {
  readonly examples: number;
  /** Size of the whole MNIST test set. */
  readonly of: number;
  /** Seed of the random sample; absent when the whole set is evaluated. */
  readonly sampleSeed?: number;
}

const TEST_SAMPLE_SALT = 0x7e57;

/**
 * The data and tfjs state a process shares across simulated runs: MNIST loaded
 * once, the wasm backend chosen once, one evaluation model reused.
 */
export class TrainingData {
  private constructor(
    readonly splits: DatasetSplits,
    readonly test: Dataset,
    readonly backend: string,
    /** Which held-out examples `test` holds, in words the report prints. */
    readonly testSet: TestSetDescription,
  ) {}

  /**
   * Loads MNIST and selects the backend. `testExamples`: `'all'` evaluates the
   * whole test set; a number evaluates a seeded random sample of that many
   * (never the first N: MNIST's test file is ordered, its first half easier).
   */
  static async load(testExamples: 'all' | number, sampleSeed = 1): Promise<TrainingData> {
    const backend = await useFastestNodeBackend();
    const splits = await loadMnist();
    const total = splits.test.count;
    if (testExamples === 'all' || testExamples >= total) {
      return new TrainingData(splits, splits.test, backend, { examples: total, of: total });
    }
    const order = seededPermutation(total, deriveSeed(sampleSeed, TEST_SAMPLE_SALT));
    const chosen = Array.from(order.subarray(0, testExamples)).sort((a, b) => a - b);
    const test = selectExamples(splits.test, chosen);
    return new TrainingData(splits, test, backend, {
      examples: testExamples,
      of: total,
      sampleSeed,
    });
  }

  /** IID shards of the training set, one per worker, as the coordinator cuts them. */
  shards(count: number, seed: number): Dataset[] {
    return partition(this.splits.train.labels, { kind: 'iid' }, count, seed).map((indices) =>
      selectExamples(this.splits.train, indices),
    );
  }
}

/** Initial global weights of a run: the model built from the run's seed, read flat. */
export async function initialWeights(spec: ModelSpec, seed: number): Promise<Float32Array> {
  const model = await buildModel(spec, DATASET_INFO.mnist, seed);
  try {
    return await readFlatWeights(model);
  } finally {
    model.dispose();
  }
}

/** Evaluates flat weights with a reusable model (the coordinator's evaluator does the same). */
export class Evaluator {
  constructor(
    private readonly model: tf.LayersModel,
    private readonly test: Dataset,
  ) {}

  async evaluate(weights: Float32Array): Promise<{ loss: number; accuracy: number }> {
    writeFlatWeights(this.model, weights);
    const result = await evaluate(this.model, this.test, { batchSize: 500 });
    return { loss: result.loss, accuracy: result.accuracy };
  }

  dispose(): void {
    this.model.dispose();
  }
}
