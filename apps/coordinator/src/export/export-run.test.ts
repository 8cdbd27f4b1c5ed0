import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as tf from '@tensorflow/tfjs';
import {
  DATASET_INFO,
  FlatWeightsError,
  buildModel,
  parameterLayout,
  readFlatWeights,
  parseSafetensors,
} from '@vtrain/ml';
import {
  RunConfigSchema,
  type Evaluation,
  type MetricsPoint,
  type ModelSpec,
} from '@vtrain/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredRun } from '../store/store.js';
import { ExportError } from './export-error.js';
import {
  EXPORT_FILE_NAMES,
  exportRun,
  type ExportFileName,
  type ExportFiles,
} from './export-run.js';
import type { ExportManifest } from './manifest.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function bits(values: Float32Array): number[] {
  return [...new Uint32Array(values.buffer, values.byteOffset, values.length)];
}

/** Deterministic, distinct weights in [-0.5, 0.5]: sin(12.9898 i) / 2. */
function flatWeights(count: number): Float32Array {
  return Float32Array.from({ length: count }, (_, i) => Math.sin(12.9898 * i) / 2);
}

/** A batch of 5 images with values in [0, 1]: ((7 j) mod 256) / 255. */
function inputBatch(): tf.Tensor {
  return tf.tensor4d(
    Float32Array.from({ length: 5 * 28 * 28 }, (_, j) => ((7 * j) % 256) / 255),
    [5, 28, 28, 1],
  );
}

function storedRun(model: ModelSpec, parameterCount: number): StoredRun {
  return {
    id: 'run-7',
    name: 'export test',
    status: 'completed',
    config: RunConfigSchema.parse({
      name: 'export test',
      model,
      schedule: { kind: 'async' },
      stop: { maxVersions: 10 },
    }),
    createdAt: 1_600_000_000_000,
    parameterCount,
    version: 10,
    elapsedSeconds: 3.5,
    endedReason: 'max versions',
  };
}

const finalPoint: MetricsPoint = {
  runId: 'run-7',
  at: 1_600_000_100_000,
  elapsedSeconds: 3.5,
  version: 10,
  testLoss: 0.5,
  testAccuracy: 0.875,
  phase: 'async',
  k: 1,
  activeWorkers: 2,
  localSteps: 1,
  staleness: { p50: 0, p90: 1, max: 2, counts: [5, 4, 1] },
  updatesApplied: 10,
  updatesRejected: {},
  samples: 320,
  bytesIn: 1000,
  bytesOut: 2000,
};

const finalEvaluation: Evaluation = {
  version: 10,
  at: 1_600_000_100_000,
  testLoss: 0.5,
  testAccuracy: 0.875,
  testExamples: 10_000,
  testSet: 'full',
};

/** Serves `files` at `/<name>` on 127.0.0.1, port 0; records the paths asked for. */
async function serve(
  files: ExportFiles,
): Promise<{ base: string; server: Server; asked: string[] }> {
  const asked: string[] = [];
  const byPath = new Map<string, Uint8Array>(
    [...files].map(([name, bytes]) => [`/${name}`, bytes]),
  );
  const server = createServer((request, response) => {
    const path = request.url ?? '';
    asked.push(path);
    const body = byPath.get(path);
    if (body === undefined) {
      response.writeHead(404).end();
      return;
    }
    const type = path.endsWith('.json') ? 'application/json' : 'application/octet-stream';
    response.writeHead(200, { 'content-type': type, 'content-length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { base: `http://127.0.0.1:${port}`, server, asked };
}

const servers: Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
});

describe.each<[string, ModelSpec]>([
  ['MLP 784-16-8-10', { kind: 'mlp', hiddenUnits: [16, 8] }],
  ['CNN with 2 and 3 filters', { kind: 'cnn', filters: [2, 3] }],
])('exportRun of a %s', (_, spec) => {
  let model: tf.LayersModel;
  let weights: Float32Array;
  let files: ExportFiles;
  const file = (name: ExportFileName): Uint8Array => {
    const bytes = files.get(name);
    if (bytes === undefined) throw new Error(`no ${name} in the export`);
    return bytes;
  };

  beforeAll(async () => {
    model = await buildModel(spec, DATASET_INFO.mnist, 3);
    const count = parameterLayout(model).reduce((sum, slice) => sum + slice.size, 0);
    weights = flatWeights(count);
    files = await exportRun({
      run: storedRun(spec, count),
      model,
      weights,
      evaluation: finalEvaluation,
      metrics: finalPoint,
      dataset: { name: 'mnist', inputShape: [28, 28, 1], inputDtype: 'u8', classes: 10 },
      exportedAt: 1_700_000_000_000,
    });
  });

  it('produces exactly the four files, in the documented order', () => {
    expect([...files.keys()]).toEqual([...EXPORT_FILE_NAMES]);
  });

  it('loads with plain tf.loadLayersModel over HTTP and predicts bit-identical logits', async () => {
    const { base, server, asked } = await serve(files);
    servers.push(server);
    const loaded = await tf.loadLayersModel(`${base}/tfjs/model.json`);
    expect(asked).toEqual(['/tfjs/model.json', '/tfjs/weights.bin']);
    expect(bits(await readFlatWeights(loaded))).toEqual(bits(weights));

    const input = inputBatch();
    const expected = model.predict(input) as tf.Tensor;
    const got = loaded.predict(input) as tf.Tensor;
    expect(got.shape).toEqual([5, 10]);
    // Same backend, same weights, same graph: the logits agree to the bit, not just to 1e-6.
    expect(bits((await got.data()) as Float32Array)).toEqual(
      bits((await expected.data()) as Float32Array),
    );
    tf.dispose([input, expected, got]);
    loaded.dispose();
  });

  it('writes a standard model.json', () => {
    const json = JSON.parse(new TextDecoder().decode(file('tfjs/model.json'))) as Record<
      string,
      unknown
    >;
    expect(json.format).toBe('layers-model');
    expect(json.convertedBy).toBe('vtrain');
    expect(json.generatedBy).toMatch(/^TensorFlow\.js tfjs-layers v4\./);
    const manifest = json.weightsManifest as { paths: string[]; weights: { name: string }[] }[];
    expect(manifest).toHaveLength(1);
    expect(manifest[0]?.paths).toEqual(['weights.bin']);
    // Every trainable weight is in the manifest, 4 bytes each: weights.bin is 4 P bytes.
    expect(manifest[0]?.weights.map((w) => w.name)).toEqual(
      parameterLayout(model).map((slice) => slice.name),
    );
    expect(file('tfjs/weights.bin').length).toBe(4 * weights.length);
  });

  it('writes safetensors holding the layout tensors bit-exactly', () => {
    const parsed = parseSafetensors(file('model.safetensors'));
    const layout = parameterLayout(model);
    expect(parsed.tensors.map((t) => [t.name, t.shape])).toEqual(
      layout.map((slice) => [slice.name, slice.shape]),
    );
    parsed.tensors.forEach((tensor, i) => {
      const slice = layout[i];
      if (slice === undefined) throw new Error(`no slice ${i}`);
      expect(bits(tensor.data)).toEqual(
        bits(weights.subarray(slice.offset, slice.offset + slice.size)),
      );
    });
    expect(parsed.metadata).toMatchObject({
      producer: 'vtrain',
      runId: 'run-7',
      version: '10',
      dataset: 'mnist',
      model: JSON.stringify(storedRun(spec, weights.length).config.model),
    });
  });

  it('writes a manifest whose hashes are the SHA-256 of the other files', () => {
    const manifest = JSON.parse(new TextDecoder().decode(file('manifest.json'))) as ExportManifest;
    const expectedFiles = (
      ['tfjs/model.json', 'tfjs/weights.bin', 'model.safetensors'] as const
    ).map((name) => ({
      name,
      bytes: file(name).length,
      sha256: createHash('sha256').update(file(name)).digest('hex'),
    }));
    expect(manifest.files).toEqual(expectedFiles);
    expect(manifest.exportedAt).toBe('2023-11-14T22:13:20.000Z');
    expect(manifest.run.createdAt).toBe('2020-09-13T12:26:40.000Z');
    expect(manifest.run.config).toEqual(storedRun(spec, weights.length).config);
    expect(manifest.run.endedReason).toBe('max versions');
    expect(manifest.formatVersion).toBe(3);
    expect(manifest.dataset).toEqual({
      name: 'mnist',
      inputShape: [28, 28, 1],
      inputDtype: 'u8',
      classes: 10,
    });
    expect(manifest.evaluation).toEqual(finalEvaluation);
    expect(manifest.metrics).toEqual(finalPoint);
  });
});

describe('exportRun input checks', () => {
  it('refuses weights that do not fit the run or the model', async () => {
    const spec: ModelSpec = { kind: 'mlp', hiddenUnits: [4] };
    const model = await buildModel(spec, DATASET_INFO.mnist, 1);
    // 784 * 4 + 4 + 4 * 10 + 10 = 3190 parameters.
    const input = {
      run: storedRun(spec, 3190),
      model,
      evaluation: undefined,
      metrics: undefined,
      dataset: {
        name: 'mnist' as const,
        inputShape: [28, 28, 1],
        inputDtype: 'u8' as const,
        classes: 10,
      },
      exportedAt: 0,
    };
    await expect(exportRun({ ...input, weights: new Float32Array(3189) })).rejects.toThrow(
      ExportError,
    );
    const nonFinite = new Float32Array(3190);
    nonFinite[17] = Number.POSITIVE_INFINITY;
    await expect(exportRun({ ...input, weights: nonFinite })).rejects.toSatisfy(
      (error) => error instanceof FlatWeightsError && error.code === 'non-finite',
    );
    const files = await exportRun({ ...input, weights: new Float32Array(3190) });
    const manifestBytes = files.get('manifest.json') ?? new Uint8Array(0);
    const manifest = JSON.parse(new TextDecoder().decode(manifestBytes)) as ExportManifest;
    expect(manifest.metrics).toBeNull();
    expect(manifest.evaluation).toBeNull();
  });
});
