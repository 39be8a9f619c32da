import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../data/types';
import { pixelCrossEntropy } from '../model/loss';
import { batchTensors } from '../model/preprocess';

export interface BatchScores {
  /** Argmax class per pixel, [B, H, W]. */
  preds: Int32Array;
  /** Data loss of each image over its valid pixels, [B]. */
  losses: Float32Array;
  /** p(probClass) per pixel, [B, H, W], when asked for. */
  probs: Float32Array | null;
}

/**
 * The model (inference mode) on one batch: predictions, per-image loss and,
 * optionally, one class's probabilities, read back as plain arrays. Shared by
 * validation and the worst-images search; no tensor outlives the call.
 */
export async function scoreBatch(
  model: tf.LayersModel,
  batch: Batch,
  ignoreIndex: number,
  probClass: number | null = null,
): Promise<BatchScores> {
  const n = batch.ids.length;
  const out = tf.tidy(() => {
    const { x, y } = batchTensors(batch);
    const logits = model.predict(x) as tf.Tensor4D; // [B, H, W, C]
    const losses = tf.stack(
      Array.from({ length: n }, (_, i) => pixelCrossEntropy(logits.slice([i], [1]), y.slice([i], [1]), ignoreIndex)),
    );
    const t: tf.NamedTensorMap = { preds: tf.argMax(logits, 3), losses };
    if (probClass !== null) t.probs = tf.softmax(logits).gather([probClass], 3);
    return t;
  }) as { preds: tf.Tensor; losses: tf.Tensor; probs?: tf.Tensor };
  const [preds, losses, probs] = await Promise.all([
    out.preds.data() as Promise<Int32Array>,
    out.losses.data() as Promise<Float32Array>,
    out.probs ? (out.probs.data() as Promise<Float32Array>) : Promise.resolve(null),
  ]);
  tf.dispose(Object.values(out));
  return { preds, losses, probs };
}
