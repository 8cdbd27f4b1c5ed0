import * as tf from '@tensorflow/tfjs';
import { DATASET_INFO, FlatWeightsError, buildModel } from '@vtrain/ml';
import { beforeAll, describe, expect, it } from 'vitest';
import { TFJS_WEIGHTS_FILE, exportTfjs } from './tfjs-export.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('exportTfjs', () => {
  it('writes weights.bin as the flat vector itself for a zoo model', async () => {
    // MLP 784-3-10: 784 * 3 + 3 + 3 * 10 + 10 = 2395 parameters, all trainable, and tfjs
    // saves them in trainableWeights order, little-endian float32: the flat layout exactly.
    const model = await buildModel({ kind: 'mlp', hiddenUnits: [3] }, DATASET_INFO.mnist, 5);
    const flat = Float32Array.from({ length: 2395 }, (_, i) => (i % 17) - 8.25);
    const { modelJson, weightsBin } = await exportTfjs(model, flat);
    expect(weightsBin.length).toBe(4 * 2395);
    expect([...new Float32Array(weightsBin.slice().buffer)]).toEqual([...flat]);
    expect(modelJson.weightsManifest).toEqual([
      {
        paths: [TFJS_WEIGHTS_FILE],
        weights: [
          { name: 'hidden_0/kernel', shape: [784, 3], dtype: 'float32' },
          { name: 'hidden_0/bias', shape: [3], dtype: 'float32' },
          { name: 'logits/kernel', shape: [3, 10], dtype: 'float32' },
          { name: 'logits/bias', shape: [10], dtype: 'float32' },
        ],
      },
    ]);
    expect(modelJson.format).toBe('layers-model');
    expect((modelJson.modelTopology as { class_name?: string }).class_name).toBe('Sequential');
  });

  it('loads back from memory with the same weights', async () => {
    const model = await buildModel({ kind: 'mlp', hiddenUnits: [2] }, DATASET_INFO.mnist, 9);
    const flat = Float32Array.from({ length: 784 * 2 + 2 + 2 * 10 + 10 }, (_, i) => i / 4096);
    const { modelJson, weightsBin } = await exportTfjs(model, flat);
    const loaded = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: modelJson.modelTopology,
        weightSpecs: modelJson.weightsManifest[0]?.weights,
        weightData: weightsBin.slice().buffer,
      }),
    );
    const kernel = loaded.getLayer('logits').getWeights()[0];
    // logits/kernel starts after hidden_0's 784 * 2 + 2 = 1570 values: (1570 + i) / 4096.
    expect([...((await kernel?.data()) ?? [])].slice(0, 2)).toEqual([1570 / 4096, 1571 / 4096]);
  });

  it('refuses a vector that does not fit the model', async () => {
    const model = await buildModel({ kind: 'mlp', hiddenUnits: [2] }, DATASET_INFO.mnist, 9);
    await expect(exportTfjs(model, new Float32Array(5))).rejects.toSatisfy(
      (error) => error instanceof FlatWeightsError && error.code === 'length-mismatch',
    );
  });
});
