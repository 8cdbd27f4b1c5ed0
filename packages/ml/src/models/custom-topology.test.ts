import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useFastestNodeBackend } from '../backend-node.js';
import { DATASET_INFO } from '../data/dataset-info.js';
import { sameElements } from '../test-support/bytes.js';
import { modelFromTopology } from './custom-topology.js';
import { readFlatWeights } from './flat-weights.js';
import { modelExampleShape } from './input-shape.js';
import { ModelSpecError } from './model-spec-error.js';
import { buildModel } from './zoo.js';

const info = DATASET_INFO.mnist;
const limits = { maxParameters: 1_000_000 };

/** The modelTopology of a real tfjs model, exactly as model.json would carry it. */
function topologyOf(layers: () => tf.layers.Layer[]): Record<string, unknown> {
  const model = tf.sequential({ layers: layers() });
  const json = model.toJSON(undefined, false) as unknown as Record<string, unknown>;
  model.dispose();
  return json;
}

const validLayers = () => [
  tf.layers.flatten({ inputShape: [28, 28, 1] }),
  tf.layers.dense({ units: 32, activation: 'relu' }),
  tf.layers.dropout({ rate: 0.1 }),
  tf.layers.dense({ units: 10 }),
];

/** Expects a rejection with `code` and no tensor left behind. */
async function expectRejected(
  topology: Record<string, unknown>,
  code: string,
  maxParameters = 1_000_000,
) {
  const before = tf.memory().numTensors;
  const attempt = modelFromTopology(topology, info, { maxParameters });
  await expect(attempt).rejects.toBeInstanceOf(ModelSpecError);
  await expect(modelFromTopology(topology, info, { maxParameters })).rejects.toMatchObject({
    code,
  });
  expect(tf.memory().numTensors).toBe(before);
}

beforeAll(async () => {
  expect(await useFastestNodeBackend()).toBe('wasm');
});

describe('modelFromTopology', () => {
  it('accepts a real model.json topology: 784*32 + 32 + 32*10 + 10 = 25,450 parameters', async () => {
    const model = await modelFromTopology(topologyOf(validLayers), info, limits);
    expect(model.countParams()).toBe(25_450);
    expect(modelExampleShape(model, info)).toEqual([28, 28, 1]);
    model.dispose();
  });

  it('accepts a flat [null, 784] input and reports it for the batcher', async () => {
    const topology = topologyOf(() => [tf.layers.dense({ inputShape: [784], units: 10 })]);
    const model = await modelFromTopology(topology, info, limits);
    expect(modelExampleShape(model, info)).toEqual([784]);
    model.dispose();
  });

  it('seeds every initialiser: same seed same weights, other seed other weights', async () => {
    const topology = topologyOf(validLayers);
    const weights = async (seed: number) => {
      const model = await buildModel({ kind: 'custom', topology }, info, seed);
      const flat = await readFlatWeights(model);
      model.dispose();
      return flat;
    };
    const a = await weights(1);
    expect(sameElements(a, await weights(1))).toBe(true);
    expect(sameElements(a, await weights(2))).toBe(false);
    // The caller's topology is not modified by the seeding.
    expect(JSON.stringify(topology)).not.toMatch(/"seed":\d/);
  });

  it('rejects a wrong input shape', async () => {
    await expectRejected(
      topologyOf(() => [
        tf.layers.flatten({ inputShape: [32, 32, 1] }),
        tf.layers.dense({ units: 10 }),
      ]),
      'input-shape',
    );
  });

  it('rejects an output that is not one logit per class', async () => {
    await expectRejected(
      topologyOf(() => [
        tf.layers.flatten({ inputShape: [28, 28, 1] }),
        tf.layers.dense({ units: 5 }),
      ]),
      'output-shape',
    );
  });

  it('rejects more parameters than the limit', async () => {
    // 784 * 10 + 10 = 7850 > 7849.
    const topology = topologyOf(() => [
      tf.layers.flatten({ inputShape: [28, 28, 1] }),
      tf.layers.dense({ units: 10 }),
    ]);
    await expectRejected(topology, 'too-many-parameters', 7849);
    // One absurd layer is refused before tfjs would allocate it (10^9 * 784 floats).
    const huge = topologyOf(validLayers);
    const text = JSON.stringify(huge).replace('"units":32', '"units":1000000000');
    await expectRejected(JSON.parse(text) as Record<string, unknown>, 'too-many-parameters');
  });

  it('rejects an unknown layer class', async () => {
    const text = JSON.stringify(topologyOf(validLayers)).replace(
      '"class_name":"Dropout"',
      '"class_name":"EvalCode"',
    );
    await expectRejected(JSON.parse(text) as Record<string, unknown>, 'unknown-layer');
  });

  it('rejects a softmax output, telling the researcher to output logits', async () => {
    const topology = topologyOf(() => [
      tf.layers.flatten({ inputShape: [28, 28, 1] }),
      tf.layers.dense({ units: 10, activation: 'softmax' }),
    ]);
    await expectRejected(topology, 'softmax-output');
    await expect(modelFromTopology(topology, info, limits)).rejects.toThrow(/linear activation/);
  });

  it('rejects non-trainable weights and regularizers', async () => {
    await expectRejected(
      topologyOf(() => [
        tf.layers.flatten({ inputShape: [28, 28, 1] }),
        tf.layers.batchNormalization(),
        tf.layers.dense({ units: 10 }),
      ]),
      'non-trainable-weights',
    );
    await expectRejected(
      topologyOf(() => [
        tf.layers.flatten({ inputShape: [28, 28, 1] }),
        tf.layers.dense({ units: 10, kernelRegularizer: tf.regularizers.l2() }),
      ]),
      'unsupported-layer-option',
    );
  });

  it('rejects a whole model.json and garbage', async () => {
    await expectRejected({ modelTopology: topologyOf(validLayers) }, 'invalid-topology');
    await expectRejected({ class_name: 'Sequential', config: 42 }, 'invalid-topology');
    await expectRejected({}, 'invalid-topology');
  });
});
