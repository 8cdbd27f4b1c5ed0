import * as tf from '@tensorflow/tfjs';
import { buildMlp, DATASET_INFO, type Dataset } from '@vtrain/ml';
import type { WorkerOptimizerConfig } from '@vtrain/optimizer';

/** SGD at 0.1, the overhead bench's asynchronous run's worker optimizer. */
const DEFAULT_OPTIMIZER: WorkerOptimizerConfig = { kind: 'sgd', learningRate: 0.1 };

/** The tfjs optimizer a researcher would pick for the same rule and hyper-parameters. */
function tfOptimizer(config: WorkerOptimizerConfig): tf.Optimizer {
  return config.kind === 'sgd'
    ? tf.train.sgd(config.learningRate)
    : tf.train.adam(config.learningRate, config.beta1, config.beta2, config.epsilon);
}

/**
 * The reference for the worker-overhead figure: the plainest tfjs training
 * loop a researcher would write for the same model, batch and backend: one
 * typed-array copy per batch into tensors, `optimizer.minimize` with tfjs's own
 * optimizer for the run's rule (`tf.train.sgd` or `tf.train.adam`), a loss
 * readback per step (as any loop that watches its loss does), nothing else.
 *
 * @param optimizer - the worker optimizer of the run it is the reference for.
 * @returns samples per second over `seconds` after a short warm-up, and the CPU time of
 *   this process per 1000 samples over the same window.
 */
export async function bareLoopSamplesPerSecond(
  train: Dataset,
  hiddenUnits: readonly number[],
  batchSize: number,
  seconds: number,
  optimizerConfig: WorkerOptimizerConfig = DEFAULT_OPTIMIZER,
): Promise<{ samplesPerSecond: number; cpuMsPer1000Samples: number }> {
  const model = buildMlp(hiddenUnits, DATASET_INFO.mnist, 1);
  const optimizer = tfOptimizer(optimizerConfig);
  const pixels = new Float32Array(batchSize * 784);
  const labels = new Int32Array(batchSize);
  let next = 0;
  const step = async (): Promise<void> => {
    for (let b = 0; b < batchSize; b++) {
      const i = next;
      next = (next + 1) % train.count;
      for (let p = 0; p < 784; p++) pixels[b * 784 + p] = train.images[i * 784 + p] / 255;
      labels[b] = train.labels[i];
    }
    const xs = tf.tensor4d(pixels, [batchSize, 28, 28, 1]);
    const ys = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), 10));
    const loss = optimizer.minimize(
      () => tf.losses.softmaxCrossEntropy<tf.Tensor, tf.Scalar>(ys, model.apply(xs) as tf.Tensor),
      true,
    );
    await loss?.data();
    tf.dispose(loss ? [xs, ys, loss] : [xs, ys]);
  };
  try {
    const warmUntil = performance.now() + 2000;
    while (performance.now() < warmUntil) await step();
    let steps = 0;
    const cpuStarted = process.cpuUsage();
    const started = performance.now();
    while (performance.now() - started < seconds * 1000) {
      await step();
      steps++;
    }
    const wallSeconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuStarted);
    const samples = steps * batchSize;
    return {
      samplesPerSecond: samples / wallSeconds,
      cpuMsPer1000Samples: (cpu.user + cpu.system) / samples,
    };
  } finally {
    model.dispose();
    optimizer.dispose();
  }
}
