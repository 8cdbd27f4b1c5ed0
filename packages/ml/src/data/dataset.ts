import { CodedError } from '../coded-error.js';
import { pixelsPerExample, type DatasetInfo } from './dataset-info.js';

/**
 * A labelled image set held as two flat typed arrays, so a shard of 60k MNIST
 * images is 47 MB of bytes rather than millions of JS numbers
 * (docs/architecture.md#data-pipeline-and-processes: a peer
 * lost most of its time to a per-sample JS pipeline).
 *
 * Example i's pixels are images[i * P, (i + 1) * P) with P = height * width *
 * channels in row-major (y, x, channel) order, values 0-255; its class is labels[i].
 */
export interface Dataset {
  readonly images: Uint8Array;
  readonly labels: Uint8Array;
  readonly count: number;
  readonly info: DatasetInfo;
}

/** A training set and its held-out test set. */
export interface DatasetSplits {
  readonly train: Dataset;
  readonly test: Dataset;
}

/** Reasons a {@link DatasetError} is thrown. */
export type DatasetErrorCode =
  'length-mismatch' | 'label-out-of-range' | 'index-out-of-range' | 'empty' | 'invalid-argument';

/** Thrown for a data set whose arrays disagree with its count and info, or a bad index. */
export class DatasetError extends CodedError<DatasetErrorCode> {}

/**
 * Checks the invariants of {@link Dataset}: images.length === count * P,
 * labels.length === count, every label < info.classes.
 *
 * @throws {@link DatasetError} naming the first violated invariant.
 */
export function assertValidDataset(dataset: Dataset): void {
  const { images, labels, count, info } = dataset;
  if (!Number.isInteger(count) || count < 0) {
    throw new DatasetError('length-mismatch', `count must be a non-negative integer, got ${count}`);
  }
  const perExample = pixelsPerExample(info);
  if (images.length !== count * perExample) {
    throw new DatasetError(
      'length-mismatch',
      `images has ${images.length} bytes, expected count * ${perExample} = ${count * perExample}`,
    );
  }
  if (labels.length !== count) {
    throw new DatasetError(
      'length-mismatch',
      `labels has ${labels.length} entries, expected ${count}`,
    );
  }
  for (let i = 0; i < count; i++) {
    if (labels[i] >= info.classes) {
      throw new DatasetError(
        'label-out-of-range',
        `label ${labels[i]} of example ${i} is not below ${info.classes} classes`,
      );
    }
  }
}

/**
 * Copies the examples at `indices` (in that order) into a new, compact data set:
 * how the coordinator cuts a partition's shard out of the training set.
 *
 * @throws {@link DatasetError} `index-out-of-range` if an index is not below dataset.count.
 */
export function selectExamples(dataset: Dataset, indices: ArrayLike<number>): Dataset {
  const perExample = pixelsPerExample(dataset.info);
  const count = indices.length;
  const images = new Uint8Array(count * perExample);
  const labels = new Uint8Array(count);
  for (let k = 0; k < count; k++) {
    const i = indices[k];
    if (!Number.isInteger(i) || i < 0 || i >= dataset.count) {
      throw new DatasetError(
        'index-out-of-range',
        `index ${i} at position ${k} is not an example of a set of ${dataset.count}`,
      );
    }
    images.set(dataset.images.subarray(i * perExample, (i + 1) * perExample), k * perExample);
    labels[k] = dataset.labels[i];
  }
  return { images, labels, count, info: dataset.info };
}

/**
 * Examples per class: result[c] = #{ i : labels[i] === c } for c < classes.
 *
 * @throws {@link DatasetError} `label-out-of-range` for a label >= classes.
 */
export function classCounts(labels: Uint8Array, classes: number): Uint32Array {
  const counts = new Uint32Array(classes);
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i];
    if (label >= classes) {
      throw new DatasetError(
        'label-out-of-range',
        `label ${label} at ${i} is not below ${classes}`,
      );
    }
    counts[label]++;
  }
  return counts;
}
