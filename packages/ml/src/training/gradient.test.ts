import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useFastestNodeBackend } from '../backend-node.js';
import { DATASET_INFO } from '../data/dataset-info.js';
import { generateSynthetic } from '../data/synthetic.js';
import { parameterLayout, readFlatWeights, writeFlatWeights } from '../models/flat-weights.js';
import { buildCnn, buildMlp } from '../models/zoo.js';
import { sameElements } from '../test-support/bytes.js';
import { batchOf } from '../test-support/batches.js';
import { computeGradient } from './gradient.js';

const info = DATASET_INFO.synthetic;
const { train } = generateSynthetic({ seed: 1, trainExamples: 40, testExamples: 0 });

beforeAll(async () => {
  expect(await useFastestNodeBackend()).toBe('wasm');
});

describe('computeGradient', () => {
  it('matches the closed form at zero weights: loss ln 10, dL/db = 0.1 - label frequency', async () => {
    const model = buildMlp([8], info, 0);
    writeFlatWeights(model, new Float32Array(784 * 8 + 8 + 8 * 10 + 10));
    // Examples 0, 10, 1, 3 have labels 0, 0, 1, 3 (label = index mod 10).
    const batch = batchOf(train, [0, 10, 1, 3]);
    const { loss, gradient } = await computeGradient(model, batch);
    batch.dispose();
    // Logits are all 0, so softmax = 0.1 everywhere and loss = -ln(0.1) = ln 10 = 2.302585.
    expect(loss).toBeCloseTo(Math.log(10), 6);
    // dL/dz = (softmax - onehot) / b; only the logits bias sees it (hidden activations are 0,
    // and dL/dh = (p - y) W^T = 0 with W = 0): [0.1 - 2/4, 0.1 - 1/4, 0.1, 0.1 - 1/4, 0.1, ...].
    const biasAt = parameterLayout(model)[3].offset;
    const expected = [-0.4, -0.15, 0.1, -0.15, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1];
    Array.from(gradient.subarray(biasAt)).forEach((g, c) => {
      expect(g).toBeCloseTo(expected[c], 6);
    });
    expect(gradient.subarray(0, biasAt).every((g) => g === 0)).toBe(true);
    model.dispose();
  });

  it('agrees with central finite differences of the loss', async () => {
    // Float32 tolerance: the loss (~2.3) is computed with a relative rounding error of a few
    // 1e-7 per op over ~800-term sums, so |dL| noise ~ 1e-6; divided by 2 eps = 2e-2 that is
    // ~5e-5, and the truncation error eps^2 / 6 * L''' is ~2e-5. Allow 5e-4 + 1% of |g|.
    const model = buildMlp([4], info, 3);
    const batch = batchOf(train, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12]);
    const base = await readFlatWeights(model);
    const { gradient } = await computeGradient(model, batch);
    const layout = parameterLayout(model);
    // Output layer (smooth in these: no ReLU kink moves) and the largest hidden-layer entries.
    const coordinates = [
      layout[2].offset,
      layout[2].offset + 17,
      layout[3].offset,
      layout[3].offset + 7,
    ];
    const hidden = Array.from(gradient.subarray(0, layout[1].offset + 4).keys())
      .sort((a, b) => Math.abs(gradient[b]) - Math.abs(gradient[a]))
      .slice(0, 4);
    const eps = 1e-2;
    let worst = 0;
    for (const i of [...coordinates, ...hidden]) {
      const probe = base.slice();
      probe[i] = base[i] + eps;
      writeFlatWeights(model, probe);
      const up = (await computeGradient(model, batch)).loss;
      probe[i] = base[i] - eps;
      writeFlatWeights(model, probe);
      const down = (await computeGradient(model, batch)).loss;
      const numeric = (up - down) / (2 * eps);
      worst = Math.max(worst, Math.abs(numeric - gradient[i]));
      expect(Math.abs(numeric - gradient[i]), `coordinate ${i}`).toBeLessThan(
        5e-4 + 0.01 * Math.abs(gradient[i]),
      );
    }
    console.log(`finite differences: worst |numeric - analytic| ${worst.toExponential(2)}`);
    expect(
      Math.max(...[...coordinates, ...hidden].map((i) => Math.abs(gradient[i]))),
    ).toBeGreaterThan(1e-2);
    batch.dispose();
    model.dispose();
  });

  it('leaks no tensor over 20 calls', async () => {
    const model = buildMlp([16], info, 0);
    const batch = batchOf(train, [0, 1, 2, 3]);
    const before = tf.memory().numTensors;
    for (let k = 0; k < 20; k++) await computeGradient(model, batch);
    expect(tf.memory().numTensors).toBe(before);
    batch.dispose();
    model.dispose();
  });
});

describe('computeGradient across backends', () => {
  afterAll(async () => {
    await tf.setBackend('wasm');
  });

  it('gives the same initial weights on wasm and cpu, and gradients within 1e-6', async () => {
    const run = async (backend: 'wasm' | 'cpu') => {
      await tf.setBackend(backend);
      const model = buildMlp([32], info, 5);
      const weights = await readFlatWeights(model);
      const batch = batchOf(
        train,
        Array.from({ length: 32 }, (_, i) => i),
      );
      const result = await computeGradient(model, batch);
      batch.dispose();
      model.dispose();
      return { weights, ...result };
    };
    const wasm = await run('wasm');
    const cpu = await run('cpu');
    expect(sameElements(wasm.weights, cpu.weights)).toBe(true);
    let maxDiff = 0;
    let maxAbs = 0;
    for (let i = 0; i < wasm.gradient.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(wasm.gradient[i] - cpu.gradient[i]));
      maxAbs = Math.max(maxAbs, Math.abs(cpu.gradient[i]));
    }
    console.log(`wasm vs cpu: max |dg| ${maxDiff.toExponential(2)}, max |g| ${maxAbs.toFixed(3)}`);
    // Same float32 maths, different summation order (SIMD vs scalar): a few ulps of ~0.1.
    expect(maxDiff).toBeLessThan(1e-6);
    expect(maxAbs).toBeGreaterThan(1e-2);
    expect(Math.abs(wasm.loss - cpu.loss)).toBeLessThan(1e-5);
  });

  it('differentiates a CNN on cpu (wasm 4.22 has no Conv2DBackpropFilter)', async () => {
    await tf.setBackend('cpu');
    const model = buildCnn([2], info, 0);
    // conv 9*1*2 + 2 = 20; pool 28 -> 14; dense 14*14*2*10 + 10 = 3930; total 3950.
    const batch = batchOf(train, [0, 1]);
    const { loss, gradient } = await computeGradient(model, batch);
    batch.dispose();
    expect(gradient.length).toBe(3950);
    expect(Number.isFinite(loss)).toBe(true);
    // Every block receives signal: some conv kernel entry and some dense entry are non-zero.
    expect(gradient.subarray(0, 18).some((g) => g !== 0)).toBe(true);
    expect(gradient.subarray(20).some((g) => g !== 0)).toBe(true);
    model.dispose();
  });
});
