import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../data/types';

/**
 * The input transform Keras's VGG16 ImageNet weights expect ("caffe" mode):
 * RGB → BGR, minus the ImageNet channel means, no scaling.
 */
export const VGG_MEAN_BGR: readonly [number, number, number] = [103.939, 116.779, 123.68];

/**
 * Takes [B, H, W, 3] RGB uint8 (a data Batch's `images`), gives the float
 * [B, H, W, 3] tensor the encoder eats. Done on the host in one pass so only
 * one tensor is allocated on the backend.
 */
export function preprocessImages(rgb: Uint8Array, batch: number, height: number, width: number): tf.Tensor4D {
  const n = batch * height * width;
  if (rgb.length !== n * 3) {
    throw new RangeError(`preprocessImages: ${rgb.length} bytes is not ${batch}x${height}x${width}x3`);
  }
  const out = new Float32Array(n * 3);
  const [mb, mg, mr] = VGG_MEAN_BGR;
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    out[j] = rgb[j + 2] - mb;
    out[j + 1] = rgb[j + 1] - mg;
    out[j + 2] = rgb[j] - mr;
  }
  return tf.tensor4d(out, [batch, height, width, 3]);
}

/** The model's input and the int32 labels the loss takes, for training and validation alike. */
export function batchTensors(batch: Batch): { x: tf.Tensor4D; y: tf.Tensor3D } {
  const n = batch.ids.length;
  const x = preprocessImages(batch.images, n, batch.height, batch.width);
  const y = tf.tensor3d(Int32Array.from(batch.labels), [n, batch.height, batch.width], 'int32');
  return { x, y };
}
