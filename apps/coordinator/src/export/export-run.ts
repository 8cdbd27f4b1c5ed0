import type * as tf from '@tensorflow/tfjs';
import { parameterLayout, encodeSafetensors } from '@vtrain/ml';
import {
  EXPORT_FILE_NAMES,
  type Evaluation,
  type ExportFileName,
  type MetricsPoint,
} from '@vtrain/protocol';
import type { StoredRun } from '../store/store.js';
import { ExportError } from './export-error.js';
import { buildManifest, type ManifestDataset } from './manifest.js';
import { exportTfjs } from './tfjs-export.js';

// The file names are part of the HTTP API, shared with the dashboard.
export { EXPORT_FILE_NAMES, type ExportFileName };

/** Every file of an export as bytes, keyed by its path, in {@link EXPORT_FILE_NAMES} order. */
export type ExportFiles = ReadonlyMap<ExportFileName, Uint8Array>;

/** Input of {@link exportRun}. */
export interface ExportRunInput {
  run: StoredRun;
  /** A model built from the run's config; its weights are overwritten with `weights`. */
  model: tf.LayersModel;
  /** The flat global weights, in `parameterLayout(model)` order. */
  weights: Float32Array;
  /** The whole-test-set evaluation of these weights (`run.version`), if there is one. */
  evaluation: Evaluation | undefined;
  /** The run's latest metrics point, if any. */
  metrics: MetricsPoint | undefined;
  /** The run's data set: shapes and classes, an uploaded set's id and hash. */
  dataset: ManifestDataset;
  /** Milliseconds since the Unix epoch. */
  exportedAt: number;
}

/**
 * Exports a run's weights (docs/architecture.md#around-the-update) as:
 *
 * - `tfjs/model.json` + `tfjs/weights.bin`: a TensorFlow.js layers model ({@link exportTfjs});
 * - `model.safetensors`: one F32 tensor per trainable weight, named and shaped as in
 *   `parameterLayout(model)` (`hidden_0/kernel` [784, 128], in tfjs's layout: Dense kernels
 *   are [in, out], Conv2D kernels [h, w, in, out]), with the run in `__metadata__`;
 * - `manifest.json`: {@link buildManifest} over the three files above.
 *
 * JSON files are UTF-8; the manifest is indented and ends with a newline for people.
 *
 * @throws {@link ExportError} `invalid-argument` when the weights' length differs from the
 *   run's parameter count; `FlatWeightsError` (`@vtrain/ml`) when they do not fit the model or
 *   are not finite.
 */
export async function exportRun(input: ExportRunInput): Promise<ExportFiles> {
  const { run, model, weights, evaluation, metrics, dataset, exportedAt } = input;
  if (weights.length !== run.parameterCount) {
    throw new ExportError(
      'invalid-argument',
      `${weights.length} weights for run ${JSON.stringify(run.id)} of ${run.parameterCount} parameters`,
    );
  }
  const tfjs = await exportTfjs(model, weights);
  const tensors = parameterLayout(model).map((slice) => ({
    name: slice.name,
    shape: [...slice.shape],
    data: weights.subarray(slice.offset, slice.offset + slice.size),
  }));
  const safetensors = encodeSafetensors(tensors, {
    producer: 'vtrain',
    runId: run.id,
    runName: run.name,
    version: String(run.version),
    parameterCount: String(run.parameterCount),
    model: JSON.stringify(run.config.model),
    dataset: run.config.dataset.name,
    ...(dataset.upload
      ? { datasetId: dataset.upload.id, datasetSha256: dataset.upload.sha256 }
      : {}),
    inputShape: JSON.stringify(dataset.inputShape),
    classes: String(dataset.classes),
    tensorLayout: 'tfjs: Dense kernels [in, out], Conv2D kernels [height, width, in, out]',
  });
  const utf8 = new TextEncoder();
  const files = new Map<ExportFileName, Uint8Array>([
    ['tfjs/model.json', utf8.encode(JSON.stringify(tfjs.modelJson))],
    ['tfjs/weights.bin', tfjs.weightsBin],
    ['model.safetensors', safetensors],
  ]);
  const manifest = buildManifest({
    run,
    evaluation,
    metrics,
    dataset,
    files: [...files].map(([name, bytes]) => ({ name, bytes })),
    exportedAt,
  });
  files.set('manifest.json', utf8.encode(`${JSON.stringify(manifest, null, 2)}\n`));
  return files;
}
