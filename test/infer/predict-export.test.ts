import * as tf from '@tensorflow/tfjs';
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { exportForInference } from '../../src/infer/export';
import { predict } from '../../src/infer/predict';
import { loadRun } from '../../src/run/load-run';
import { rmDir, tmpDir, useBackend } from '../helpers';
import { fakeRun } from './fake-run';

function image(h: number, w: number) {
  const data = new Uint8Array(h * w * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37) % 251;
  return { data, height: h, width: w };
}

describe('predict and export', function () {
  this.timeout(120_000);
  let dir: string;
  before(async () => {
    await useBackend('wasm');
    dir = tmpDir();
  });
  after(() => rmDir(dir));

  for (const [h, w] of [
    [375, 1242],
    [370, 1226],
    [50, 70],
  ] as const) {
    it(`predicts ${h}x${w} at full resolution, at the training size and natively, without leaking`, async () => {
      const run = path.join(dir, 'run-a');
      if (!fs.existsSync(run)) await fakeRun(run, 0.5);
      const loaded = await loadRun(run);
      const before = tf.memory().numTensors;
      for (const inputShape of [loaded.config.model.inputShape, null]) {
        const p = await predict(loaded.model, image(h, w), { inputShape });
        assert.equal(p.height, h);
        assert.equal(p.width, w);
        assert.equal(p.probs.length, h * w * 2);
        assert.equal(p.labels.data.length, h * w);
        // Probabilities sum to 1 and labels are their argmax.
        for (const i of [0, Math.floor((h * w) / 2), h * w - 1]) {
          assert.ok(Math.abs(p.probs[2 * i] + p.probs[2 * i + 1] - 1) < 1e-5);
          assert.equal(p.labels.data[i], p.probs[2 * i + 1] > p.probs[2 * i] ? 1 : 0);
        }
      }
      assert.equal(tf.memory().numTensors, before);
      loaded.model.dispose();
    });
  }

  it('exports stock tfjs layers only, and the export predicts as the run does', async () => {
    const run = path.join(dir, 'run-a');
    const out = path.join(dir, 'web');
    await exportForInference(run, out);
    const json = JSON.parse(fs.readFileSync(path.join(out, 'model.json'), 'utf8'));
    const classNames = new Set<string>(
      json.modelTopology.config.layers.map((l: { class_name: string }) => l.class_name),
    );
    assert.ok(!classNames.has('FcnStepDropout'), `custom layer in export: ${[...classNames].join(', ')}`);
    const info = JSON.parse(fs.readFileSync(path.join(out, 'fcn-model.json'), 'utf8'));
    assert.deepEqual(info.inputShape, [64, 96]);
    assert.equal(info.classes[1].name, 'road');
    const loaded = await loadRun(run);
    const buf = fs.readFileSync(path.join(out, 'weights.bin'));
    const exported = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest[0].weights,
        weightData: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength),
      }),
    );
    const img = image(64, 96);
    const a = await predict(loaded.model, img);
    const b = await predict(exported, img);
    let worst = 0;
    for (let i = 0; i < a.probs.length; i++) worst = Math.max(worst, Math.abs(a.probs[i] - b.probs[i]));
    assert.ok(worst < 1e-6, `probabilities differ by ${worst}`);
    loaded.model.dispose();
    exported.dispose();
  });
});
