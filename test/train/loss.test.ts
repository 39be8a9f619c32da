import * as tf from '@tensorflow/tfjs';
import { strict as assert } from 'node:assert';
import { pixelCrossEntropy } from '../../src/model/loss';
import { useBackend } from '../helpers';

describe('pixelCrossEntropy', () => {
  before(() => useBackend('wasm'));

  it('averages -log softmax over valid pixels only', async () => {
    // Two pixels, two classes. Pixel 0: logits (0, ln 3) label 1 -> p = 3/4, -ln(3/4) = 0.28768.
    // Pixel 1: logits (0, 0) label 255 -> ignored. Mean over 1 pixel = 0.28768.
    const logits = tf.tensor4d([0, Math.log(3), 0, 0], [1, 1, 2, 2]);
    const labels = tf.tensor3d([1, 255], [1, 1, 2], 'int32');
    const loss = pixelCrossEntropy(logits, labels, 255);
    assert.ok(Math.abs((await loss.data())[0] + Math.log(0.75)) < 1e-6);
    tf.dispose([logits, labels, loss]);
  });

  it('weights classes and divides by the summed weight', async () => {
    // Pixel 0 label 1 (w 3): -ln(3/4); pixel 1 label 0 (w 1), logits (0, 0): -ln(1/2).
    // (3 * 0.287682 + 1 * 0.693147) / (3 + 1) = 0.389048.
    const logits = tf.tensor4d([0, Math.log(3), 0, 0], [1, 1, 2, 2]);
    const labels = tf.tensor3d([1, 0], [1, 1, 2], 'int32');
    const loss = pixelCrossEntropy(logits, labels, 255, [1, 3]);
    const expected = (3 * -Math.log(0.75) + -Math.log(0.5)) / 4;
    assert.ok(Math.abs((await loss.data())[0] - expected) < 1e-6);
    tf.dispose([logits, labels, loss]);
  });

  it('gives 0, not NaN, for an all-ignore batch', async () => {
    const logits: tf.Tensor4D = tf.zeros([1, 2, 2, 3]);
    const labels: tf.Tensor3D = tf.fill([1, 2, 2], 255, 'int32');
    const loss = pixelCrossEntropy(logits, labels);
    assert.equal((await loss.data())[0], 0);
    tf.dispose([logits, labels, loss]);
  });
});
