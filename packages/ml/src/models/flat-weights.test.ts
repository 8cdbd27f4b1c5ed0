import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useFastestNodeBackend } from '../backend-node.js';
import { DATASET_INFO } from '../data/dataset-info.js';
import { mulberry32 } from '../random.js';
import { sameElements } from '../test-support/bytes.js';
import { parameterLayout, readFlatWeights, writeFlatWeights } from './flat-weights.js';
import { buildMlp } from './zoo.js';

beforeAll(async () => {
  expect(await useFastestNodeBackend()).toBe('wasm');
});

function randomVector(length: number, seed: number): Float32Array {
  const random = mulberry32(seed);
  return Float32Array.from({ length }, () => random() * 2 - 1);
}

describe('flat weights', () => {
  it('lays out trainable weights back to back in trainableWeights order', () => {
    const model = buildMlp([128], DATASET_INFO.mnist, 0);
    expect(parameterLayout(model)).toEqual([
      { name: 'hidden_0/kernel', shape: [784, 128], offset: 0, size: 100_352 },
      { name: 'hidden_0/bias', shape: [128], offset: 100_352, size: 128 },
      { name: 'logits/kernel', shape: [128, 10], offset: 100_480, size: 1280 },
      { name: 'logits/bias', shape: [10], offset: 101_760, size: 10 },
    ]);
    model.dispose();
  });

  it('write then read is the identity, and read then write changes nothing', async () => {
    const model = buildMlp([16], DATASET_INFO.mnist, 0);
    const initial = await readFlatWeights(model);
    writeFlatWeights(model, initial);
    expect(sameElements(await readFlatWeights(model), initial)).toBe(true);
    const flat = randomVector(initial.length, 3);
    writeFlatWeights(model, flat);
    const back = await readFlatWeights(model);
    expect(sameElements(back, flat)).toBe(true);
    // Row-major within a slice: entry (i=2, j=5) of the [784, 16] kernel is at 2 * 16 + 5 = 37.
    const kernel = await model.trainableWeights[0].read().array();
    expect((kernel as number[][])[2][5]).toBe(flat[37]);
    model.dispose();
  });

  it('assigns into the existing variables and leaks no tensor', () => {
    const model = buildMlp([16], DATASET_INFO.mnist, 0);
    const before = tf.memory().numTensors;
    const variables = model.trainableWeights.map((w) => w.read());
    for (let k = 0; k < 10; k++) writeFlatWeights(model, randomVector(12_730, k));
    expect(tf.memory().numTensors).toBe(before);
    model.trainableWeights.forEach((w, i) => {
      expect(w.read()).toBe(variables[i]);
    });
    model.dispose();
  });

  it('rejects a wrong length or a non-finite entry and leaves the model as it was', async () => {
    const model = buildMlp([16], DATASET_INFO.mnist, 0);
    const initial = await readFlatWeights(model);
    expect(() => {
      writeFlatWeights(model, new Float32Array(initial.length - 1));
    }).toThrow(expect.objectContaining({ code: 'length-mismatch' }));
    const poisoned = randomVector(initial.length, 1);
    poisoned[initial.length - 1] = Number.NaN;
    expect(() => {
      writeFlatWeights(model, poisoned);
    }).toThrow(expect.objectContaining({ code: 'non-finite' }));
    expect(sameElements(await readFlatWeights(model), initial)).toBe(true);
    model.dispose();
  });
});

describe('flat weights on the cpu backend', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  afterAll(async () => {
    await tf.setBackend('wasm');
  });

  it('copies the written vector: changing it afterwards does not change the model', async () => {
    // The cpu backend keeps a reference to a typed array handed to tf.tensor; writeFlatWeights must copy.
    const model = buildMlp([4], DATASET_INFO.mnist, 0);
    const flat = randomVector(3190, 2); // 784*4 + 4 + 4*10 + 10 = 3190
    writeFlatWeights(model, flat);
    const expected = flat.slice();
    flat.fill(0);
    expect(sameElements(await readFlatWeights(model), expected)).toBe(true);
    model.dispose();
  });

  it('returns a read vector the caller owns, even for a one-tensor model', async () => {
    // With one weight tensor, concat is a clone of the variable, and cpu data() returns its storage.
    const model = tf.sequential({
      layers: [tf.layers.dense({ inputShape: [3], units: 2, useBias: false })],
    });
    const flat = await readFlatWeights(model);
    const expected = flat.slice();
    flat.fill(123);
    expect(sameElements(await readFlatWeights(model), expected)).toBe(true);
    model.dispose();
  });
});
