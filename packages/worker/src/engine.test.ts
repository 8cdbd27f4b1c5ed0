import * as tf from '@tensorflow/tfjs';
import {
  BatchSampler,
  computeGradient,
  evaluate,
  readFlatWeights,
  writeFlatWeights,
} from '@vtrain/ml';
import { useFastestNodeBackend } from '@vtrain/ml/node';
import { createWorkerOptimizer, densify, mulberry32, topKCount } from '@vtrain/optimizer';
import { decodeSparseUpdate, type Assignment } from '@vtrain/protocol';
import type { Dataset } from '@vtrain/ml';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { EngineError } from './engine-error.js';
import { TrainingEngine } from './engine.js';
import {
  buildTestModel,
  firstDifference,
  repeatedExample,
  smallSynthetic,
  testAssignment,
} from './test-support/fixtures.js';

beforeAll(async () => {
  expect(await useFastestNodeBackend()).toBe('wasm');
});

const data = smallSynthetic();

/** An engine on a fresh model, holding the model's initial weights as version 0. */
async function engineFor(assignment: Assignment, dataset = data.train, seed = 1) {
  const model = await buildTestModel(assignment, 0);
  const engine = new TrainingEngine({ assignment, dataset, model, random: mulberry32(seed) });
  engine.setWeights(await readFlatWeights(model), 0);
  return { engine, model };
}

function decode(engine: TrainingEngine, payload: Uint8Array) {
  return decodeSparseUpdate(payload, {
    maxLength: engine.parameterCount,
    maxCount: engine.parameterCount,
    expectedLength: engine.parameterCount,
  });
}

/** The gradient of the (only possible) batch of a data set of identical examples, at `weights`. */
async function gradientAt(assignment: Assignment, dataset = data.train, weights: Float32Array) {
  const model = await buildTestModel(assignment, 0);
  writeFlatWeights(model, weights);
  const batch = new BatchSampler(dataset, { seed: 99 }).nextBatch(assignment.training.batchSize);
  const { gradient, loss } = await computeGradient(model, batch);
  batch.dispose();
  model.dispose();
  return { gradient: gradient.slice(), loss };
}

/**
 * The JS reference path of H local steps from `global`: per step the gradient read back
 * (`computeGradient`) and the JS worker optimizer of `@vtrain/optimizer` on the flat
 * vector; `optimizer` carries its state across calls. Returns u = global - local_H.
 */
async function referenceSteps(
  assignment: Assignment,
  dataset: Dataset,
  global: Float32Array,
  steps: number,
  optimizer = createWorkerOptimizer(assignment.training.workerOptimizer, global.length),
) {
  const local = global.slice();
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    const { gradient, loss } = await gradientAt(assignment, dataset, local);
    optimizer.step(local, gradient);
    losses.push(loss);
  }
  return { delta: global.map((w, i) => w - local[i]), losses };
}

/** max_i |a_i - b_i| / max_i |b_i|: float32 rounding of the same formulas stays far below 1e-4. */
function maxRelativeError(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let error = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    error = Math.max(error, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  expect(scale).toBeGreaterThan(0);
  return error / scale;
}

describe('TrainingEngine.computeUpdate', () => {
  it('sends exactly k = topKCount(density, P) entries, for any density', async () => {
    // hidden [4]: P = 784*4 + 4 + 4*10 + 10 = 3190.
    const model = await buildTestModel(testAssignment({ hiddenUnits: [4] }), 0);
    const initial = await readFlatWeights(model);
    model.dispose();
    expect(initial.length).toBe(3190);
    await fc.assert(
      fc.asyncProperty(
        fc.double({ min: 1e-4, max: 1, noNaN: true }),
        fc.boolean(),
        async (density, errorFeedback) => {
          const assignment = testAssignment({ hiddenUnits: [4], density, errorFeedback });
          const { engine } = await engineFor(assignment);
          engine.setWeights(initial, 3);
          const k = topKCount(density, 3190);
          expect(engine.k).toBe(k);
          for (let round = 0; round < 2; round++) {
            const update = await engine.computeUpdate(1);
            const sent = decode(engine, update.payload);
            expect(sent.indices.length).toBe(k);
            expect(update.baseVersion).toBe(3);
          }
          engine.dispose();
        },
      ),
      { numRuns: 15 },
    );
  });

  it('H = 1, SGD, error feedback: densify(sent) + r_new == r_old + lr * g, bit for bit', async () => {
    // Every batch of a set of identical examples is the same batch, and the global weights
    // never move here, so every update sees the same gradient g.
    const fixed = repeatedExample(data.train, 3, 16);
    const assignment = testAssignment({ density: 0.01, learningRate: 0.05, batchSize: 16 });
    const { engine } = await engineFor(assignment, fixed);
    const { gradient } = await gradientAt(assignment, fixed, engine.global);
    // u_i = fround(0.05 * g_i), what the engine sends in gradient mode.
    const scaled = Float32Array.from(gradient, (g) => 0.05 * g);

    let residualOld = engine.residualSnapshot();
    expect(residualOld.every((r) => r === 0)).toBe(true);
    for (let round = 0; round < 3; round++) {
      const update = await engine.computeUpdate(1);
      const sent = decode(engine, update.payload);
      expect(sent.indices.length).toBe(engine.k);
      const residualNew = engine.residualSnapshot();
      const left = densify(sent).map((value, i) => value + residualNew[i]);
      const right = residualOld.map((r, i) => r + scaled[i]);
      expect(firstDifference(left, right)).toBe(-1);
      // The residual really carries mass forward (else the identity above is trivial).
      expect(residualNew.some((r) => r !== 0)).toBe(true);
      residualOld = residualNew;
    }
    engine.dispose();
  });

  it('a rejected update given back: densify(sent) + r_after_restore == r_before + lr * g, bit for bit', async () => {
    const fixed = repeatedExample(data.train, 3, 16);
    const assignment = testAssignment({ density: 0.01, learningRate: 0.05, batchSize: 16 });
    const { engine } = await engineFor(assignment, fixed);
    const { gradient } = await gradientAt(assignment, fixed, engine.global);
    const scaled = Float32Array.from(gradient, (g) => 0.05 * g);
    // One accepted update first, so the residual is not zero when the rejected one is made.
    await engine.computeUpdate(1);
    const before = engine.residualSnapshot();
    expect(before.some((r) => r !== 0)).toBe(true);
    const rejected = await engine.computeUpdate(1);
    expect(decode(engine, rejected.payload)).toEqual(rejected.sent);
    engine.restore(rejected.sent);
    // Everything the rejected update took out of the residual is back: r = r_before + u.
    const after = engine.residualSnapshot();
    const expected = before.map((r, i) => r + scaled[i]);
    expect(firstDifference(after, expected)).toBe(-1);
    // So the next update sends the same mass again: its entries are those of top_k(r_after + u).
    const next = await engine.computeUpdate(1);
    const left = densify(next.sent).map((value, i) => value + engine.residualSnapshot()[i]);
    expect(
      firstDifference(
        left,
        after.map((r, i) => r + scaled[i]),
      ),
    ).toBe(-1);
    expect(() => {
      engine.restore({ ...next.sent, length: engine.parameterCount + 1 });
    }).toThrow(expect.objectContaining({ code: 'invalid-patch' }));
    engine.dispose();
  });

  it('computeSteps, then weights, then compressPending: the delta joins the new base version', async () => {
    const fixed = repeatedExample(data.train, 4, 16);
    const assignment = testAssignment({ density: 1, learningRate: 0.05, batchSize: 16 });
    const { engine } = await engineFor(assignment, fixed);
    const { gradient } = await gradientAt(assignment, fixed, engine.global);
    expect(() => engine.compressPending()).toThrow(
      expect.objectContaining({ code: 'nothing-pending' }),
    );
    const steps = await engine.computeSteps(1);
    expect(steps).toMatchObject({ steps: 1, samples: 16 });
    expect(engine.pendingSteps).toBe(1);
    // The weights move while the steps wait to be compressed (a pipelined worker's ack).
    const moved = engine.global.slice();
    moved[0] += 1;
    engine.applyPatch(
      { length: moved.length, indices: Uint32Array.of(0), values: moved.subarray(0, 1) },
      0,
      3,
    );
    const update = engine.compressPending();
    expect(update.baseVersion).toBe(3);
    expect(update.computedAtVersion).toBe(0);
    expect(engine.pendingSteps).toBe(0);
    // Density 1: the update is lr * g at the weights the steps started from, bit for bit.
    const sent = densify(update.sent);
    expect(
      firstDifference(
        sent,
        Float32Array.from(gradient, (g) => 0.05 * g),
      ),
    ).toBe(-1);
    // Two computations before a compress add up into one update of 2 steps.
    await engine.computeSteps(1);
    await engine.computeSteps(1);
    const both = engine.compressPending();
    expect(both).toMatchObject({ steps: 2, samples: 32, baseVersion: 3, computedAtVersion: 3 });
    engine.dispose();
  });

  it('local SGD, H = 5: u = global - local after 5 SGD steps (density 1, no error feedback)', async () => {
    const fixed = repeatedExample(data.train, 5, 8);
    const assignment = testAssignment({
      density: 1,
      errorFeedback: false,
      learningRate: 0.2,
      batchSize: 8,
    });
    const { engine, model } = await engineFor(assignment, fixed);
    const global = engine.global.slice();

    const update = await engine.computeUpdate(5);
    expect(update.steps).toBe(5);
    expect(update.samples).toBe(40);

    // The same 5 steps by the JS reference: gradients read back, the JS SGD on the flat vector.
    const { delta: expected, losses } = await referenceSteps(assignment, fixed, global, 5);
    const sent = decode(engine, update.payload);
    expect(sent.indices.length).toBe(engine.parameterCount);
    expect(maxRelativeError(densify(sent), expected)).toBeLessThan(1e-5);
    // trainLoss = (1/5) sum of the 5 batch losses.
    expect(update.trainLoss).toBeCloseTo(losses.reduce((a, b) => a + b, 0) / 5, 5);
    // Descent on one repeated example: the loss falls step after step.
    expect(losses[4]).toBeLessThan(losses[0]);
    // The model is back at the global weights, which did not move.
    expect(firstDifference(await readFlatWeights(model), global)).toBe(-1);
    expect(firstDifference(engine.global, global)).toBe(-1);
    engine.dispose();
  });

  it.each(['sgd', 'adam'] as const)(
    '%s local steps in tfjs give the delta of the JS reference path, Adam state kept across updates and patches',
    async (optimizer) => {
      const fixed = repeatedExample(data.train, 11, 8);
      const assignment = testAssignment({
        optimizer,
        density: 1,
        errorFeedback: false,
        learningRate: optimizer === 'adam' ? 0.01 : 0.3,
        batchSize: 8,
      });
      const { engine } = await engineFor(assignment, fixed);
      const reference = createWorkerOptimizer(
        assignment.training.workerOptimizer,
        engine.parameterCount,
      );
      // Three updates of 4, 1 and 6 steps, the global weights patched between them: the
      // Adam moments and step count continue across updates as the JS optimizer's do.
      for (const [round, steps] of [4, 1, 6].entries()) {
        const global = engine.global.slice();
        const update = await engine.computeUpdate(steps);
        const { delta, losses } = await referenceSteps(assignment, fixed, global, steps, reference);
        expect(maxRelativeError(densify(decode(engine, update.payload)), delta)).toBeLessThan(1e-4);
        expect(update.trainLoss).toBeCloseTo(losses.reduce((a, b) => a + b, 0) / steps, 4);
        const next = engine.global.map((w, i) => w - delta[i]);
        const indices = Uint32Array.from({ length: 40 }, (_, j) => j * 75 + round);
        engine.applyPatch(
          { length: next.length, indices, values: Float32Array.from(indices, (i) => next[i]) },
          round,
          round + 1,
        );
      }
      engine.dispose();
    },
  );

  it('a diverged update changes nothing: weights, pending delta and Adam state as before', async () => {
    const fixed = repeatedExample(data.train, 3, 8);
    const assignment = testAssignment({
      optimizer: 'adam',
      density: 1,
      errorFeedback: false,
      learningRate: 0.01,
      batchSize: 8,
    });
    const { engine, model } = await engineFor(assignment, fixed);
    const { engine: twin } = await engineFor(assignment, fixed);
    const good = engine.global.slice();
    await engine.computeSteps(2);
    await twin.computeSteps(2);
    // Weights so large that the logits overflow: the loss is NaN at the first step.
    engine.setWeights(
      good.map(() => 3e38),
      1,
    );
    const pendingBefore = engine.pendingSteps;
    await expect(engine.computeSteps(3)).rejects.toMatchObject({ code: 'non-finite' });
    expect(engine.pendingSteps).toBe(pendingBefore);
    expect((await readFlatWeights(model)).every((w) => w === 3e38 || Math.fround(3e38) === w)).toBe(
      true,
    );
    // Back at the good weights, the engine continues exactly like its twin that never diverged.
    engine.setWeights(good, 2);
    twin.setWeights(good, 2);
    const [mine, theirs] = [await engine.computeUpdate(3), await twin.computeUpdate(3)];
    expect(
      firstDifference(densify(decode(engine, mine.payload)), densify(decode(twin, theirs.payload))),
    ).toBe(-1);
    engine.dispose();
    twin.dispose();
  });

  it('keeps the number of live tensors constant over 30 updates and patches', async () => {
    const assignment = testAssignment({ localSteps: 2 });
    const { engine } = await engineFor(assignment);
    // One warm-up round allocates whatever tfjs caches once.
    await engine.computeUpdate(2);
    const before = tf.memory().numTensors;
    for (let round = 0; round < 30; round++) {
      const update = await engine.computeUpdate(1 + (round % 3));
      const sent = decode(engine, update.payload);
      const version = engine.version ?? 0;
      engine.applyPatch(
        {
          length: sent.length,
          indices: sent.indices,
          values: sent.values.map((v, j) => engine.global[sent.indices[j]] - v),
        },
        version,
        version + 1,
      );
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(engine.version).toBe(30);
    engine.dispose();
  });

  it.each(['sgd', 'adam'] as const)(
    'leaves no tensor behind once disposed (%s: base weights and optimizer state included)',
    async (optimizer) => {
      const before = tf.memory().numTensors;
      const assignment = testAssignment({ optimizer, learningRate: 0.01 });
      const { engine } = await engineFor(assignment);
      await engine.computeUpdate(3);
      engine.applyPatch(
        { length: engine.parameterCount, indices: Uint32Array.of(5), values: Float32Array.of(0.5) },
        0,
        1,
      );
      await engine.computeUpdate(1);
      engine.dispose();
      expect(tf.memory().numTensors).toBe(before);
    },
  );

  it('moves the global model towards the data: server SGD lr 1 on the sent updates passes 80% accuracy', async () => {
    const { train, test } = smallSynthetic(3000, 500);
    const assignment = testAssignment({
      hiddenUnits: [32],
      density: 0.1,
      learningRate: 0.1,
      batchSize: 32,
    });
    const { engine, model } = await engineFor(assignment, train, 3);
    const before = await evaluate(model, test, { batchSize: 500 });
    // The server's role: w <- w - 1 * sent, then the worker gets the new values as a patch.
    const server = engine.global.slice();
    for (let version = 0; version < 150; version++) {
      const update = await engine.computeUpdate(1);
      const sent = decode(engine, update.payload);
      const values = new Float32Array(sent.indices.length);
      sent.indices.forEach((index, j) => {
        server[index] -= sent.values[j];
        values[j] = server[index];
      });
      engine.applyPatch(
        { length: sent.length, indices: sent.indices, values },
        version,
        version + 1,
      );
    }
    expect(firstDifference(engine.global, server)).toBe(-1);
    const after = await evaluate(model, test, { batchSize: 500 });
    console.log(
      `engine + server SGD, 150 updates at 10% density: accuracy ${(100 * before.accuracy).toFixed(1)}% -> ${(100 * after.accuracy).toFixed(1)}%`,
    );
    expect(before.accuracy).toBeLessThan(0.3);
    expect(after.accuracy).toBeGreaterThan(0.8);
    engine.dispose();
  });

  it('refuses to run without weights or with a bad step count', async () => {
    const assignment = testAssignment();
    const model = await buildTestModel(assignment, 0);
    const engine = new TrainingEngine({
      assignment,
      dataset: data.train,
      model,
      random: mulberry32(1),
    });
    await expect(engine.computeUpdate(1)).rejects.toMatchObject({ code: 'no-weights' });
    engine.setWeights(await readFlatWeights(model), 0);
    await expect(engine.computeUpdate(0)).rejects.toMatchObject({ code: 'invalid-local-steps' });
    await expect(engine.computeUpdate(1.5)).rejects.toMatchObject({ code: 'invalid-local-steps' });
    engine.dispose();
    await expect(engine.computeUpdate(1)).rejects.toMatchObject({ code: 'disposed' });
  });

  it('refuses a model whose parameter count differs from the assignment', async () => {
    const assignment = testAssignment({ hiddenUnits: [8] });
    const model = await buildTestModel(testAssignment({ hiddenUnits: [4] }), 0);
    expect(
      () => new TrainingEngine({ assignment, dataset: data.train, model, random: mulberry32(1) }),
    ).toThrow(
      /parameter-count-mismatch: .*\(the model has 3190 parameters, the assignment says 6370\)/,
    );
    model.dispose();
  });
});

describe('TrainingEngine weights', () => {
  it('applyPatch sets the new values bit for bit, in global and in the model', async () => {
    const { engine, model } = await engineFor(testAssignment());
    const expected = engine.global.slice();
    // Values that float32 arithmetic could not reach by adding differences to the old ones.
    const indices = Uint32Array.of(0, 17, 6000, engine.parameterCount - 1);
    const values = Float32Array.of(1.0000001, -3.4e38, 1e-45, Math.fround(Math.PI));
    indices.forEach((index, j) => (expected[index] = values[j]));
    engine.applyPatch({ length: engine.parameterCount, indices, values }, 0, 4);
    expect(engine.version).toBe(4);
    expect(firstDifference(engine.global, expected)).toBe(-1);
    expect(firstDifference(await readFlatWeights(model), expected)).toBe(-1);
    engine.dispose();
  });

  it('a patch applied in place equals a full rebuild bit for bit, signed zeros and subnormals too', async () => {
    const assignment = testAssignment({ hiddenUnits: [16] });
    const { engine, model } = await engineFor(assignment);
    await engine.computeUpdate(2); // the model's variables have been through local steps
    const P = engine.parameterCount;
    const random = mulberry32(5);
    let expected = engine.global.slice();
    // Special values go in first and are never patched again: later in-place patches must
    // carry them through untouched (a scatter that rewrote every value, e.g. by adding 0,
    // would turn -0 into +0).
    const special = [-0, 1e-45, -1e-40, 3.4e38, 0];
    const keep = new Set<number>();
    for (let version = 0; version < 4; version++) {
      // Coordinates in every weight tensor and at both ends of each.
      const chosen = new Set<number>();
      for (const slice of engine.layout)
        chosen.add(slice.offset).add(slice.offset + slice.size - 1);
      while (chosen.size < 300) chosen.add(Math.floor(random() * P));
      const indices = Uint32Array.from(
        [...chosen].filter((i) => !keep.has(i)).sort((x, y) => x - y),
      );
      const values = Float32Array.from(indices, (i, j) => {
        if (version > 0 || j % 50 !== 7) return random() * 4 - 2;
        keep.add(i);
        return special[keep.size % special.length];
      });
      engine.applyPatch({ length: P, indices, values }, version, version + 1);
      expected = expected.slice();
      indices.forEach((i, j) => (expected[i] = values[j]));
    }
    expect(keep.size).toBe(6);
    expect([...keep].some((i) => Object.is(expected[i], -0))).toBe(true);
    const rebuilt = await buildTestModel(assignment, 0);
    writeFlatWeights(rebuilt, expected);
    const bits = (flat: Float32Array) => new Uint32Array(flat.buffer, flat.byteOffset, flat.length);
    const inPlace = await readFlatWeights(model);
    expect(firstDifference(bits(inPlace), bits(await readFlatWeights(rebuilt)))).toBe(-1);
    expect(firstDifference(bits(engine.global), bits(expected))).toBe(-1);
    rebuilt.dispose();
    engine.dispose();
  });

  it('a step patch adds its differences as float32 sums, and refuses one that overflows', async () => {
    const { engine, model } = await engineFor(testAssignment());
    const P = engine.parameterCount;
    const before = engine.global.slice();
    const indices = Uint32Array.of(0, 17, 6000, P - 1);
    // f16-representable steps, as the wire carries them; the sums round to float32.
    const steps = Float32Array.of(0.5, -(2 ** -14), 2 ** -24, 1024);
    engine.applyPatch({ length: P, indices, values: steps }, 0, 1, 'steps');
    const expected = before.slice();
    indices.forEach((i, j) => (expected[i] = Math.fround(before[i] + steps[j])));
    expect(engine.version).toBe(1);
    expect(firstDifference(engine.global, expected)).toBe(-1);
    expect(firstDifference(await readFlatWeights(model), expected)).toBe(-1);

    const overflow = {
      length: P,
      indices: Uint32Array.of(3, 5),
      values: Float32Array.of(1, 3.4e38),
    };
    engine.applyPatch(
      { length: P, indices: Uint32Array.of(5), values: Float32Array.of(3.4e38) },
      1,
      2,
    );
    expect(() => {
      engine.applyPatch(overflow, 2, 3, 'steps');
    }).toThrow(/invalid-patch/);
    expected[5] = 3.4e38;
    expect(engine.version).toBe(2);
    expect(firstDifference(engine.global, expected)).toBe(-1);
    expect(firstDifference(await readFlatWeights(model), expected)).toBe(-1);
    engine.dispose();
  });

  it('refuses a patch from another version and leaves everything unchanged', async () => {
    const { engine, model } = await engineFor(testAssignment());
    const before = engine.global.slice();
    const patch = {
      length: engine.parameterCount,
      indices: Uint32Array.of(1),
      values: Float32Array.of(2),
    };
    let error: unknown;
    try {
      engine.applyPatch(patch, 1, 2);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(EngineError);
    expect((error as EngineError).code).toBe('version-mismatch');
    expect(engine.version).toBe(0);
    expect(firstDifference(engine.global, before)).toBe(-1);
    expect(firstDifference(await readFlatWeights(model), before)).toBe(-1);
    expect(() => {
      engine.applyPatch({ ...patch, indices: Uint32Array.of(engine.parameterCount) }, 0, 1);
    }).toThrow(/invalid-patch/);
    expect(() => {
      engine.applyPatch(patch, 0, -1);
    }).toThrow(/invalid-version/);
    engine.dispose();
  });

  it('setWeights adopts a dense vector and refuses a wrong length or a NaN', async () => {
    const { engine, model } = await engineFor(testAssignment());
    const flat = Float32Array.from({ length: engine.parameterCount }, (_, i) => (i % 7) / 10);
    engine.setWeights(flat, 9);
    expect(engine.version).toBe(9);
    expect(firstDifference(await readFlatWeights(model), flat)).toBe(-1);
    expect(() => {
      engine.setWeights(flat.subarray(1), 10);
    }).toThrow(/length-mismatch/);
    const poisoned = flat.slice();
    poisoned[5] = Number.NaN;
    expect(() => {
      engine.setWeights(poisoned, 10);
    }).toThrow(/non-finite/);
    expect(engine.version).toBe(9);
    engine.dispose();
  });
});
