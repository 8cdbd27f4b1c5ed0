import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sparse } from '../test-support/sparse-fixtures.js';
import type { OptimizerState } from './optimizer.js';
import { OptimizerError } from './optimizer-error.js';
import { createServerOptimizer } from './server-optimizer.js';
import type { ServerOptimizerConfig } from './server-optimizer.js';
import { createWorkerOptimizer } from './worker-optimizer.js';
import type { WorkerOptimizerConfig } from './worker-optimizer.js';

const serverConfigs: readonly ServerOptimizerConfig[] = [
  { kind: 'sgd', learningRate: 0.5 },
  { kind: 'momentum', learningRate: 0.1, momentum: 0.9 },
  { kind: 'nesterov', learningRate: 0.7, momentum: 0.9 },
  { kind: 'adam', learningRate: 0.01, beta1: 0.9, beta2: 0.99, epsilon: 1e-6 },
];

const updateArbitrary = fc.float32Array({
  minLength: 5,
  maxLength: 5,
  min: -10,
  max: 10,
  noNaN: true,
});

describe.each(serverConfigs)('createServerOptimizer($kind)', (config) => {
  it('builds the named rule', () => {
    const optimizer = createServerOptimizer(config, 5);
    expect(optimizer.kind).toBe(config.kind);
    expect(optimizer.parameterCount).toBe(5);
    expect(optimizer.stepCount).toBe(0);
  });

  it('continues bit for bit from a restored checkpoint', () => {
    fc.assert(
      fc.property(
        fc.array(updateArbitrary, { minLength: 1, maxLength: 4 }),
        fc.array(updateArbitrary, { minLength: 1, maxLength: 4 }),
        (before, after) => {
          const original = createServerOptimizer(config, 5);
          const weights = Float32Array.from([1, 2, 3, 4, 5]);
          for (const d of before) original.step(weights, d);
          const checkpoint = original.state();
          const resumed = createServerOptimizer(config, 5);
          resumed.restore(checkpoint);
          const resumedWeights = weights.slice();
          for (const d of after) {
            original.step(weights, d);
            resumed.step(resumedWeights, d);
          }
          expect(resumedWeights).toEqual(weights);
          expect(resumed.state()).toEqual(original.state());
          expect(resumed.stepCount).toBe(before.length + after.length);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('hands out copies in state(), so a checkpoint does not change under later steps', () => {
    const optimizer = createServerOptimizer(config, 2);
    const weights = new Float32Array(2);
    optimizer.step(weights, Float32Array.from([1, -1]));
    const checkpoint = optimizer.state();
    const frozen = JSON.stringify(checkpoint, (_key, value: unknown) =>
      value instanceof Float32Array ? Array.from(value) : value,
    );
    optimizer.step(weights, Float32Array.from([1, -1]));
    expect(
      JSON.stringify(checkpoint, (_key, value: unknown) =>
        value instanceof Float32Array ? Array.from(value) : value,
      ),
    ).toBe(frozen);
  });

  it('rejects a bad step before touching weights or state', () => {
    const optimizer = createServerOptimizer(config, 3);
    const weights = Float32Array.from([1, 2, 3]);
    optimizer.step(weights, Float32Array.from([0.5, 0.5, 0.5]));
    const weightsBefore = weights.slice();
    const stateBefore = optimizer.state();
    const bad: [Float32Array, Float32Array | ReturnType<typeof sparse>, string][] = [
      [weights, Float32Array.from([1, Number.NaN, 1]), 'non-finite'],
      [weights, sparse(3, [1], [Infinity]), 'non-finite'],
      [weights, sparse(3, [2, 1], [1, 1]), 'invalid-update'],
      [weights, new Float32Array(4), 'length-mismatch'],
      [new Float32Array(2), new Float32Array(3), 'length-mismatch'],
    ];
    for (const [w, update, code] of bad) {
      expect(() => {
        optimizer.step(w, update);
      }).toThrow(expect.objectContaining({ name: 'OptimizerError', code }));
    }
    expect(weights).toEqual(weightsBefore);
    expect(optimizer.state()).toEqual(stateBefore);
  });

  it('rejects checkpoints that do not fit', () => {
    const optimizer = createServerOptimizer(config, 3);
    const good = optimizer.state();
    const otherKind = config.kind === 'sgd' ? 'adam' : 'sgd';
    const firstBuffer = Object.keys(good.buffers)[0] as string | undefined;
    const bad: OptimizerState[] = [
      { ...good, kind: otherKind },
      { ...good, step: -1 },
      { ...good, step: 1.5 },
      { ...good, buffers: { ...good.buffers, extra: new Float32Array(3) } },
    ];
    if (firstBuffer !== undefined) {
      bad.push({ ...good, buffers: { ...good.buffers, [firstBuffer]: new Float32Array(2) } });
      bad.push({
        ...good,
        buffers: { ...good.buffers, [firstBuffer]: Float32Array.from([0, Number.NaN, 0]) },
      });
    }
    for (const state of bad) {
      expect(() => {
        optimizer.restore(state);
      }).toThrow(expect.objectContaining({ code: 'invalid-state' }));
    }
  });
});

describe('createServerOptimizer', () => {
  it('rejects an unknown kind and a bad parameter count', () => {
    const unknownKind = { kind: 'lion', learningRate: 1 } as unknown as ServerOptimizerConfig;
    expect(() => createServerOptimizer(unknownKind, 3)).toThrow(OptimizerError);
    expect(() => createServerOptimizer({ kind: 'sgd', learningRate: 1 }, -3)).toThrow(
      expect.objectContaining({ code: 'invalid-config' }),
    );
  });
});

describe('createWorkerOptimizer', () => {
  it('does local SGD steps on gradients', () => {
    const worker = createWorkerOptimizer({ kind: 'sgd', learningRate: 0.125 }, 2);
    const w = Float32Array.from([1, 1]);
    worker.step(w, Float32Array.from([8, -8]));
    // [1 - 0.125*8, 1 + 0.125*8] = [0, 2]
    worker.step(w, Float32Array.from([8, 0]));
    // [0 - 1, 2] = [-1, 2]
    expect(Array.from(w)).toEqual([-1, 2]);
  });

  it('builds Adam, and nothing else', () => {
    const adam: WorkerOptimizerConfig = {
      kind: 'adam',
      learningRate: 0.001,
      beta1: 0.9,
      beta2: 0.999,
      epsilon: 1e-8,
    };
    expect(createWorkerOptimizer(adam, 4).kind).toBe('adam');
    const momentum = {
      kind: 'momentum',
      learningRate: 1,
      momentum: 0.9,
    } as unknown as WorkerOptimizerConfig;
    expect(() => createWorkerOptimizer(momentum, 4)).toThrow(
      expect.objectContaining({ code: 'invalid-config' }),
    );
  });
});
