import * as tf from '@tensorflow/tfjs';

/**
 * tfjs 4.22's Conv2D gradient refuses dilation > 1 ("dilation rates greater
 * than 1 are not yet supported in gradients"), which the lite fc6 (3x3,
 * dilation 3) needs. This replaces it with one that handles stride-1 dilated
 * convolutions and hands everything else to tfjs's own backprop kernels:
 *   dx = the dilated conv of dy with the spatially flipped, in/out-swapped
 *        filter (exact for 'same' with an odd effective kernel, and 'valid'
 *        after padding dy by the effective kernel - 1);
 *   dW[i, j] = xpad(shifted by tap (i, j))^T · dy, one matMul per tap.
 * Backend-agnostic: only public ops.
 */
let registered = false;

type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];

export function registerDilatedConvGradient(): void {
  if (registered) return;
  registered = true;
  const original = tf.getGradient('Conv2D');
  if (!original) throw new Error('tfjs has no Conv2D gradient to extend');
  tf.registerGradient({
    kernelName: 'Conv2D',
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy, saved, attrs) => {
      const { dilations, strides, pad } = attrs as unknown as {
        dilations: number | [number, number];
        strides: number | [number, number];
        pad: Pad;
      };
      const [dh, dw] = typeof dilations === 'number' ? [dilations, dilations] : dilations;
      if (dh === 1 && dw === 1) return original.gradFunc(dy, saved, attrs);
      const [sh, sw] = typeof strides === 'number' ? [strides, strides] : strides;
      if (sh !== 1 || sw !== 1 || (pad !== 'same' && pad !== 'valid')) {
        throw new Error(
          `dilated conv2d gradient: only stride 1 with 'same' or 'valid' padding is supported; got strides ${JSON.stringify(strides)}, pad ${JSON.stringify(pad)}`,
        );
      }
      const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
      const g = dy as tf.Tensor4D;
      const [kh, kw] = filter.shape;
      const eh = dh * (kh - 1) + 1; // effective kernel
      const ew = dw * (kw - 1) + 1;
      const [top, left] = pad === 'same' ? [Math.floor((eh - 1) / 2), Math.floor((ew - 1) / 2)] : [0, 0];
      const [bottom, right] = pad === 'same' ? [eh - 1 - top, ew - 1 - left] : [0, 0];
      return {
        x: () =>
          tf.tidy(() => {
            // Rotate 180° and swap in/out: [kh, kw, cin, cout] -> [kh, kw, cout, cin].
            const flipped = tf.transpose<tf.Tensor4D>(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]);
            // dy padded by the complement of the forward padding; a 'valid' conv then gives x's shape.
            const gp = tf.pad(g, [
              [0, 0],
              [eh - 1 - top, eh - 1 - bottom],
              [ew - 1 - left, ew - 1 - right],
              [0, 0],
            ]);
            return tf.conv2d(gp, flipped, 1, 'valid', 'NHWC', [dh, dw]);
          }),
        filter: () =>
          tf.tidy(() => {
            const [b, oh, ow, cout] = g.shape;
            const cin = x.shape[3];
            const xp = tf.pad(x, [
              [0, 0],
              [top, bottom],
              [left, right],
              [0, 0],
            ]);
            const dyFlat = tf.reshape(g, [b * oh * ow, cout]);
            const taps: tf.Tensor2D[] = [];
            for (let i = 0; i < kh; i++) {
              for (let j = 0; j < kw; j++) {
                const window = tf.slice(xp, [0, i * dh, j * dw, 0], [b, oh, ow, cin]);
                taps.push(tf.matMul(tf.reshape(window, [b * oh * ow, cin]), dyFlat, true, false));
              }
            }
            return tf.reshape(tf.stack(taps), [kh, kw, cin, cout]);
          }),
      };
    },
  });
}
