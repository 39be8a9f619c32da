import * as tf from '@tensorflow/tfjs';
import type { LabelMap, RgbImage } from '../data/types';
import { padToStride } from '../model/config';
import { preprocessImages } from '../model/preprocess';

export interface Prediction {
  height: number;
  width: number;
  numClasses: number;
  /** Softmax probabilities [H, W, C] at the image's own resolution. */
  probs: Float32Array;
  /** Argmax class per pixel [H, W]. */
  labels: LabelMap;
}

export interface PredictOptions {
  /**
   * Run at this [height, width] (the training size: the scale the model
   * learned) and resize the probabilities back; null runs at the image's own
   * size, padded to a multiple of 32 and cropped back.
   */
  inputShape?: readonly [number, number] | null;
}

/**
 * Segments one image of any size. Takes an RGB image, gives probabilities
 * and labels at the image's full resolution. Allocates no lasting tensors.
 */
export async function predict(model: tf.LayersModel, image: RgbImage, opts: PredictOptions = {}): Promise<Prediction> {
  const { height: h, width: w } = image;
  const probs = tf.tidy(() => {
    const x = preprocessImages(image.data, 1, h, w);
    let logits: tf.Tensor4D;
    if (opts.inputShape) {
      const resized = tf.image.resizeBilinear(x, [opts.inputShape[0], opts.inputShape[1]], false, true);
      logits = tf.image.resizeBilinear(model.predict(resized) as tf.Tensor4D, [h, w], false, true);
    } else {
      // Pad bottom/right with zeros (= the mean colour after preprocessing) and crop the logits back.
      const ph = padToStride(h) - h;
      const pw = padToStride(w) - w;
      const padded =
        ph || pw
          ? tf.pad(x, [
              [0, 0],
              [0, ph],
              [0, pw],
              [0, 0],
            ])
          : x;
      logits = (model.predict(padded) as tf.Tensor4D).slice([0, 0, 0, 0], [1, h, w, -1]);
    }
    return tf.softmax(logits);
  });
  const numClasses = probs.shape[3];
  const data = (await probs.data()) as Float32Array;
  probs.dispose();
  const labels = new Uint8Array(h * w);
  for (let i = 0; i < h * w; i++) {
    let best = 0;
    for (let c = 1; c < numClasses; c++) if (data[i * numClasses + c] > data[i * numClasses + best]) best = c;
    labels[i] = best;
  }
  return { height: h, width: w, numClasses, probs: data, labels: { data: labels, height: h, width: w } };
}
