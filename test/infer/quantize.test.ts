import * as tf from '@tensorflow/tfjs';
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadGray8 } from '../../src/data/png';
import { exportForInference } from '../../src/infer/export';
import { loadPredictor } from '../../src/infer/load-predictor';
import { predict } from '../../src/infer/predict';
import { float16Bits, quantizeWeights } from '../../src/infer/quantize';
import { fcn, rmDir, tmpDir, useBackend } from '../helpers';
import { fakeRun } from './fake-run';

/** float16 bits back to a number, independently of tfjs (sign, 5-bit exponent, 10-bit mantissa). */
function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

function randomWeights(count: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: count }, () => {
    s = (s * 1103515245 + 12345) >>> 0;
    return (s / 2 ** 32 - 0.3) * 0.2;
  });
}

describe('weight quantization (float16, uint8)', function () {
  this.timeout(120_000);
  let dir: string;
  before(async () => {
    await useBackend('wasm');
    dir = tmpDir();
    await fakeRun(path.join(dir, 'run'), 0.5);
  });
  after(() => rmDir(dir));

  it('rounds float32 to the nearest float16, ties to even, with subnormals, overflow and signed zero', () => {
    const cases: [number, number][] = [
      [1, 0x3c00],
      [-2, 0xc000],
      [65504, 0x7bff],
      [65520, 0x7c00],
      [1e6, 0x7c00],
      [0.1, 0x2e66],
      [-0, 0x8000],
      [2 ** -24, 0x0001],
      [2 ** -26, 0x0000],
      [3 * 2 ** -25, 0x0002],
      [2 ** -14, 0x0400],
      [1 + 2 ** -11, 0x3c00],
      [1 + 3 * 2 ** -11, 0x3c02],
      [Infinity, 0x7c00],
    ];
    for (const [value, bits] of cases) {
      const got = float16Bits(value);
      assert.equal(got, bits, `${value}: 0x${got.toString(16)} instead of 0x${bits.toString(16)}`);
    }
    assert.ok(Number.isNaN(halfToNumber(float16Bits(NaN))));
    // Every half is its own image (exact round trip), sampled across the range.
    for (let b = 0; b < 0x7c00; b += 37) assert.equal(float16Bits(halfToNumber(b)), b);
  });

  it('tfjs dequantizes quantizeWeights: float16 to 2^-11 relative, uint8 to half a step, zero exact', async () => {
    const a = randomWeights(1000, 1);
    a[17] = 0;
    const b = randomWeights(30, 2).map((v) => v + 5); // all positive: uint8's range must still hold 0
    const raw = new Uint8Array(4 * (a.length + b.length));
    new Float32Array(raw.buffer).set(a);
    new Float32Array(raw.buffer).set(b, a.length);
    const specs: tf.io.WeightsManifestEntry[] = [
      { name: 'a', shape: [10, 100], dtype: 'float32' },
      { name: 'b', shape: [30], dtype: 'float32' },
    ];
    for (const dtype of ['float16', 'uint8'] as const) {
      const q = quantizeWeights(specs, raw, dtype);
      assert.equal(q.data.byteLength, (a.length + b.length) * (dtype === 'float16' ? 2 : 1));
      const decoded = tf.io.decodeWeights(q.data.slice().buffer, q.specs);
      for (const [name, values] of [
        ['a', a],
        ['b', b],
      ] as const) {
        const got = await decoded[name].data();
        const scale = q.specs.find((s) => s.name === name)!.quantization!.scale ?? 0;
        let worst = 0;
        for (let i = 0; i < values.length; i++) {
          const err = Math.abs(got[i] - values[i]);
          worst = Math.max(worst, dtype === 'float16' ? err / Math.max(Math.abs(values[i]), 2 ** -14) : err);
        }
        const bound = dtype === 'float16' ? 2 ** -11 : scale / 2 + 1e-7;
        assert.ok(worst <= bound, `${dtype} ${name}: error ${worst} > ${bound}`);
      }
      assert.equal((await decoded.a.data())[17], 0);
      tf.dispose(Object.values(decoded));
    }
  });

  it('exports float16 and uint8 runs that load and predict close to float32, also in `fcn predict`', async () => {
    const run = path.join(dir, 'run');
    const img = { data: Uint8Array.from({ length: 64 * 96 * 3 }, (_, i) => (i * 37) % 251), height: 64, width: 96 };
    const sizes: Record<string, number> = {};
    const preds: Record<string, Awaited<ReturnType<typeof predict>>> = {};
    for (const q of [null, 'float16', 'uint8'] as const) {
      const out = path.join(dir, `web-${q ?? 'float32'}`);
      await exportForInference(run, out, { quantize: q });
      const manifest = JSON.parse(fs.readFileSync(path.join(out, 'model.json'), 'utf8'));
      const specs: tf.io.WeightsManifestEntry[] = manifest.weightsManifest[0].weights;
      assert.ok(
        specs.every((s) => (s.quantization?.dtype ?? null) === q),
        `${q}: a weight lacks quantization ${q}`,
      );
      sizes[q ?? 'float32'] = fs.statSync(path.join(out, 'weights.bin')).size;
      const predictor = await loadPredictor(out);
      const before = tf.memory().numTensors;
      preds[q ?? 'float32'] = await predict(predictor.model, img, { inputShape: predictor.inputShape });
      assert.equal(tf.memory().numTensors, before);
      predictor.model.dispose();
    }
    assert.equal(sizes.float16, sizes.float32 / 2);
    assert.equal(sizes.uint8, sizes.float32 / 4);
    const ref = preds.float32;
    for (const [q, bound] of [
      ['float16', 0.02],
      ['uint8', 0.15],
    ] as const) {
      let worst = 0;
      for (let i = 0; i < ref.probs.length; i++) worst = Math.max(worst, Math.abs(preds[q].probs[i] - ref.probs[i]));
      assert.ok(worst < bound, `${q}: probabilities differ from float32 by up to ${worst}`);
    }
    const image = path.join(dir, 'frame.png');
    const sharp = (await import('sharp')).default;
    await sharp(img.data, { raw: { width: 96, height: 64, channels: 3 } })
      .png()
      .toFile(image);
    const r = fcn(['predict', '--run', path.join(dir, 'web-uint8'), image, '--out', path.join(dir, 'pred')]);
    assert.equal(r.code, 0, r.err);
    const labels = (await loadGray8(path.join(dir, 'pred/frame_labels.png'))).data;
    const agree = preds.uint8.labels.data.filter((v, i) => v === labels[i]).length / labels.length;
    assert.ok(agree > 0.99, `fcn predict on the uint8 export agrees with predict() on ${agree}`);
  });
});
