import type * as tf from '@tensorflow/tfjs';
import {
  DATASET_INFO,
  buildInitialModel,
  encodeShard,
  parameterLayout,
  partition,
  weightsHash,
  uploadedDatasetInfo,
  type DatasetInfo,
  type DatasetSplits,
  type ParameterSlice,
} from '@vtrain/ml';
import { loadDataset } from '@vtrain/ml/node';
import { topKCount } from '@vtrain/optimizer';
import {
  MAX_PARAMETER_COUNT,
  maxUpdateMessageBytes,
  UPLOAD_DATASET,
  type DatasetDescription,
  type DatasetName,
  type DatasetSpec,
  type RunConfig,
} from '@vtrain/protocol';
import type { DatasetStore } from '../datasets/dataset-store.js';

/** What the evaluation thread is told of a run's data set, to load its test set itself. */
export interface EvaluationDataset {
  /** Cache key in the thread: the built-in name, or `upload/<id>`. */
  readonly key: string;
  readonly info: DatasetInfo;
  /** An uploaded set's file and the SHA-256 it must have. */
  readonly file?: { readonly path: string; readonly sha256: string };
}

/**
 * The data sets runs train on. Built-in sets are loaded once per process (MNIST and
 * Fashion-MNIST take a second or two); an uploaded set is read from its file each time a
 * run opens, its SHA-256 checked against the upload's (a run resumes on the bytes it began
 * with, or not at all), and not kept: its shards are what the run serves.
 */
export class DatasetCache {
  private readonly loaded = new Map<DatasetName, Promise<DatasetSplits>>();

  constructor(readonly uploads?: DatasetStore) {}

  /**
   * The info (shape, dtype, classes) of a run's data set.
   *
   * @throws {@link RunSetupError} `dataset.id` for an upload this coordinator does not hold.
   */
  info(spec: DatasetSpec): DatasetInfo {
    if (spec.name !== UPLOAD_DATASET) return DATASET_INFO[spec.name];
    return uploadedDatasetInfo(this.upload(spec));
  }

  /** The uploaded set of a spec, or {@link RunSetupError} `dataset.id`. */
  upload(spec: DatasetSpec): DatasetDescription {
    const description = spec.id === undefined ? undefined : this.uploads?.get(spec.id);
    if (!description) {
      throw new RunSetupError('dataset.id', `no uploaded data set ${spec.id ?? ''}`);
    }
    return description;
  }

  get(spec: DatasetSpec): Promise<DatasetSplits> {
    if (spec.name === UPLOAD_DATASET) {
      const { id } = this.upload(spec);
      if (!this.uploads) throw new RunSetupError('dataset.id', 'no data set store');
      return this.uploads.load(id);
    }
    let splits = this.loaded.get(spec.name);
    if (!splits) {
      splits = loadDataset(spec.name);
      this.loaded.set(spec.name, splits);
    }
    return splits;
  }

  /** How the evaluation thread finds the set's test examples. */
  forEvaluation(spec: DatasetSpec): EvaluationDataset {
    if (spec.name !== UPLOAD_DATASET) return { key: spec.name, info: DATASET_INFO[spec.name] };
    const description = this.upload(spec);
    return {
      key: `upload/${description.id}`,
      info: uploadedDatasetInfo(description),
      file: { path: this.uploads?.pathOf(description.id) ?? '', sha256: description.sha256 },
    };
  }
}

/** The parts of a run derived from its config: same config, same result. */
export interface RunModel {
  readonly info: DatasetInfo;
  readonly model: tf.LayersModel;
  readonly layout: ParameterSlice[];
  readonly parameterCount: number;
  /** k = ceil(density * P): entries per update, on both ends of the wire. */
  readonly k: number;
  /** Largest legitimate update message of this run, in bytes. */
  readonly maxUpdateBytes: number;
  /** Version 0: the seeded weights every worker builds for itself (the same `buildInitialModel`). */
  readonly initialWeights: Float32Array;
  /** {@link weightsHash} of `initialWeights`, sent in each assignment. */
  readonly initialWeightsHash: string;
  /** B: the most coordinates a weights patch carries (`compression.downstreamDensity`, else k). */
  readonly downstreamBudget: number;
}

/** A run config that cannot be built, with the field it is about. */
export class RunSetupError extends Error {
  readonly code = 'invalid-run';
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
    this.name = 'RunSetupError';
  }
}

/**
 * Builds the run's model for its data set's `info` (from {@link DatasetCache.info}) with
 * weights initialised from its seed (a custom topology is validated on the way: input shape
 * and classes must fit the data set) and sizes its messages.
 *
 * @param maxMessageBytes - the transport's cap: a run whose updates would not
 *   fit is refused here, with a reason, instead of failing at its first update.
 */
export async function buildRunModel(
  config: RunConfig,
  maxMessageBytes: number,
  info: DatasetInfo,
): Promise<RunModel> {
  let model: tf.LayersModel;
  let weights: Float32Array;
  try {
    ({ model, weights } = await buildInitialModel(config.model, info, config.seed, {
      maxParameters: MAX_PARAMETER_COUNT,
    }));
  } catch (error) {
    throw new RunSetupError('model', error instanceof Error ? error.message : String(error));
  }
  const layout = parameterLayout(model);
  const parameterCount = layout.reduce((sum, slice) => sum + slice.size, 0);
  const k = topKCount(config.compression.density, parameterCount);
  const maxUpdateBytes = maxUpdateMessageBytes(parameterCount, k, config.compression.valueFormat);
  if (maxUpdateBytes > maxMessageBytes) {
    model.dispose();
    throw new RunSetupError(
      'compression.density',
      `updates of this run can reach ${maxUpdateBytes} bytes, over the coordinator's limit of ${maxMessageBytes}: lower the density or the model size`,
    );
  }
  const { downstreamDensity } = config.compression;
  return {
    info,
    model,
    layout,
    parameterCount,
    k,
    maxUpdateBytes,
    initialWeights: weights,
    initialWeightsHash: weightsHash(weights),
    downstreamBudget:
      downstreamDensity === undefined ? k : topKCount(downstreamDensity, parameterCount),
  };
}

/** The seeded initial weights of a freshly built model (a copy: the engine steps it in place). */
export function initialWeights(runModel: RunModel): Float32Array {
  return runModel.initialWeights.slice();
}

/**
 * Cuts the training set into the run's shards (IID or by label, seeded) and
 * encodes each in the shard format workers download and cache.
 */
export async function buildShards(
  config: RunConfig,
  datasets: DatasetCache,
): Promise<Uint8Array[]> {
  const { train } = await datasets.get(config.dataset);
  const { partition: spec, shards } = config.dataset;
  if (shards > train.count) {
    throw new RunSetupError('dataset.shards', `${shards} shards for ${train.count} examples`);
  }
  try {
    return partition(train.labels, spec, shards, config.seed).map((indices) =>
      encodeShard(train, indices),
    );
  } catch (error) {
    throw new RunSetupError(
      'dataset.partition',
      error instanceof Error ? error.message : String(error),
    );
  }
}
