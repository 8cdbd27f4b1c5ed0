import type * as tf from '@tensorflow/tfjs';
import {
  buildModel,
  DATASET_INFO,
  evaluate,
  partition,
  readFlatWeights,
  selectExamples,
  writeFlatWeights,
  type Dataset,
  type DatasetSplits,
} from '@vtrain/ml';
import type { ModelSpec } from '@vtrain/protocol';
import { loadMnist, useFastestNodeBackend } from '@vtrain/ml/node';

/**
 * The data and tfjs state a process shares across simulated runs: MNIST loaded
 * once, the wasm backend chosen once, one evaluation model reused.
 */
export class TrainingData {
  private constructor(
    readonly splits: DatasetSplits,
    readonly test: Dataset,
    readonly backend: string,
  ) {}

  /** Loads MNIST and selects the backend; `testExamples` is the held-out subset evaluated. */
  static async load(testExamples: number): Promise<TrainingData> {
    const backend = await useFastestNodeBackend();
    const splits = await loadMnist();
    const count = Math.min(testExamples, splits.test.count);
    const test = selectExamples(
      splits.test,
      Array.from({ length: count }, (_, i) => i),
    );
    return new TrainingData(splits, test, backend);
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
