import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../data/batcher.js';
import { softmaxCrossEntropyPerExample } from './loss.js';

/** The mean batch loss and its gradient with respect to the flat parameter vector. */
export interface GradientResult {
  /** L = (1/b) sum_i loss_i, softmax cross-entropy on logits, in nats. */
  readonly loss: number;
  /** dL/dw, length P, in the order of `parameterLayout(model)`. */
  readonly gradient: Float32Array;
}

/**
 * Computes the mean softmax cross-entropy of the model's logits on a batch
 * and its gradient with respect to every trainable weight (backprop via
 * `tf.variableGrads`, with `training: true` so dropout layers are active).
 *
 * One readback: the gradients are flattened, concatenated with the loss on
 * the backend into a vector [g (P values), L], and read with a single
 * `await data()` (never `dataSync`, the slow path on WebGPU). Every tensor it
 * creates is disposed; the batch stays the caller's.
 */
export async function computeGradient(
  model: tf.LayersModel,
  batch: Batch,
): Promise<GradientResult> {
  const variables = trainableVariables(model);
  const packed = tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => {
      const logits = model.apply(batch.xs, { training: true }) as tf.Tensor;
      return tf.mean<tf.Scalar>(softmaxCrossEntropyPerExample(logits, batch.ys));
    }, variables);
    return tf.concat([...variables.map((v) => grads[v.name].reshape([-1])), value.reshape([1])]);
  });
  try {
    const values = (await packed.data()) as Float32Array;
    const parameters = values.length - 1;
    return { loss: values[parameters], gradient: values.subarray(0, parameters) };
  } finally {
    packed.dispose();
  }
}

/**
 * The tf.Variable behind each trainable LayerVariable, in trainableWeights
 * order (the order of `parameterLayout`). tfjs-layers keeps it protected; the
 * engine registers it under the LayerVariable's unique name, which is where this
 * looks it up. The worker's local steps update these variables in place.
 *
 * @throws Error when a weight has no registered variable (the model was disposed).
 */
export function trainableVariables(model: tf.LayersModel): tf.Variable[] {
  const registered = tf.engine().registeredVariables;
  return model.trainableWeights.map((weight) => {
    const variable = registered[weight.name] as tf.Variable | undefined;
    if (variable === undefined) {
      throw new Error(`weight ${weight.name} has no registered variable (was the model disposed?)`);
    }
    return variable;
  });
}
