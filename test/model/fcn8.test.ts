import * as tf from '@tensorflow/tfjs';
import { strict as assert } from 'node:assert';
import { buildFcn8 } from '../../src/model/fcn8';
import { resolveFcn8Config, parseInputShape } from '../../src/model/config';
import { useBackend } from '../helpers';

const SMALL = { widthMultiplier: 1 / 16, fc6: 'lite' as const, dropout: 0 };

describe('buildFcn8', () => {
  before(() => useBackend('wasm'));

  for (const [h, w] of [
    [32, 96],
    [64, 64],
    [160, 576],
    [96, 288],
  ] as const) {
    it(`output ${h}x${w}x3 classes for a ${h}x${w} input`, async () => {
      const model = buildFcn8({ ...SMALL, numClasses: 3, inputShape: [h, w] });
      const before = tf.memory().numTensors;
      const out = tf.tidy(() => model.predict(tf.randomNormal([2, h, w, 3])) as tf.Tensor);
      assert.deepEqual(out.shape, [2, h, w, 3]);
      out.dispose();
      assert.equal(tf.memory().numTensors, before);
      model.dispose();
    });
  }

  it('keeps the Keras VGG16 and paper layer names', () => {
    const model = buildFcn8({ ...SMALL, inputShape: [64, 64] });
    const names = model.layers.map((l) => l.name);
    for (const n of [
      'block1_conv1',
      'block3_conv3',
      'block5_pool',
      'fc6',
      'fc7',
      'score_fr',
      'upscore2',
      'score_pool4',
      'fuse_pool4',
      'upscore_pool4',
      'score_pool3',
      'fuse_pool3',
      'upscore8',
    ]) {
      assert.ok(names.includes(n), `missing layer ${n}`);
    }
    model.dispose();
  });

  it('has the paper fc6 shape 7x7x512x4096 and fc7 1x1x4096x4096 at full width', () => {
    const model = buildFcn8({ inputShape: [64, 64] });
    assert.deepEqual(model.getLayer('fc6').getWeights()[0].shape, [7, 7, 512, 4096]);
    assert.deepEqual(model.getLayer('fc7').getWeights()[0].shape, [1, 1, 4096, 4096]);
    // VGG16 conv (14.71M) + fc6 (102.76M) + fc7 (16.78M) + score/upsampling at 2 classes.
    assert.ok(model.countParams() > 134e6 && model.countParams() < 135e6, `params ${model.countParams()}`);
    model.dispose();
  });

  it('initialises the upsampling layers to bilinear interpolation', async () => {
    // With a 2x2 input, upscore2's k=4 stride-2 bilinear kernel must equal a half-pixel bilinear resize
    // in the interior: output row 1 = 0.75*x0 + 0.25*x1 (the k=4 filter 0.25, 0.75, 0.75, 0.25).
    const model = buildFcn8({ ...SMALL, numClasses: 2, inputShape: [64, 64] });
    const layer = model.getLayer('upscore8');
    const x = tf.randomUniform([1, 5, 7, 2]);
    const up = layer.apply(x) as tf.Tensor4D; // [1, 40, 56, 2]
    const ref = tf.image.resizeBilinear(x as tf.Tensor4D, [40, 56], false, true);
    const a = await up.slice([0, 8, 8, 0], [1, 24, 40, 2]).data();
    const b = await ref.slice([0, 8, 8, 0], [1, 24, 40, 2]).data();
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-5, `pixel ${i}: ${a[i]} vs ${b[i]}`);
    tf.dispose([x, up, ref]);
    model.dispose();
  });

  it('rejects sizes that are not multiples of 32 and names the padded size', () => {
    assert.throws(
      () => resolveFcn8Config({ inputShape: [375, 1242] }),
      /375x1242 is not divisible by 32; use 384x1248/,
    );
    assert.throws(() => parseInputShape('100x300'), /use 128x320/);
    assert.throws(() => parseInputShape('160-576'), /HEIGHTxWIDTH/);
  });
});
