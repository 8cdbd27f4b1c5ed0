import { CodedError } from '../coded-error.js';
import { pixelsPerExample, type DatasetInfo } from './dataset-info.js';

/** Example values: bytes (`inputDtype` u8, read as v / 255) or floats (`f32`). */
export type ExampleValues = Uint8Array | Float32Array;
/** Class labels: bytes for up to 256 classes, 16-bit for more (uploaded sets, up to 1000). */
export type LabelValues = Uint8Array | Uint16Array;

/**
 * A labelled example set held as two flat typed arrays, so a shard of 60k MNIST
 * images is 47 MB of bytes rather than millions of JS numbers
 * (docs/architecture.md#data-pipeline-and-processes: a peer
 * lost most of its time to a per-sample JS pipeline).
 *
 * Example i's values are images[i * P, (i + 1) * P) with P the product of
 * `info.inputShape`, row-major ((y, x, channel) for images), a Uint8Array of 0-255 when
 * `info.inputDtype` is u8 and a Float32Array when f32; its class is labels[i].
 */
export interface Dataset {
  readonly images: ExampleValues;
  readonly labels: LabelValues;
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
  if ((info.inputDtype === 'f32') !== images instanceof Float32Array) {
    throw new DatasetError(
      'length-mismatch',
      `images are a ${images.constructor.name}, the set's values are ${info.inputDtype}`,
    );
  }
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
  const images =
    dataset.images instanceof Float32Array
      ? new Float32Array(count * perExample)
      : new Uint8Array(count * perExample);
  const labels =
    dataset.labels instanceof Uint16Array ? new Uint16Array(count) : new Uint8Array(count);
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
export function classCounts(labels: LabelValues, classes: number): Uint32Array {
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
