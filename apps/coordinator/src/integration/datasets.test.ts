import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { useFastestNodeBackend } from '@vtrain/ml/node';
import {
  DatasetDescriptionSchema,
  type DatasetDescription,
  type RunConfigInput,
} from '@vtrain/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDatasetFile } from '../datasets/dataset-file.js';
import { blobsFile, datasetFile } from '../datasets/test-support/blobs.js';
import type { ExportManifest } from '../export/manifest.js';
import { TestCoordinator, waitFor } from './harness.js';
import { startSimWorker } from './sim-worker.js';

/*
 * Acceptance of "bring your own data": a researcher uploads a safetensors file (written by
 * the project's writer, whose bytes dataset-store.test.ts checks against Python's format),
 * a run trains on it with headless workers to 90% on its held-out examples, and the
 * exported tfjs model, loaded by plain tfjs, scores on those examples exactly what the
 * coordinator's final evaluation said.
 */

const LIMIT = 1024 * 1024;
const EXAMPLES = 1500; // 1350 to train, 150 held out; x is 1500 x 20 F32 (120 KB)

let coordinator: TestCoordinator;

async function upload(
  bytes: Uint8Array,
  query = '?name=blobs',
  token: string | null = coordinator.token,
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${coordinator.url}/api/datasets${query}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/octet-stream',
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
    },
    body: bytes,
  });
  return { status: response.status, body: await response.json() };
}

function blobsRun(id: string, overrides: Partial<RunConfigInput> = {}): RunConfigInput {
  return {
    name: 'blobs',
    seed: 3,
    model: { kind: 'mlp', hiddenUnits: [16] },
    dataset: { name: 'upload', id, shards: 2 },
    training: { batchSize: 32, workerOptimizer: { kind: 'sgd', learningRate: 0.1 } },
    compression: { density: 0.25 },
    schedule: { kind: 'async' },
    evaluation: { everyVersions: 20 },
    stop: { targetAccuracy: 0.9, maxVersions: 3000 },
    ...overrides,
  };
}

async function files(): Promise<string[]> {
  return (await readdir(join(coordinator.dataDir, 'datasets'))).sort();
}

beforeAll(async () => {
  await useFastestNodeBackend();
  coordinator = await TestCoordinator.start({ datasetMaxBytes: LIMIT });
});
afterAll(async () => {
  await coordinator.stop();
});

describe('uploaded data sets', () => {
  let dataset: DatasetDescription;

  it('takes an upload with the token, lists and describes it', async () => {
    expect((await upload(blobsFile(EXAMPLES), '', null)).status).toBe(401);
    const { status, body } = await upload(blobsFile(EXAMPLES));
    expect(status).toBe(201);
    dataset = DatasetDescriptionSchema.parse(body);
    expect(dataset).toMatchObject({
      name: 'blobs',
      examples: 1350,
      testExamples: 150,
      testSet: 'held-out',
      inputShape: [20],
      inputDtype: 'f32',
      classes: 3,
      bytes: blobsFile(EXAMPLES).length,
    });
    expect((await coordinator.api('/api/datasets')).body).toEqual([dataset]);
    expect((await coordinator.api(`/api/datasets/${dataset.id}`)).body).toEqual(dataset);
    expect(await files()).toEqual([`${dataset.id}.json`, `${dataset.id}.safetensors`]);
  });

  it('refuses a bad file with 400 naming the problem, one over the limit with 413, and keeps nothing', async () => {
    const extra = datasetFile([
      { name: 'x', shape: [2, 1], data: Float32Array.of(0, 1) },
      { name: 'y', shape: [2], data: Uint8Array.of(0, 1) },
      { name: 'mask', shape: [2], data: Uint8Array.of(1, 1) },
    ]);
    const refused = await upload(extra);
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: 'invalid-dataset', code: 'extra-tensor' });
    expect((refused.body as { message: string }).message).toMatch(/^extra-tensor: .*\("mask"\)$/);
    const tooLarge = await upload(new Uint8Array(LIMIT + 1));
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body).toMatchObject({ error: 'dataset-too-large', code: 'too-large' });
    expect((tooLarge.body as { message: string }).message).toMatch(/limit is 1048576/);
    expect(await files()).toEqual([`${dataset.id}.json`, `${dataset.id}.safetensors`]);
    expect((await coordinator.api('/api/datasets')).body).toEqual([dataset]);
  });

  it('refuses runs whose model does not fit the data, naming the field', async () => {
    const cnn = await coordinator.api('/api/runs', {
      method: 'POST',
      body: blobsRun(dataset.id, { model: { kind: 'cnn', filters: [4] } }),
    });
    interface Refusal {
      issues: { path: string; message: string }[];
    }
    expect(cnn.status).toBe(400);
    expect((cnn.body as Refusal).issues[0]?.path).toBe('model');
    expect((cnn.body as Refusal).issues[0]?.message).toMatch(
      /cnn needs \(height, width, channels\)/,
    );
    const topology = tf
      .sequential({
        layers: [tf.layers.dense({ inputShape: [20], units: 4 })], // 4 outputs, the set has 3 classes
      })
      .toJSON(undefined, false) as Record<string, unknown>;
    const custom = await coordinator.api('/api/runs', {
      method: 'POST',
      body: blobsRun(dataset.id, { model: { kind: 'custom', topology } }),
    });
    expect(custom.status).toBe(400);
    expect((custom.body as Refusal).issues[0]?.path).toBe('model');
    expect((custom.body as Refusal).issues[0]?.message).toMatch(/\[null,3\]/);
    const unknown = await coordinator.api('/api/runs', {
      method: 'POST',
      body: blobsRun('0f8fad5b-d9cb-469f-a165-70867728950e'),
    });
    expect(unknown).toMatchObject({ status: 400, body: { issues: [{ path: 'dataset.id' }] } });
  });

  it('trains a run on it to 90% of its held-out examples; the export scores the same', async () => {
    const id = await coordinator.createRun(blobsRun(dataset.id));
    // An active run holds its data set.
    expect(
      (await coordinator.api(`/api/datasets/${dataset.id}`, { method: 'DELETE' })).status,
    ).toBe(409);
    const workers = await Promise.all(
      [1, 2].map((seed) => startSimWorker(coordinator.url, { seed })),
    );
    const ended = await waitFor('the run to reach its target', 240_000, async () => {
      const run = await coordinator.run(id);
      return run.status === 'active' ? undefined : run;
    });
    await Promise.all(workers.map((worker) => worker.stop()));
    expect(ended.status).toBe('completed');
    expect(coordinator.coordinator.manager.storedRun(id)?.endedReason).toBe('target-reached');
    const final = ended.evaluation;
    expect(final).toMatchObject({ version: ended.version, testSet: 'full', testExamples: 150 });
    expect(final?.testAccuracy).toBeGreaterThanOrEqual(0.9);
    console.log(
      `datasets: held-out accuracy ${final?.testAccuracy} at version ${ended.version} (${final?.testExamples} examples)`,
    );

    const get = async (file: string) => {
      const response = await fetch(`${coordinator.url}/api/runs/${id}/export/${file}`, {
        headers: { authorization: `Bearer ${coordinator.token}` },
      });
      expect(response.status).toBe(200);
      return new Uint8Array(await response.arrayBuffer());
    };
    const manifest = JSON.parse(
      new TextDecoder().decode(await get('manifest.json')),
    ) as ExportManifest;
    expect(manifest.dataset).toEqual({
      name: 'upload',
      inputShape: [20],
      inputDtype: 'f32',
      classes: 3,
      upload: {
        id: dataset.id,
        name: 'blobs',
        sha256: dataset.sha256,
        examples: 1350,
        testExamples: 150,
        testSet: 'held-out',
      },
    });
    expect(manifest.evaluation?.testAccuracy).toBe(final?.testAccuracy);

    // Plain tfjs: the model.json and weights.bin as downloaded, the held-out examples as the
    // coordinator cut them from the file.
    const modelJson = JSON.parse(new TextDecoder().decode(await get('tfjs/model.json'))) as {
      modelTopology: object;
      weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[];
    };
    const weightsBin = await get('tfjs/weights.bin');
    const model = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: modelJson.modelTopology,
        weightSpecs: modelJson.weightsManifest[0]?.weights,
        weightData: weightsBin.slice().buffer,
      }),
    );
    expect(model.inputs[0]?.shape).toEqual([null, 20]);
    expect(model.outputs[0]?.shape).toEqual([null, 3]);
    const { test } = await loadDatasetFile(
      join(coordinator.dataDir, 'datasets', `${dataset.id}.safetensors`),
      dataset.sha256,
    );
    const correct = tf.tidy(() => {
      const logits = model.predict(
        tf.tensor2d(test.images as Float32Array, [test.count, 20]),
      ) as tf.Tensor;
      return logits
        .argMax(-1)
        .equal(tf.tensor1d(Int32Array.from(test.labels), 'int32'))
        .sum()
        .dataSync()[0];
    });
    model.dispose();
    expect((correct ?? 0) / test.count).toBe(final?.testAccuracy);

    // No active run uses it now: it may go.
    expect(
      (await coordinator.api(`/api/datasets/${dataset.id}`, { method: 'DELETE', token: null }))
        .status,
    ).toBe(401);
  });

  it('survives a restart; a run resumes only on the bytes it began with', async () => {
    const id = await coordinator.createRun(blobsRun(dataset.id, { stop: { maxVersions: 10_000 } }));
    await coordinator.restart();
    expect((await coordinator.api('/api/datasets')).body).toEqual([dataset]);
    expect((await coordinator.run(id)).status).toBe('active');
    // The file changes on disk (same length, other values): the run cannot resume on it.
    await writeFile(
      join(coordinator.dataDir, 'datasets', `${dataset.id}.safetensors`),
      blobsFile(EXAMPLES, 9),
    );
    await coordinator.restart();
    const failed = await coordinator.run(id);
    expect(failed.status).toBe('failed');
    expect(coordinator.coordinator.manager.storedRun(id)?.endedReason).toMatch(/checksum-mismatch/);
    expect(
      (await coordinator.api(`/api/datasets/${dataset.id}`, { method: 'DELETE' })).body,
    ).toEqual({ ok: true });
    expect((await coordinator.api(`/api/datasets/${dataset.id}`)).status).toBe(404);
    expect(await files()).toEqual([]);
  });
});
