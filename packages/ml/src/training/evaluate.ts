import * as tf from '@tensorflow/tfjs';
import { BatchBuffer, BatcherError } from '../data/batcher.js';
import { DatasetError, type Dataset } from '../data/dataset.js';
import { modelExampleShape } from '../models/input-shape.js';
import { softmaxCrossEntropyPerExample } from './loss.js';

/** Options of {@link evaluate}. */
export interface EvaluateOptions {
  /** Examples per forward pass; bounds the memory of one pass. */
  readonly batchSize: number;
  /** Evaluate only the first `limit` examples (all when omitted or larger than the set). */
  readonly limit?: number;
}

/** Mean loss and accuracy of a model on held-out examples. */
export interface EvaluationResult {
  /** (1/n) sum_i loss_i, softmax cross-entropy on logits, in nats. */
  readonly loss: number;
  /** (1/n) #{ i : argmax_c z_i[c] === y_i }, in [0, 1]. */
  readonly accuracy: number;
  /** n, the number of examples evaluated. */
  readonly examples: number;
}

/**
 * Evaluates `model` on the first n = min(limit, dataset.count) examples, in
 * order, in batches of `batchSize` (the last one smaller). The summed loss and
 * the count of correct predictions accumulate on the backend and are read back
 * once at the end with `await data()`; per-batch tensors are disposed as it
 * goes. Inference runs with `training: false` (dropout off).
 *
 * @throws {@link BatcherError} `invalid-batch-size` for a batch size or limit that is
 *   not a positive integer; DatasetError `empty` for an empty data set; ModelSpecError
 *   `input-shape` if the model does not take the data set's examples.
 */
export async function evaluate(
  model: tf.LayersModel,
  dataset: Dataset,
  options: EvaluateOptions,
): Promise<EvaluationResult> {
  const { batchSize, limit } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new BatcherError(
      'invalid-batch-size',
      `batchSize must be a positive integer, got ${batchSize}`,
    );
  }
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
    throw new BatcherError('invalid-batch-size', `limit must be a positive integer, got ${limit}`);
  }
  if (dataset.count === 0) throw new DatasetError('empty', 'cannot evaluate on 0 examples');
  const examples = Math.min(limit ?? dataset.count, dataset.count);

  const buffer = new BatchBuffer(dataset.info, modelExampleShape(model, dataset.info));
  // totals = [sum of losses, number correct], kept on the backend between batches.
  let totals = tf.zeros([2]);
  try {
    for (let start = 0; start < examples; start += batchSize) {
      const size = Math.min(batchSize, examples - start);
      buffer.prepare(size);
      for (let slot = 0; slot < size; slot++) buffer.put(slot, dataset, start + slot);
      const batch = buffer.toBatch(size);
      try {
        const next = tf.tidy(() => {
          const logits = model.apply(batch.xs, { training: false }) as tf.Tensor;
          const lossSum = tf.sum(softmaxCrossEntropyPerExample(logits, batch.ys));
          const correct = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), batch.ys), 'float32'));
          return tf.add(totals, tf.stack([lossSum, correct]));
        });
        totals.dispose();
        totals = next;
      } finally {
        batch.dispose();
      }
    }
    const [lossSum, correct] = await totals.data();
    return { loss: lossSum / examples, accuracy: correct / examples, examples };
  } finally {
    totals.dispose();
  }
}
