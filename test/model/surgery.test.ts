import * as tf from '@tensorflow/tfjs';
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { buildFcn8 } from '../../src/model/fcn8';
import { bilinearFilter1d, bilinearUpsampleKernel, transplantVgg16 } from '../../src/model/surgery';
import { readVgg16H5, Vgg16Weights } from '../../src/model/vgg16-weights';
import { ConfigError } from '../../src/util/errors';
import { rmDir, tmpDir, useBackend } from '../helpers';
import { writeFakeVgg16H5 } from './keras-vgg16-h5';

/** A layer's weights as nested arrays, read the async way. */
async function weightsOf(model: tf.LayersModel, name: string): Promise<unknown[]> {
  return Promise.all(
    model
      .getLayer(name)
      .getWeights()
      .map((t) => t.array()),
  );
}

async function flatWeights(model: tf.LayersModel, name: string): Promise<Float32Array[]> {
  return Promise.all(
    model
      .getLayer(name)
      .getWeights()
      .map((t) => t.data() as Promise<Float32Array>),
  );
}

describe('surgery', () => {
  // Weight copies are backend-agnostic; cpu keeps them independent of the wasm kernels. Put back what was active.
  let previousBackend: string;
  before(async () => {
    previousBackend = tf.getBackend();
    await useBackend('cpu');
  });
  after(async () => {
    if (previousBackend && previousBackend !== tf.getBackend()) await tf.setBackend(previousBackend);
  });

  describe('bilinear upsampling', () => {
    const close = (got: ArrayLike<number>, want: number[]) =>
      assert.deepEqual(
        Array.from(got, (v) => Math.round(v * 1e6) / 1e6),
        want,
      );

    it('k=4 (upscore2): 0.25, 0.75, 0.75, 0.25', () => close(bilinearFilter1d(4), [0.25, 0.75, 0.75, 0.25]));
    // Odd sizes centre on a tap: factor 2, centre 1 -> 1 - |i - 1| / 2.
    it('k=3: 0.5, 1, 0.5', () => close(bilinearFilter1d(3), [0.5, 1, 0.5]));
    // upscore8: factor 8, centre 7.5 -> tap 0 is 1 - 7.5/8 = 0.0625, tap 7 is 1 - 0.5/8 = 0.9375.
    it('k=16 (upscore8): ends at 0.0625, peaks at 0.9375, symmetric', () => {
      const f = bilinearFilter1d(16);
      close([f[0], f[7], f[8], f[15]], [0.0625, 0.9375, 0.9375, 0.0625]);
    });
    it('rejects a size that is not a positive integer', () => {
      assert.throws(() => bilinearFilter1d(0), ConfigError);
      assert.throws(() => bilinearUpsampleKernel(4, 0), /channels must be a positive integer; got 0/);
    });

    it('kernel [4,4,2,2]: outer product on the channel diagonal, zeros across channels', () => {
      const k = bilinearUpsampleKernel(4, 2);
      assert.equal(k.length, 4 * 4 * 2 * 2);
      const at = (y: number, x: number, o: number, i: number) => k[((y * 4 + x) * 2 + o) * 2 + i];
      assert.equal(at(1, 2, 0, 0), 0.75 * 0.75);
      assert.equal(at(1, 2, 1, 1), 0.75 * 0.75);
      assert.equal(at(0, 3, 1, 1), 0.25 * 0.25);
      assert.equal(at(1, 2, 0, 1), 0);
      assert.equal(at(1, 2, 1, 0), 0);
    });

    it('as a stride-2 conv2dTranspose it keeps constant channels constant (1 and 3) inside the image', async () => {
      const out = tf.tidy(() => {
        const x: tf.Tensor4D = tf.concat([tf.ones([1, 4, 4, 1]), tf.fill([1, 4, 4, 1], 3)], 3); // [1, 4, 4, 2]
        const filter = tf.tensor4d(bilinearUpsampleKernel(4, 2), [4, 4, 2, 2]);
        return tf.conv2dTranspose(x, filter, [1, 8, 8, 2], 2, 'same');
      });
      const v = await out.data();
      out.dispose();
      // Interior pixels (rows/cols 1..6) see two taps per axis summing to 1; the border sees one.
      for (let y = 1; y < 7; y++) {
        for (let x = 1; x < 7; x++) {
          assert.ok(Math.abs(v[(y * 8 + x) * 2] - 1) < 1e-6, `channel 0 at ${y},${x}: ${v[(y * 8 + x) * 2]}`);
          assert.ok(Math.abs(v[(y * 8 + x) * 2 + 1] - 3) < 1e-6, `channel 1 at ${y},${x}: ${v[(y * 8 + x) * 2 + 1]}`);
        }
      }
    });
  });

  describe('transplantVgg16', () => {
    // Width 1/16: conv widths 4, 8, 16, 32, 32; fc 4096/16 = 256 (lite: 1024/16 = 64 = 256/4).
    const wm = 1 / 16;
    let dir: string;
    let top: Vgg16Weights;
    let notop: Vgg16Weights;
    before(async () => {
      dir = tmpDir('fcn-surgery-');
      await writeFakeVgg16H5(path.join(dir, 'top.h5'), { widthMultiplier: wm, fcFilters: 256, style: 'old' });
      await writeFakeVgg16H5(path.join(dir, 'notop.h5'), { widthMultiplier: wm, style: 'new' });
      top = await readVgg16H5(path.join(dir, 'top.h5'));
      notop = await readVgg16H5(path.join(dir, 'notop.h5'));
    });
    after(() => rmDir(dir));

    it('paper fc6: copies every conv, reshapes fc1 to 7x7x32x256 in (h, w, c) flatten order, fc2 to 1x1', async () => {
      const model = buildFcn8({ widthMultiplier: wm, fc6: 'paper' });
      const decoderBefore = await flatWeights(model, 'upscore2');
      const tensorsBefore = tf.memory().numTensors;
      const lines: string[] = [];
      transplantVgg16(model, top, (l) => lines.push(l));
      assert.equal(tf.memory().numTensors, tensorsBefore);

      for (const [name, src] of top.layers) {
        if (!name.startsWith('block')) continue;
        const [kernel, bias] = await flatWeights(model, name);
        assert.deepEqual(kernel, src.kernel.values, `${name} kernel`);
        assert.deepEqual(bias, src.bias.values, `${name} bias`);
      }
      const fc1 = top.layers.get('fc1')!;
      const fc2 = top.layers.get('fc2')!;
      const [fc6Kernel, fc6Bias] = (await weightsOf(model, 'fc6')) as [number[][][][], number[]];
      // fc6[h=2][w=5][c=7][o=11] <- fc1 row (2*7 + 5)*32 + 7 = 615, column 11: flat 615*256 + 11 = 157451.
      assert.equal(fc6Kernel[2][5][7][11], fc1.kernel.values[157451]);
      // fc6[6][0][31][255] <- row (6*7 + 0)*32 + 31 = 1375: flat 1375*256 + 255 = 352255.
      assert.equal(fc6Kernel[6][0][31][255], fc1.kernel.values[352255]);
      assert.equal(fc6Bias[200], fc1.bias.values[200]);
      const [fc7Kernel] = (await weightsOf(model, 'fc7')) as [number[][][][]];
      // fc7[0][0][3][9] <- fc2[3][9]: flat 3*256 + 9 = 777.
      assert.equal(fc7Kernel[0][0][3][9], fc2.kernel.values[777]);
      // The decoder keeps its bilinear initialisation.
      assert.deepEqual(await flatWeights(model, 'upscore2'), decoderBefore);

      // One line per tensor: 13 conv layers x 2, fc6 x 2, fc7 x 2, predictions skipped x 2.
      assert.equal(lines.length, 32);
      assert.ok(lines.includes('copy      block1_conv1/kernel [3,3,3,4]'), lines.join('\n'));
      assert.ok(lines.includes('reshape   fc1/kernel [1568,256] -> fc6/kernel [7,7,32,256]'), lines.join('\n'));
      assert.ok(lines.includes('reshape   fc2/kernel [256,256] -> fc7/kernel [1,1,256,256]'), lines.join('\n'));
      assert.ok(
        lines.some((l) => /^skip {6}predictions\/kernel \[256,10\]/.test(l)),
        lines.join('\n'),
      );
      model.dispose();
    });

    it('lite fc6: taps 0, 3, 6 and every 4th channel of fc1; every 4th in and out of fc2', async () => {
      const model = buildFcn8({ widthMultiplier: wm, fc6: 'lite' });
      const lines: string[] = [];
      transplantVgg16(model, top, (l) => lines.push(l));
      const fc1 = top.layers.get('fc1')!;
      const fc2 = top.layers.get('fc2')!;
      const [fc6Kernel, fc6Bias] = (await weightsOf(model, 'fc6')) as [number[][][][], number[]];
      assert.equal(fc6Kernel.length, 3);
      assert.equal(fc6Kernel[0][0][0].length, 64);
      // fc6[1][2][5][3] <- tap (3, 6), channel 5, output 12: row (3*7 + 6)*32 + 5 = 869, flat 869*256 + 12 = 222476.
      assert.equal(fc6Kernel[1][2][5][3], fc1.kernel.values[222476]);
      // fc6[0][0][0][0] <- fc1[0][0]; fc6[2][2][31][63] <- tap (6, 6), row 48*32 + 31 = 1567, output 252: 1567*256 +
      // 252.
      assert.equal(fc6Kernel[0][0][0][0], fc1.kernel.values[0]);
      assert.equal(fc6Kernel[2][2][31][63], fc1.kernel.values[1567 * 256 + 252]);
      assert.equal(fc6Bias[3], fc1.bias.values[12]);
      const [fc7Kernel, fc7Bias] = (await weightsOf(model, 'fc7')) as [number[][][][], number[]];
      // fc7[0][0][5][3] <- fc2[20][12]: flat 20*256 + 12 = 5132.
      assert.equal(fc7Kernel[0][0][5][3], fc2.kernel.values[5132]);
      assert.equal(fc7Bias[63], fc2.bias.values[252]);
      assert.ok(
        lines.includes(
          'subsample fc1/kernel [1568,256] -> fc6/kernel [3,3,32,64] (taps 0,3,6 of 7; 1 in 4 output channels)',
        ),
        lines.join('\n'),
      );
      assert.ok(
        lines.includes('subsample fc2/kernel [256,256] -> fc7/kernel [1,1,64,64] (1 in 4 input and output channels)'),
        lines.join('\n'),
      );
      assert.ok(lines.includes('subsample fc1/bias [256] -> fc6/bias [64] (1 in 4)'), lines.join('\n'));
      model.dispose();
    });

    it('notop file: copies the convs and keeps fc6/fc7 as initialised', async () => {
      const model = buildFcn8({ widthMultiplier: wm, fc6: 'lite' });
      const fc6Before = await flatWeights(model, 'fc6');
      const lines: string[] = [];
      transplantVgg16(model, notop, (l) => lines.push(l));
      assert.deepEqual(await flatWeights(model, 'fc6'), fc6Before);
      assert.deepEqual((await flatWeights(model, 'block5_conv3'))[0], notop.layers.get('block5_conv3')!.kernel.values);
      assert.equal(lines.length, 27);
      assert.match(lines[26], /^keep {6}fc6, fc7 as initialised: .*notop\.h5 has no fc1\/fc2/);
      model.dispose();
    });

    it('refuses a model narrower than the weights, naming the layer and the fix, and writes nothing', async () => {
      const model = buildFcn8({ widthMultiplier: wm / 2, fc6: 'paper' });
      const before = await flatWeights(model, 'block1_conv1');
      assert.throws(
        () => transplantVgg16(model, top),
        (err: unknown) =>
          err instanceof ConfigError &&
          /^block1_conv1: the model's kernel is \[3,3,3,2\] but the VGG16 weights give \[3,3,3,4\]; pretrained VGG16 weights need widthMultiplier: 1/.test(
            err.message,
          ),
      );
      assert.deepEqual(await flatWeights(model, 'block1_conv1'), before);
      model.dispose();
    });

    it('refuses an fc6 whose taps cannot be taken evenly from 7x7, before copying any conv', async () => {
      const model = buildFcn8({ widthMultiplier: wm, fc6: { filters: 1024, kernelSize: 5, dilation: 1 } });
      const before = await flatWeights(model, 'block1_conv1');
      assert.throws(
        () => transplantVgg16(model, top),
        /fc6: the model's kernel is \[5,5,32,64\] but the VGG16 weights give \[7,7,32,256\]; fc6 needs \[k,k,32,256\/n\] .*use fc6 'paper' or 'lite'$/,
      );
      assert.deepEqual(await flatWeights(model, 'block1_conv1'), before);
      model.dispose();
    });

    it('refuses a model without the Keras layer names', () => {
      const input = tf.input({ shape: [8, 8, 3] });
      const model = tf.model({
        inputs: input,
        outputs: tf.layers.conv2d({ name: 'conv', filters: 4, kernelSize: 3 }).apply(input) as tf.SymbolicTensor,
      });
      assert.throws(() => transplantVgg16(model, top), /the model has no layer block1_conv1/);
      model.dispose();
    });
  });
});
