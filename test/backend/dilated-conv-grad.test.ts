import * as tf from '@tensorflow/tfjs';
import { strict as assert } from 'node:assert';
import { registerDilatedConvGradient } from '../../src/backend/dilated-conv-grad';
import { relNormError, useBackend } from '../helpers';

/** A k x k kernel at dilation d written out as its dense (d(k-1)+1)^2 equivalent. */
function densify(w: tf.Tensor4D, d: number): tf.Tensor4D {
  const [k, , cin, cout] = w.shape;
  const e = d * (k - 1) + 1;
  return tf.tidy(() => {
    const rows: tf.Tensor[] = [];
    for (let i = 0; i < e; i++) {
      const cols: tf.Tensor[] = [];
      for (let j = 0; j < e; j++) {
        cols.push(
          i % d === 0 && j % d === 0
            ? tf.slice(w, [i / d, j / d, 0, 0], [1, 1, cin, cout])
            : tf.zeros([1, 1, cin, cout]),
        );
      }
      rows.push(tf.concat(cols, 1));
    }
    return tf.concat(rows, 0) as tf.Tensor4D;
  });
}

describe('dilated conv2d gradient', () => {
  before(async () => {
    await useBackend('wasm');
    registerDilatedConvGradient();
  });

  for (const [h, w, k, d, pad] of [
    [5, 9, 3, 3, 'same'],
    [7, 6, 3, 2, 'same'],
    [11, 10, 3, 2, 'valid'],
    [6, 8, 2, 2, 'same'],
  ] as const) {
    it(`${h}x${w} input, ${k}x${k} kernel, dilation ${d}, '${pad}': equals the dense equivalent's gradients`, async () => {
      const x: tf.Tensor4D = tf.randomNormal([2, h, w, 3], 0, 1, 'float32', 1);
      const f: tf.Tensor4D = tf.randomNormal([k, k, 3, 4], 0, 1, 'float32', 2);
      const up = tf.randomNormal(tf.conv2d(x, f, 1, pad, 'NHWC', d).shape, 0, 1, 'float32', 3);
      const loss = (xx: tf.Tensor4D, ff: tf.Tensor4D, dil: number) =>
        tf.sum(tf.mul(tf.conv2d(xx, ff, 1, pad, 'NHWC', dil), up));
      const [gx, gf] = tf.grads((xx: tf.Tensor, ff: tf.Tensor) => loss(xx as tf.Tensor4D, ff as tf.Tensor4D, d))([
        x,
        f,
      ]);
      const dense = densify(f, d);
      const [rx, rDense] = tf.grads((xx: tf.Tensor, ff: tf.Tensor) => loss(xx as tf.Tensor4D, ff as tf.Tensor4D, 1))([
        x,
        dense,
      ]);
      // The dense kernel's gradient at the dilated taps is the dilated kernel's gradient.
      const rf = tf.tidy(() =>
        tf
          .stack(
            Array.from({ length: k * k }, (_, t) =>
              tf.slice(rDense, [Math.floor(t / k) * d, (t % k) * d, 0, 0], [1, 1, 3, 4]).reshape([3, 4]),
            ),
          )
          .reshape([k, k, 3, 4]),
      );
      assert.ok(relNormError(await gx.data(), await rx.data()) < 1e-5, 'dx differs');
      assert.ok(relNormError(await gf.data(), await rf.data()) < 1e-5, 'dW differs');
      tf.dispose([x, f, up, gx, gf, dense, rx, rDense, rf]);
    });
  }

  it('leaves stride/padding combinations it cannot do to a clear error', () => {
    const x: tf.Tensor4D = tf.ones([1, 8, 8, 1]);
    const f: tf.Tensor4D = tf.ones([3, 3, 1, 1]);
    assert.throws(
      () => tf.grad((ff: tf.Tensor) => tf.sum(tf.conv2d(x, ff as tf.Tensor4D, 1, 2, 'NHWC', 2)))(f),
      /only stride 1 with 'same' or 'valid'/,
    );
    tf.dispose([x, f]);
  });
});
