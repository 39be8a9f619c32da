import * as tf from '@tensorflow/tfjs';

/**
 * Pixelwise softmax cross-entropy over logits, averaged over the pixels that
 * count: labels equal to `ignoreIndex` add nothing to the sum nor to the
 * divisor. With class weights the divisor is the summed weight of the valid
 * pixels, as PyTorch's weighted mean does.
 *
 * Takes logits [B, H, W, C] and labels int32 [B, H, W]; gives a scalar.
 * An all-ignore batch gives 0 (not NaN).
 */
export function pixelCrossEntropy(
  logits: tf.Tensor4D,
  labels: tf.Tensor3D,
  ignoreIndex = 255,
  classWeights: readonly number[] | null = null,
): tf.Scalar {
  return tf.tidy(() => {
    const numClasses = logits.shape[3];
    const valid = tf.notEqual(labels, ignoreIndex); // [B, H, W]
    const safe = tf.where(valid, labels, tf.zerosLike(labels)); // ignore → class 0, masked below
    const oneHot = tf.oneHot(tf.reshape(safe, [-1]), numClasses); // [N, C]
    const logp = tf.logSoftmax(tf.reshape(logits, [-1, numClasses])); // [N, C]
    let w = tf.cast(tf.reshape(valid, [-1]), 'float32'); // [N]
    if (classWeights) w = tf.mul(w, tf.sum(tf.mul(oneHot, tf.tensor1d(classWeights as number[])), 1));
    const nll = tf.neg(tf.sum(tf.mul(oneHot, logp), 1)); // [N]
    return tf.div<tf.Scalar>(tf.sum(tf.mul(nll, w)), tf.maximum(tf.sum(w), 1e-12));
  });
}
