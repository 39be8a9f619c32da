import * as tf from '@tensorflow/tfjs';
import { createRng } from '../../src/data/rng';

/**
 * A four-block FCN small enough for a software GPU: every kernel FCN-8
 * training needs (conv2d, relu, maxPool, conv2dTranspose at strides 2 and 8,
 * add, softmax cross-entropy and their gradients), on a [2, 32, 32, 3] input.
 * Weights and data come from a seeded JS generator, not from a tfjs kernel,
 * so every backend starts from the same numbers.
 */
export const TINY_FCN_CLASSES = 3;
export const TINY_FCN_INPUT = [2, 32, 32, 3] as const;

/** Weight name → shape; kernels [kh, kw, in, out], transposed kernels [kh, kw, out, in]. */
export const TINY_FCN_SHAPES: Readonly<Record<string, readonly number[]>> = {
  conv1: [3, 3, 3, 8],
  conv1_b: [8],
  conv2: [3, 3, 8, 16],
  conv2_b: [16],
  conv3: [3, 3, 16, 16],
  conv3_b: [16],
  conv4: [3, 3, 16, 16],
  conv4_b: [16],
  score4: [1, 1, 16, TINY_FCN_CLASSES],
  score3: [1, 1, 16, TINY_FCN_CLASSES],
  upscore2: [4, 4, TINY_FCN_CLASSES, TINY_FCN_CLASSES],
  upscore8: [16, 16, TINY_FCN_CLASSES, TINY_FCN_CLASSES],
};

/** Standard normal values from a seeded uniform generator (Box-Muller). */
export function seededNormal(seed: number, n: number, std: number): Float32Array {
  const rng = createRng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = std * Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  }
  return out;
}

/** He-scaled kernels (std sqrt(2 / fan-in)) so activations neither vanish nor blow up; small biases. */
export function tinyFcnInitialValues(seed: number): Record<string, Float32Array> {
  const values: Record<string, Float32Array> = {};
  Object.entries(TINY_FCN_SHAPES).forEach(([name, shape], i) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const std = shape.length === 1 ? 0.1 : Math.sqrt(2 / (shape[0] * shape[1] * shape[shape.length - 2]));
    values[name] = seededNormal(seed * 100 + i, size, std);
  });
  return values;
}

/** Seeded images in [-1, 1] and labels in [0, classes). */
export function tinyFcnBatch(seed: number): { images: Float32Array; labels: Int32Array } {
  const [b, h, w, c] = TINY_FCN_INPUT;
  const rng = createRng(seed);
  const images = Float32Array.from({ length: b * h * w * c }, () => 2 * rng() - 1);
  const labels = Int32Array.from({ length: b * h * w }, () => Math.floor(rng() * TINY_FCN_CLASSES));
  return { images, labels };
}

export type TinyFcnVariables = Record<keyof typeof TINY_FCN_SHAPES, tf.Variable>;

/** Variables on the active backend, named with `prefix` so two sets can coexist. */
export function createTinyFcnVariables(values: Record<string, Float32Array>, prefix: string): TinyFcnVariables {
  const vars: Record<string, tf.Variable> = {};
  for (const [name, shape] of Object.entries(TINY_FCN_SHAPES)) {
    vars[name] = tf.variable(tf.tensor(values[name], [...shape]), true, `${prefix}/${name}`);
  }
  return vars;
}

/** Logits [B, H, W, classes]. */
export function tinyFcnForward(v: TinyFcnVariables, images: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const block = (x: tf.Tensor4D, k: string) =>
      tf.maxPool(
        tf.relu(tf.add(tf.conv2d(x, v[k] as tf.Tensor4D, 1, 'same'), v[`${k}_b`])) as tf.Tensor4D,
        2,
        2,
        'same',
      );
    const pool1 = block(images, 'conv1'); // [B, 16, 16, 8]
    const pool2 = block(pool1, 'conv2'); // [B, 8, 8, 16]
    const pool3 = block(pool2, 'conv3'); // [B, 4, 4, 16]
    const pool4 = block(pool3, 'conv4'); // [B, 2, 2, 16]
    const [b, h, w] = images.shape;
    const c = TINY_FCN_CLASSES;
    const score4 = tf.conv2d(pool4, v.score4 as tf.Tensor4D, 1, 'same');
    const upscore2 = tf.conv2dTranspose(score4, v.upscore2 as tf.Tensor4D, [b, h / 8, w / 8, c], 2, 'same');
    const fuse: tf.Tensor4D = tf.add(upscore2, tf.conv2d(pool3, v.score3 as tf.Tensor4D, 1, 'same'));
    return tf.conv2dTranspose(fuse, v.upscore8 as tf.Tensor4D, [b, h, w, c], 8, 'same');
  });
}

/** Mean softmax cross-entropy over pixels. */
export function pixelLoss(logits: tf.Tensor4D, labels: tf.Tensor3D): tf.Scalar {
  return tf.tidy(() => {
    const classes = logits.shape[3];
    const onehot = tf.oneHot(labels.reshape([-1]), classes);
    return tf.losses.softmaxCrossEntropy<tf.Tensor, tf.Scalar>(onehot, logits.reshape([-1, classes]));
  });
}
