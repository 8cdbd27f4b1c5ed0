import type * as tf from '@tensorflow/tfjs';
import { pixelsPerExample, type DatasetInfo } from '../data/dataset-info.js';
import { ModelSpecError } from './model-spec-error.js';

/**
 * The per-example input shape of `model` (its input shape without the batch
 * dimension), checked to take the examples of `info`: either the image shape
 * shape ([h, w, c] for images) or its flat [h * w * c]. This is what a {@link BatchSampler} is
 * given, so a topology that wants flat vectors gets them without a reshape layer.
 *
 * @throws {@link ModelSpecError} `input-shape` for several inputs or any other shape.
 */
export function modelExampleShape(model: tf.LayersModel, info: DatasetInfo): number[] {
  if (model.inputs.length !== 1) {
    throw new ModelSpecError(
      'input-shape',
      `the model has ${model.inputs.length} inputs, expected 1`,
    );
  }
  const shape = model.inputs[0].shape;
  const example = shape.slice(1);
  const image = [...info.inputShape];
  const flat = [pixelsPerExample(info)];
  const matches = (expected: readonly number[]) =>
    example.length === expected.length && example.every((d, i) => d === expected[i]);
  if (shape[0] !== null || !(matches(image) || matches(flat))) {
    throw new ModelSpecError(
      'input-shape',
      `input shape ${formatShape(shape)}, expected ${formatShape([null, ...image])} or ${formatShape([null, ...flat])} for ${info.name}`,
    );
  }
  return example as number[];
}

/** A shape as tfjs prints it, with null for a free dimension: "[null,28,28,1]". */
export function formatShape(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => (d === null ? 'null' : String(d))).join(',')}]`;
}
