import * as tf from '@tensorflow/tfjs';
import { writeFlatWeights } from '@vtrain/ml';
import { ExportError } from './export-error.js';

/** File name the manifest of an exported model.json points its weights to. */
export const TFJS_WEIGHTS_FILE = 'weights.bin';

/** A TensorFlow.js layers model as the two files `tf.loadLayersModel` fetches. */
export interface TfjsExport {
  /** The `model.json` object: topology plus a manifest naming {@link TFJS_WEIGHTS_FILE}. */
  modelJson: tf.io.ModelJSON;
  /** Every weight of the model, in manifest order, as tfjs's own serialiser wrote it. */
  weightsBin: Uint8Array;
}

/**
 * Exports `model` with the flat weights `flat` as a standard TensorFlow.js layers model
 * (the format `tf.loadLayersModel` reads): writes `flat` into the model's trainable weights
 * (`writeFlatWeights`, layout of `parameterLayout`), then lets tfjs serialise it
 * (`model.save` with a capturing save handler), so topology, weight specs and byte order are
 * exactly tfjs's. Non-trainable weights (if a custom topology has any) are exported as the
 * model holds them.
 *
 * The model.json has `format: 'layers-model'`, tfjs's `generatedBy`, `convertedBy: 'vtrain'`,
 * `modelTopology`, and `weightsManifest: [{ paths: ['weights.bin'], weights: specs }]`:
 * serve the two files side by side and `tf.loadLayersModel('<base>/model.json')` loads them.
 *
 * Note: this overwrites the weights of `model`.
 *
 * @throws `FlatWeightsError` (`@vtrain/ml`) when `flat` does not fit the model or is not
 *   finite; {@link ExportError} `tfjs-save-failed` if tfjs hands over no layers topology.
 */
export async function exportTfjs(model: tf.LayersModel, flat: Float32Array): Promise<TfjsExport> {
  writeFlatWeights(model, flat);
  let captured: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler((artifacts) => {
      captured = artifacts;
      return Promise.resolve({ modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) });
    }),
  );
  if (captured?.modelTopology === undefined || captured.weightSpecs === undefined) {
    throw new ExportError('tfjs-save-failed', 'no topology or weight specs');
  }
  if (captured.modelTopology instanceof ArrayBuffer) {
    throw new ExportError('tfjs-save-failed', 'a binary (graph) topology');
  }
  const weightData = captured.weightData ?? new ArrayBuffer(0);
  const modelJson: tf.io.ModelJSON = {
    format: 'layers-model',
    generatedBy: captured.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version_layers}`,
    convertedBy: 'vtrain',
    modelTopology: captured.modelTopology,
    weightsManifest: [{ paths: [TFJS_WEIGHTS_FILE], weights: captured.weightSpecs }],
  };
  if (captured.trainingConfig !== undefined) modelJson.trainingConfig = captured.trainingConfig;
  return {
    modelJson,
    weightsBin: new Uint8Array(tf.io.CompositeArrayBuffer.join(weightData)),
  };
}
