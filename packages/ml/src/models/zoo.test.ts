import * as tf from '@tensorflow/tfjs';
import type { ModelSpec } from '@vtrain/protocol';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { useFastestNodeBackend } from '../backend-node.js';
import { DATASET_INFO, uploadedDatasetInfo } from '../data/dataset-info.js';
import { sameElements } from '../test-support/bytes.js';
import { parameterCount, readFlatWeights } from './flat-weights.js';
import { modelExampleShape } from './input-shape.js';
import { buildModel, zooParameterCount } from './zoo.js';

const info = DATASET_INFO.mnist;

beforeAll(async () => {
  expect(await useFastestNodeBackend()).toBe('wasm');
});

describe('buildModel (zoo)', () => {
  it('MLP 784-128-10 has 784*128 + 128 + 128*10 + 10 = 101,770 parameters and outputs logits', async () => {
    const model = await buildModel({ kind: 'mlp', hiddenUnits: [128] }, info, 1);
    expect(parameterCount(model)).toBe(101_770);
    expect(model.countParams()).toBe(101_770);
    expect(model.inputs[0].shape).toEqual([null, 28, 28, 1]);
    expect(model.outputs[0].shape).toEqual([null, 10]);
    expect(model.layers.at(-1)?.getConfig().activation).toBe('linear');
    expect(modelExampleShape(model, info)).toEqual([28, 28, 1]);
    model.dispose();
  });

  it('CNN [8, 16] has 80 + 1168 + 7850 = 9,098 parameters', async () => {
    // conv0 9*1*8 + 8 = 80; conv1 9*8*16 + 16 = 1168; 28 -> 14 -> 7, so dense (7*7*16)*10 + 10 = 7850.
    const model = await buildModel({ kind: 'cnn', filters: [8, 16] }, info, 1);
    expect(model.countParams()).toBe(9098);
    expect(model.outputs[0].shape).toEqual([null, 10]);
    model.dispose();
  });

  it('zooParameterCount equals what tfjs builds', () => {
    const mlp = fc.record({
      kind: fc.constant('mlp' as const),
      hiddenUnits: fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 3 }),
    });
    const cnn = fc.record({
      kind: fc.constant('cnn' as const),
      filters: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 4 }),
    });
    return fc.assert(
      fc.asyncProperty(fc.oneof(mlp, cnn), async (spec) => {
        const model = await buildModel(spec, info, 0);
        expect(zooParameterCount(spec, info)).toBe(model.countParams());
        model.dispose();
      }),
      { numRuns: 15 },
    );
  });

  it('same spec + seed gives identical weights, another seed different ones', async () => {
    const spec: ModelSpec = { kind: 'mlp', hiddenUnits: [32, 16] };
    const weightsOf = async (seed: number) => {
      const model = await buildModel(spec, info, seed);
      const flat = await readFlatWeights(model);
      model.dispose();
      return flat;
    };
    const a = await weightsOf(7);
    expect(sameElements(a, await weightsOf(7))).toBe(true);
    const b = await weightsOf(8);
    expect(sameElements(a, b)).toBe(false);
    // Not just a permutation or a shared prefix: most kernel entries differ.
    let same = 0;
    for (let i = 0; i < 784 * 32; i++) if (a[i] === b[i]) same++;
    expect(same).toBeLessThan(100);
  });

  it('refuses malformed specs and too many parameters before building', async () => {
    const before = tf.memory().numTensors;
    await expect(buildModel({ kind: 'mlp', hiddenUnits: [] }, info, 0)).rejects.toMatchObject({
      code: 'invalid-spec',
    });
    await expect(buildModel({ kind: 'mlp', hiddenUnits: [0] }, info, 0)).rejects.toMatchObject({
      code: 'invalid-spec',
    });
    await expect(
      buildModel({ kind: 'cnn', filters: [1, 1, 1, 1, 1] }, info, 0),
    ).rejects.toMatchObject({
      code: 'invalid-spec',
    });
    // 784 * 4096 + 4096 + 4096 * 10 + 10 = 3,256,330 > 1,000,000.
    await expect(
      buildModel({ kind: 'mlp', hiddenUnits: [4096] }, info, 0, { maxParameters: 1_000_000 }),
    ).rejects.toMatchObject({ code: 'too-many-parameters' });
    await expect(buildModel({ kind: 'mlp', hiddenUnits: [8] }, info, -1)).rejects.toMatchObject({
      code: 'invalid-seed',
    });
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('zoo models on uploaded shapes', () => {
  const vector = uploadedDatasetInfo({ inputShape: [20], inputDtype: 'f32', classes: 3 });
  const image = uploadedDatasetInfo({ inputShape: [12, 12, 1], inputDtype: 'u8', classes: 3 });

  it('the mlp flattens any shape and outputs the classes of the set', async () => {
    const model = await buildModel({ kind: 'mlp', hiddenUnits: [8] }, vector, 1);
    expect(model.inputs[0]?.shape).toEqual([null, 20]);
    expect(model.outputs[0]?.shape).toEqual([null, 3]);
    expect(model.countParams()).toBe(zooParameterCount({ kind: 'mlp', hiddenUnits: [8] }, vector));
    model.dispose();
  });

  it('the cnn takes (H, W, C) and refuses other ranks, naming the shape', async () => {
    const model = await buildModel({ kind: 'cnn', filters: [4] }, image, 1);
    expect(model.outputs[0]?.shape).toEqual([null, 3]);
    expect(model.countParams()).toBe(zooParameterCount({ kind: 'cnn', filters: [4] }, image));
    model.dispose();
    const refused = buildModel({ kind: 'cnn', filters: [4] }, vector, 1);
    await expect(refused).rejects.toMatchObject({ code: 'input-shape' });
    await expect(refused).rejects.toThrow(/\[20\]/);
  });
});
