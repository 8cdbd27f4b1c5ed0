import { DATASET_INFO, buildModel, readFlatWeights } from '@vtrain/ml';
import type { ModelSpec } from '@vtrain/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { Evaluator } from './evaluator.js';

describe('Evaluator', () => {
  const evaluator = new Evaluator();
  afterAll(() => evaluator.close());

  it('evaluates weights in a worker thread: an untrained model is near chance', async () => {
    const spec: ModelSpec = { kind: 'mlp', hiddenUnits: [16] };
    const model = await buildModel(spec, DATASET_INFO.synthetic, 3);
    const weights = await readFlatWeights(model);
    const result = await evaluator.evaluate({
      runId: 'r1',
      model: spec,
      dataset: { key: 'synthetic', info: DATASET_INFO.synthetic },
      seed: 3,
      weights,
      sample: 1000,
    });
    expect(result.examples).toBe(1000);
    expect(result.testSet).toBe('sample');
    expect(result.accuracy).toBeLessThan(0.35); // 10 classes: chance is 0.1
    expect(result.loss).toBeGreaterThan(1.5); // ln 10 = 2.30 at uniform logits
  });

  it('reports a bad request as an error, and keeps serving', async () => {
    const bad = evaluator.evaluate({
      runId: 'r2',
      model: { kind: 'mlp', hiddenUnits: [16] },
      dataset: { key: 'synthetic', info: DATASET_INFO.synthetic },
      seed: 3,
      weights: new Float32Array(5), // wrong length for this model
    });
    await expect(bad).rejects.toThrow(/evaluation failed/);
  });
});
