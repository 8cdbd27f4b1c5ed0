import * as tf from '@tensorflow/tfjs';

/**
 * Per-example softmax cross-entropy on logits z (shape [b, classes]) against
 * integer labels y: loss_i = logsumexp(z_i) - z_i[y_i] = -log softmax(z_i)[y_i].
 * tfjs's softmaxCrossEntropy evaluates the logsumexp with the max subtracted and
 * has the closed-form gradient softmax(z) - onehot(y), so large logits neither
 * overflow nor produce log(0).
 *
 * @param logits - [b, classes] raw model outputs.
 * @param labels - [b] int32 class indices.
 * @returns [b] losses in nats.
 */
export function softmaxCrossEntropyPerExample(logits: tf.Tensor, labels: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const classes = logits.shape[1] ?? 0;
    const oneHot = tf.oneHot(labels, classes);
    return tf.losses.softmaxCrossEntropy<tf.Tensor, tf.Tensor1D>(
      oneHot,
      logits,
      undefined,
      0,
      tf.Reduction.NONE,
    );
  });
}
