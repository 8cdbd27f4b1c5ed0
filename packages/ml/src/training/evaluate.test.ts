import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useFastestNodeBackend } from '../backend-node.js';
import { DATASET_INFO } from '../data/dataset-info.js';
import { generateSynthetic } from '../data/synthetic.js';
import { parameterCount, parameterLayout, writeFlatWeights } from '../models/flat-weights.js';
import { modelFromTopology } from '../models/custom-topology.js';
import { buildMlp } from '../models/zoo.js';
import { evaluate } from './evaluate.js';

const info = DATASET_INFO.synthetic;
// 25 examples, labels i mod 10: label 3 at i = 3, 13, 23.
const { test } = generateSynthetic({ seed: 2, trainExamples: 0, testExamples: 25 });

beforeAll(async () => {
  expect(await useFastestNodeBackend()).toBe('wasm');
});

/** An MLP whose only non-zero parameter is logits bias[3] = 1: it always predicts class 3. */
function alwaysThree(): tf.LayersModel {
  const model = buildMlp([4], info, 0);
  const flat = new Float32Array(parameterCount(model));
  flat[parameterLayout(model)[3].offset + 3] = 1;
  writeFlatWeights(model, flat);
  return model;
}

describe('evaluate', () => {
  it('matches the hand-computed loss and accuracy of a constant predictor', async () => {
    const model = alwaysThree();
    // Logits [0,0,0,1,0,...]: logsumexp = ln(9 + e) = 2.461143; loss = 2.461143 - [y = 3].
    // 25 examples, 3 with label 3: loss = 2.461143 - 3/25 = 2.341143, accuracy = 3/25 = 0.12.
    const result = await evaluate(model, test, { batchSize: 7 });
    expect(result.examples).toBe(25);
    expect(result.accuracy).toBeCloseTo(0.12, 6);
    expect(result.loss).toBeCloseTo(Math.log(9 + Math.E) - 3 / 25, 5);
    // limit 10: one label-3 example among the first 10.
    const limited = await evaluate(model, test, { batchSize: 4, limit: 10 });
    expect(limited).toMatchObject({ examples: 10 });
    expect(limited.accuracy).toBeCloseTo(0.1, 6);
    expect(limited.loss).toBeCloseTo(Math.log(9 + Math.E) - 0.1, 5);
    model.dispose();
  });

  it('does not depend on the batch size and leaks no tensor', async () => {
    const model = buildMlp([16], info, 4);
    const before = tf.memory().numTensors;
    const whole = await evaluate(model, test, { batchSize: 25 });
    const pieces = await evaluate(model, test, { batchSize: 3, limit: 1000 });
    expect(pieces.examples).toBe(25);
    expect(pieces.accuracy).toBe(whole.accuracy);
    expect(pieces.loss).toBeCloseTo(whole.loss, 5);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('feeds flat inputs to a model that takes [null, 784]', async () => {
    const source = tf.sequential({ layers: [tf.layers.dense({ inputShape: [784], units: 10 })] });
    const topology = source.toJSON(undefined, false) as unknown as Record<string, unknown>;
    source.dispose();
    const model = await modelFromTopology(topology, info, { maxParameters: 10_000 });
    const result = await evaluate(model, test, { batchSize: 10 });
    expect(result.examples).toBe(25);
    expect(Number.isFinite(result.loss)).toBe(true);
    model.dispose();
  });

  it('rejects bad options and an empty set', async () => {
    const model = buildMlp([4], info, 0);
    await expect(evaluate(model, test, { batchSize: 0 })).rejects.toMatchObject({
      code: 'invalid-batch-size',
    });
    await expect(evaluate(model, test, { batchSize: 4, limit: 0 })).rejects.toMatchObject({
      code: 'invalid-batch-size',
    });
    await expect(
      evaluate(
        model,
        { ...test, images: new Uint8Array(0), labels: new Uint8Array(0), count: 0 },
        { batchSize: 4 },
      ),
    ).rejects.toMatchObject({ code: 'empty' });
    model.dispose();
  });
});
