import type * as tf from '@tensorflow/tfjs';
import {
  DATASET_INFO,
  buildInitialModel,
  encodeShard,
  parameterLayout,
  partition,
  weightsHash,
  type DatasetInfo,
  type DatasetSplits,
  type ParameterSlice,
} from '@vtrain/ml';
import { loadDataset } from '@vtrain/ml/node';
import { topKCount } from '@vtrain/optimizer';
import {
  MAX_PARAMETER_COUNT,
  maxUpdateMessageBytes,
  type DatasetName,
  type RunConfig,
} from '@vtrain/protocol';

/** Loads each data set once per process: MNIST and Fashion-MNIST take a second or two. */
export class DatasetCache {
  private readonly loaded = new Map<DatasetName, Promise<DatasetSplits>>();

  get(name: DatasetName): Promise<DatasetSplits> {
    let splits = this.loaded.get(name);
    if (!splits) {
      splits = loadDataset(name);
      this.loaded.set(name, splits);
    }
    return splits;
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
 * Builds the run's model with weights initialised from its seed (a custom
 * topology is validated on the way) and sizes its messages.
 *
 * @param maxMessageBytes - the transport's cap: a run whose updates would not
 *   fit is refused here, with a reason, instead of failing at its first update.
 */
export async function buildRunModel(config: RunConfig, maxMessageBytes: number): Promise<RunModel> {
  const info = DATASET_INFO[config.dataset.name];
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
  const { train } = await datasets.get(config.dataset.name);
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
