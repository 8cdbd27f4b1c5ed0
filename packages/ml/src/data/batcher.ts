import * as tf from '@tensorflow/tfjs';
import { CodedError } from '../coded-error.js';
import { deriveSeed, seededPermutation } from '../random.js';
import { pixelsPerExample, type DatasetInfo } from './dataset-info.js';
import { DatasetError, type Dataset } from './dataset.js';

/** A batch on the tfjs backend: inputs scaled to [0, 1] and int32 class labels. */
export interface Batch {
  /** [size, ...exampleShape], float32: byte / 255 for u8 sets, the value itself for f32. */
  readonly xs: tf.Tensor;
  /** [size], int32 labels in [0, classes). */
  readonly ys: tf.Tensor1D;
  readonly size: number;
  /** Disposes xs and ys; required before the same buffer fills the next batch. */
  dispose(): void;
}

/** Reasons a {@link BatcherError} is thrown. */
export type BatcherErrorCode =
  'invalid-batch-size' | 'shape-mismatch' | 'empty-dataset' | 'previous-batch-alive';

/** Thrown for a bad batch request or a misuse of a reused batch buffer. */
export class BatcherError extends CodedError<BatcherErrorCode> {}

/** v / 255 for every byte value v, so filling a batch is one table lookup per pixel. */
const PIXEL_TO_UNIT = Float32Array.from({ length: 256 }, (_, v) => v / 255);

/**
 * Turns examples into batch tensors through ONE reused Float32Array of pixels
 * and one Int32Array of labels: one pass over the bytes to fill, then one
 * `tf.tensor` call each (docs/architecture.md#data-pipeline-and-processes: a per-sample JS
 * pipeline cost a peer most of
 * its time).
 *
 * Why a batch must be disposed before the next fill: on the cpu backend (and
 * until upload on webgpu) `tf.tensor(typedArray)` keeps a reference to the
 * array rather than a copy, so refilling the buffer under a live batch would
 * change it. {@link BatchBuffer.toBatch} enforces this with `previous-batch-alive`.
 */
export class BatchBuffer {
  private pixels = new Float32Array(0);
  private labels = new Int32Array(0);
  private readonly perExample: number;
  private live: Batch | undefined;

  /**
   * @param info - geometry of the examples.
   * @param exampleShape - per-example tensor shape the model takes ([28, 28, 1]
   *   or [784]); its product must equal height * width * channels.
   * @throws {@link BatcherError} `shape-mismatch` otherwise.
   */
  constructor(
    info: DatasetInfo,
    readonly exampleShape: readonly number[],
  ) {
    this.perExample = pixelsPerExample(info);
    const product = exampleShape.reduce((a, b) => a * b, 1);
    if (!exampleShape.every((d) => Number.isInteger(d) && d > 0) || product !== this.perExample) {
      throw new BatcherError(
        'shape-mismatch',
        `example shape [${exampleShape.join(', ')}] does not hold the ${this.perExample} pixels of ${info.name}`,
      );
    }
  }

  /**
   * Readies the buffers for a batch of `size`, growing them if needed.
   *
   * @throws {@link BatcherError} `previous-batch-alive` if the last batch was not disposed.
   */
  prepare(size: number): void {
    this.assertNoLiveBatch();
    if (this.labels.length >= size) return;
    this.pixels = new Float32Array(size * this.perExample);
    this.labels = new Int32Array(size);
  }

  /**
   * Writes example `index` of `dataset` into slot `slot`: bytes scaled by 1/255, floats as they are.
   *
   * @throws {@link BatcherError} `previous-batch-alive` if the last batch was not disposed;
   *   {@link DatasetError} `index-out-of-range` for an index or slot outside the set or buffer.
   */
  put(slot: number, dataset: Dataset, index: number): void {
    if (this.live !== undefined) this.assertNoLiveBatch();
    // Out-of-range reads of a typed array give undefined, i.e. NaN pixels: refuse instead.
    if (!(index >= 0 && index < dataset.count && slot >= 0 && slot < this.labels.length)) {
      throw new DatasetError(
        'index-out-of-range',
        `example ${index} of ${dataset.count} into slot ${slot} of ${this.labels.length}`,
      );
    }
    const perExample = this.perExample;
    const source = dataset.images;
    const from = index * perExample;
    const to = slot * perExample;
    const pixels = this.pixels;
    if (source instanceof Float32Array) {
      pixels.set(source.subarray(from, from + perExample), to);
    } else {
      for (let j = 0; j < perExample; j++) pixels[to + j] = PIXEL_TO_UNIT[source[from + j]];
    }
    this.labels[slot] = dataset.labels[index];
  }

  /**
   * Wraps the first `size` slots as tensors, one `tf.tensor` call each.
   *
   * @throws {@link BatcherError} `previous-batch-alive` if the last batch was not disposed;
   *   `invalid-batch-size` if `size` exceeds what {@link BatchBuffer.prepare} reserved.
   */
  toBatch(size: number): Batch {
    this.assertNoLiveBatch();
    if (!Number.isInteger(size) || size < 1 || size > this.labels.length) {
      throw new BatcherError(
        'invalid-batch-size',
        `batch of ${size} from a buffer prepared for ${this.labels.length}`,
      );
    }
    const xs = tf.tensor(this.pixels.subarray(0, size * this.perExample), [
      size,
      ...this.exampleShape,
    ]);
    const ys = tf.tensor1d(this.labels.subarray(0, size), 'int32');
    const batch: Batch = {
      xs,
      ys,
      size,
      dispose: () => {
        tf.dispose([xs, ys]);
      },
    };
    this.live = batch;
    return batch;
  }

  /** Fills a batch before a previous one is disposed; refilling would alias its data. */
  private assertNoLiveBatch(): void {
    if (this.live !== undefined && !(this.live.xs.isDisposed && this.live.ys.isDisposed)) {
      throw new BatcherError(
        'previous-batch-alive',
        'dispose the previous batch (batch.dispose()) before asking for the next one',
      );
    }
    this.live = undefined;
  }
}

/** Options of a {@link BatchSampler}. */
export interface BatchSamplerOptions {
  /** Integer in [0, 2^32); epoch e is shuffled with deriveSeed(seed, e). */
  readonly seed: number;
  /** Per-example shape of the model input; defaults to the data set's [h, w, c]. */
  readonly exampleShape?: readonly number[];
}

/**
 * Seeded sampling without replacement: epoch e visits the examples in the
 * permutation seededPermutation(count, deriveSeed(seed, e)); a batch that runs
 * past the end of an epoch continues with the next epoch's permutation, so
 * every batch is full and each example is seen once per epoch. The same seed
 * gives the same batch sequence on every host.
 */
export class BatchSampler {
  private readonly buffer: BatchBuffer;
  private order: Uint32Array;
  private position = 0;
  private epochIndex = 0;

  /**
   * @param dataset - the worker's shard.
   * @param options - seed and model input shape.
   * @throws {@link BatcherError} `empty-dataset` or `shape-mismatch`.
   */
  constructor(
    private readonly dataset: Dataset,
    private readonly options: BatchSamplerOptions,
  ) {
    if (dataset.count === 0)
      throw new BatcherError('empty-dataset', 'cannot sample from 0 examples');
    this.buffer = new BatchBuffer(dataset.info, options.exampleShape ?? dataset.info.inputShape);
    this.order = this.permutation(0);
  }

  /** Index of the epoch the next example is drawn from (0 for the first). */
  get epoch(): number {
    return this.epochIndex;
  }

  /**
   * The next `batchSize` examples as tensors (see {@link Batch}); dispose it
   * before the next call.
   *
   * @throws {@link BatcherError} `invalid-batch-size` unless batchSize is a positive integer;
   *   `previous-batch-alive` if the previous batch was not disposed.
   */
  nextBatch(batchSize: number): Batch {
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new BatcherError(
        'invalid-batch-size',
        `batch size must be a positive integer, got ${batchSize}`,
      );
    }
    this.buffer.prepare(batchSize);
    for (let slot = 0; slot < batchSize; slot++) {
      if (this.position === this.order.length) {
        this.epochIndex++;
        this.order = this.permutation(this.epochIndex);
        this.position = 0;
      }
      this.buffer.put(slot, this.dataset, this.order[this.position++]);
    }
    return this.buffer.toBatch(batchSize);
  }

  private permutation(epoch: number): Uint32Array {
    return seededPermutation(this.dataset.count, deriveSeed(this.options.seed, epoch));
  }
}
