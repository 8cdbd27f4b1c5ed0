import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useFastestNodeBackend } from '../backend-node.js';
import { BatchBuffer, BatchSampler, BatcherError } from './batcher.js';
import { DATASET_INFO } from './dataset-info.js';
import type { Dataset } from './dataset.js';

/** Example i has every pixel equal to 10 * i and label i % 10. */
function rampDataset(count: number): Dataset {
  const images = new Uint8Array(count * 784);
  for (let i = 0; i < count; i++) images.fill(10 * i, i * 784, (i + 1) * 784);
  return {
    images,
    labels: Uint8Array.from({ length: count }, (_, i) => i % 10),
    count,
    info: DATASET_INFO.mnist,
  };
}

/** Recovers example ids from a batch of a ramp data set: pixel = 10 * id / 255. */
async function idsOf(xs: tf.Tensor): Promise<number[]> {
  const values = await xs.data();
  return Array.from({ length: xs.shape[0] }, (_, b) => Math.round((values[b * 784] * 255) / 10));
}

beforeAll(async () => {
  expect(await useFastestNodeBackend()).toBe('wasm');
});

describe('BatchSampler', () => {
  it('fills pixels / 255 and int32 labels in the image shape', async () => {
    const sampler = new BatchSampler(rampDataset(3), { seed: 0 });
    const batch = sampler.nextBatch(3);
    expect(batch.xs.shape).toEqual([3, 28, 28, 1]);
    expect(batch.ys.dtype).toBe('int32');
    const ids = await idsOf(batch.xs);
    expect(ids.slice().sort()).toEqual([0, 1, 2]);
    const xs = await batch.xs.data();
    const ys = await batch.ys.data();
    ids.forEach((id, b) => {
      expect(ys[b]).toBe(id % 10);
      // 10 * id / 255 in float32, e.g. id 2 -> 20 / 255 = 0.0784313...
      expect(xs[b * 784 + 783]).toBe(Math.fround((10 * id) / 255));
    });
    batch.dispose();
  });

  it('gives flat [b, 784] batches when the model wants them', () => {
    const sampler = new BatchSampler(rampDataset(4), { seed: 0, exampleShape: [784] });
    const batch = sampler.nextBatch(2);
    expect(batch.xs.shape).toEqual([2, 784]);
    batch.dispose();
  });

  it('visits each example once per epoch, continuing into the next epoch', async () => {
    const sampler = new BatchSampler(rampDataset(10), { seed: 5 });
    const seen: number[] = [];
    for (let k = 0; k < 3; k++) {
      const batch = sampler.nextBatch(4); // 12 examples: epoch 0 (10) + 2 of epoch 1
      seen.push(...(await idsOf(batch.xs)));
      batch.dispose();
    }
    expect(seen.slice(0, 10).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(sampler.epoch).toBe(1);
    expect(new Set(seen.slice(10)).size).toBe(2);
  });

  it('is deterministic per seed', async () => {
    const draw = async (seed: number) => {
      const sampler = new BatchSampler(rampDataset(50), { seed });
      const batch = sampler.nextBatch(50);
      const ids = await idsOf(batch.xs);
      batch.dispose();
      return ids;
    };
    expect(await draw(1)).toEqual(await draw(1));
    expect(await draw(1)).not.toEqual(await draw(2));
  });

  it('refuses to refill under a live batch, without advancing', async () => {
    const sampler = new BatchSampler(rampDataset(10), { seed: 5 });
    const reference = new BatchSampler(rampDataset(10), { seed: 5 });
    const first = sampler.nextBatch(3);
    const before = await first.xs.data();
    expect(() => sampler.nextBatch(3)).toThrow(
      expect.objectContaining({ code: 'previous-batch-alive' }),
    );
    expect(await first.xs.data()).toEqual(before);
    first.dispose();
    reference.nextBatch(3).dispose();
    const second = sampler.nextBatch(3);
    const expected = reference.nextBatch(3);
    expect(await idsOf(second.xs)).toEqual(await idsOf(expected.xs));
    second.dispose();
    expected.dispose();
  });

  it('creates only the two batch tensors and leaks nothing', () => {
    const sampler = new BatchSampler(rampDataset(10), { seed: 0 });
    const before = tf.memory().numTensors;
    for (let k = 0; k < 5; k++) {
      const batch = sampler.nextBatch(7);
      expect(tf.memory().numTensors).toBe(before + 2);
      batch.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects bad batch sizes, shapes and empty sets', () => {
    const sampler = new BatchSampler(rampDataset(2), { seed: 0 });
    for (const size of [0, -1, 1.5]) {
      expect(() => sampler.nextBatch(size)).toThrow(
        expect.objectContaining({ code: 'invalid-batch-size' }),
      );
    }
    expect(() => new BatchSampler(rampDataset(2), { seed: 0, exampleShape: [28, 27] })).toThrow(
      BatcherError,
    );
    expect(() => new BatchSampler(rampDataset(0), { seed: 0 })).toThrow(
      expect.objectContaining({ code: 'empty-dataset' }),
    );
    const buffer = new BatchBuffer(DATASET_INFO.mnist, [784]);
    buffer.prepare(2);
    expect(() => {
      buffer.put(0, rampDataset(2), 2);
    }).toThrow(expect.objectContaining({ code: 'index-out-of-range' }));
    expect(() => {
      buffer.put(2, rampDataset(2), 0);
    }).toThrow(expect.objectContaining({ code: 'index-out-of-range' }));
    expect(() => new BatchBuffer(DATASET_INFO.mnist, [785])).toThrow(
      expect.objectContaining({ code: 'shape-mismatch' }),
    );
  });
});
