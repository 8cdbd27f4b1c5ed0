import { BatchBuffer, type Batch } from '../data/batcher.js';
import type { Dataset } from '../data/dataset.js';

/** The examples `indices` of `dataset` as one batch, in that order (test helper). */
export function batchOf(
  dataset: Dataset,
  indices: readonly number[],
  exampleShape?: readonly number[],
): Batch {
  const buffer = new BatchBuffer(dataset.info, exampleShape ?? dataset.info.inputShape);
  buffer.prepare(indices.length);
  indices.forEach((index, slot) => {
    buffer.put(slot, dataset, index);
  });
  return buffer.toBatch(indices.length);
}
