import * as tf from '@tensorflow/tfjs';
import type { ModelSpec } from '@vtrain/protocol';
import { pixelsPerExample, type DatasetInfo } from '../data/dataset-info.js';
import { assertSeed, deriveSeed } from '../random.js';
import { modelFromTopology } from './custom-topology.js';
import { ModelSpecError } from './model-spec-error.js';

/**
 * Default bound on a model's parameter count P: 5M float32 parameters are a
 * 20 MB dense weight message, about the most a volunteer tab should download
 * per join. Runs may pass a different bound.
 */
export const DEFAULT_MAX_PARAMETERS = 5_000_000;

/** Options of {@link buildModel}. */
export interface BuildModelOptions {
  /** Refuse models with more parameters than this; default {@link DEFAULT_MAX_PARAMETERS}. */
  readonly maxParameters?: number;
}

/**
 * Builds the model of a run with weights initialised from `seed`, identically
 * on every host and backend (tfjs draws seeded initial values in JavaScript,
 * then uploads them). Every model takes [batch, ...example shape] float inputs
 * in [0, 1] and outputs LOGITS, [batch, classes] with no softmax: the loss is
 * softmax cross-entropy on logits (training/loss.ts), which is numerically safer
 * than log(softmax(x)).
 *
 * Async because tfjs deserialises custom topologies asynchronously; the zoo
 * models themselves are built synchronously by {@link buildMlp} and {@link buildCnn}.
 *
 * @throws {@link ModelSpecError} for a malformed spec, a topology that does not
 *   fit the data set, or more than `maxParameters` parameters (checked before any
 *   weight is allocated for the zoo kinds).
 */
export async function buildModel(
  spec: ModelSpec,
  info: DatasetInfo,
  seed: number,
  options: BuildModelOptions = {},
): Promise<tf.LayersModel> {
  const maxParameters = options.maxParameters ?? DEFAULT_MAX_PARAMETERS;
  switch (spec.kind) {
    case 'mlp':
    case 'cnn': {
      const count = zooParameterCount(spec, info);
      if (count > maxParameters) {
        throw new ModelSpecError(
          'too-many-parameters',
          `${spec.kind} has ${count} parameters, the limit is ${maxParameters}`,
        );
      }
      return spec.kind === 'mlp'
        ? buildMlp(spec.hiddenUnits, info, seed)
        : buildCnn(spec.filters, info, seed);
    }
    case 'custom':
      return modelFromTopology(spec.topology, info, { maxParameters, seed });
  }
}

/**
 * Multi-layer perceptron: Flatten (for examples of rank >= 2), then Dense(h_i, ReLU) for each entry of
 * `hiddenUnits`, then Dense(classes) logits. Layer i's kernel is Glorot-uniform
 * (Glorot & Bengio 2010) with seed deriveSeed(seed, i); biases start at 0.
 * Parameters: sum over consecutive widths (n_in * n_out + n_out), e.g.
 * 784-128-10 has 784 * 128 + 128 + 128 * 10 + 10 = 101,770.
 *
 * @throws {@link ModelSpecError} `invalid-spec` for an empty list or a non-positive width.
 */
export function buildMlp(
  hiddenUnits: readonly number[],
  info: DatasetInfo,
  seed: number,
): tf.Sequential {
  assertSeed(seed);
  assertPositiveIntegers('hiddenUnits', hiddenUnits);
  const model = tf.sequential({ name: 'mlp' });
  // tfjs's Flatten wants rank >= 2 per example; vectors (uploaded sets) need none.
  model.add(
    info.inputShape.length === 1
      ? tf.layers.inputLayer({ inputShape: [...info.inputShape], name: 'input' })
      : tf.layers.flatten({ inputShape: [...info.inputShape], name: 'flatten' }),
  );
  hiddenUnits.forEach((units, i) => {
    model.add(
      tf.layers.dense({ units, activation: 'relu', name: `hidden_${i}`, ...init(seed, i) }),
    );
  });
  model.add(
    tf.layers.dense({ units: info.classes, name: 'logits', ...init(seed, hiddenUnits.length) }),
  );
  return model;
}

/**
 * Convolutional network: for each entry f_i of `filters`, Conv2D(f_i, 3x3,
 * stride 1, 'same' padding, ReLU) then MaxPool(2x2, stride 2); then Flatten and
 * Dense(classes) logits. 'same' padding keeps each conv's spatial size, so each
 * pool maps s to floor(s / 2): 28 -> 14 -> 7 -> 3 -> 1 for up to 4 blocks.
 * Seeded Glorot-uniform kernels as in {@link buildMlp}.
 *
 * @throws {@link ModelSpecError} `invalid-spec` for an empty list, a non-positive
 *   count, or more blocks than the image can be halved.
 */
export function buildCnn(
  filters: readonly number[],
  info: DatasetInfo,
  seed: number,
): tf.Sequential {
  assertSeed(seed);
  assertPositiveIntegers('filters', filters);
  assertPoolable(filters.length, info);
  const model = tf.sequential({ name: 'cnn' });
  filters.forEach((count, i) => {
    model.add(
      tf.layers.conv2d({
        ...(i === 0 ? { inputShape: [...info.inputShape] } : {}),
        filters: count,
        kernelSize: 3,
        strides: 1,
        padding: 'same',
        activation: 'relu',
        name: `conv_${i}`,
        ...init(seed, i),
      }),
    );
    model.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `pool_${i}` }));
  });
  model.add(tf.layers.flatten({ name: 'flatten' }));
  model.add(
    tf.layers.dense({ units: info.classes, name: 'logits', ...init(seed, filters.length) }),
  );
  return model;
}

/**
 * Parameter count of a zoo model, computed from the spec without building it:
 * MLP as in {@link buildMlp}; CNN: sum over blocks (9 c_in f_i + f_i) with
 * c_in = channels then f_{i-1}, plus (h' w' f_last) * classes + classes where
 * h', w' are the sizes after the pools.
 *
 * @throws {@link ModelSpecError} `invalid-spec` as the builders do.
 */
export function zooParameterCount(
  spec: Extract<ModelSpec, { kind: 'mlp' | 'cnn' }>,
  info: DatasetInfo,
): number {
  if (spec.kind === 'mlp') {
    assertPositiveIntegers('hiddenUnits', spec.hiddenUnits);
    let inputs = pixelsPerExample(info);
    let count = 0;
    for (const units of [...spec.hiddenUnits, info.classes]) {
      count += inputs * units + units;
      inputs = units;
    }
    return count;
  }
  assertPositiveIntegers('filters', spec.filters);
  let [height, width, channels] = imageShape(info);
  assertPoolable(spec.filters.length, info);
  let count = 0;
  for (const filters of spec.filters) {
    count += 9 * channels * filters + filters;
    channels = filters;
    height = Math.floor(height / 2);
    width = Math.floor(width / 2);
  }
  return count + height * width * channels * info.classes + info.classes;
}

/** Seeded kernel and zero bias initialisers of layer `index`. */
function init(seed: number, index: number) {
  return {
    kernelInitializer: tf.initializers.glorotUniform({ seed: deriveSeed(seed, index) }),
    biasInitializer: tf.initializers.zeros(),
  };
}

function assertPositiveIntegers(field: string, values: readonly number[]): void {
  if (values.length === 0 || !values.every((v) => Number.isInteger(v) && v > 0)) {
    throw new ModelSpecError(
      'invalid-spec',
      `${field} must be a non-empty list of positive integers, got [${values.join(', ')}]`,
    );
  }
}

/**
 * [height, width, channels] of an image data set.
 *
 * @throws {@link ModelSpecError} `input-shape` when the examples are not of rank 3: the CNN's
 *   2-D convolutions need (H, W, C) inputs.
 */
function imageShape(info: DatasetInfo): [number, number, number] {
  const [height, width, channels] = info.inputShape;
  if (info.inputShape.length !== 3 || !height || !width || !channels) {
    throw new ModelSpecError(
      'input-shape',
      `the cnn needs (height, width, channels) examples, ${info.name} has [${info.inputShape.join(', ')}]`,
    );
  }
  return [height, width, channels];
}

function assertPoolable(blocks: number, info: DatasetInfo): void {
  const [height, width] = imageShape(info);
  if (Math.min(height, width) >> blocks < 1) {
    throw new ModelSpecError(
      'invalid-spec',
      `${blocks} conv blocks halve a ${height}x${width} image below 1 pixel`,
    );
  }
}
