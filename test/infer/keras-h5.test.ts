import * as tf from '@tensorflow/tfjs';
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { exportKerasH5, importKerasH5, readKerasH5 } from '../../src/infer/keras-h5';
import { predict } from '../../src/infer/predict';
import { loadRun } from '../../src/run/load-run';
import { fcn, rmDir, tmpDir, useBackend } from '../helpers';
import { fakeRun } from './fake-run';

/** Debian's python3 (apt's python3-h5py); a pyenv python3 earlier on PATH lacks h5py. */
const PYTHON = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const hasH5py = () => spawnSync(PYTHON, ['-c', 'import h5py'], { encoding: 'utf8' }).status === 0;

const image = (h: number, w: number) => ({
  data: Uint8Array.from({ length: h * w * 3 }, (_, i) => (i * 53) % 247),
  height: h,
  width: w,
});

describe('Keras HDF5 export and import', function () {
  this.timeout(120_000);
  let dir: string;
  let file: string;
  before(async () => {
    await useBackend('wasm');
    dir = tmpDir();
    await fakeRun(path.join(dir, 'run'), 0.5);
    file = await exportKerasH5(path.join(dir, 'run'), path.join(dir, 'keras'));
  });
  after(() => rmDir(dir));

  it('round trip: export, import, identical weights and predictions', async () => {
    const imported = path.join(dir, 'imported');
    await importKerasH5(file, imported);
    const a = await loadRun(path.join(dir, 'run'));
    const b = await loadRun(imported);
    assert.deepEqual(b.config, a.config);
    assert.deepEqual(b.dataset, a.dataset);
    for (const layer of a.model.layers) {
      const other = b.model.getLayer(layer.name);
      for (let i = 0; i < layer.weights.length; i++) {
        const [got, want] = [await other.weights[i].read().data(), await layer.weights[i].read().data()];
        assert.deepEqual(got, want, `${layer.name} weight ${i}`);
      }
    }
    const img = image(70, 100);
    const pa = await predict(a.model, img, { inputShape: a.config.model.inputShape });
    const pb = await predict(b.model, img, { inputShape: b.config.model.inputShape });
    assert.deepEqual(pb.probs, pa.probs);
    a.model.dispose();
    b.model.dispose();
  });

  it('fcn import reads a file without the run record only with --like, and refuses an existing run', async () => {
    // Rewrite the file as Keras would: same layers, no fcn_ts_run attribute.
    const { layers } = await readKerasH5(file);
    const run = await loadRun(path.join(dir, 'run'));
    assert.deepEqual(
      [...layers.keys()],
      run.model.layers.filter((l) => l.weights.length).map((l) => l.name),
    );
    run.model.dispose();
    const bare = path.join(dir, 'bare.h5');
    const py =
      `import h5py, shutil; shutil.copy(${JSON.stringify(file)}, ${JSON.stringify(bare)}); ` +
      `f = h5py.File(${JSON.stringify(bare)}, 'a'); del f.attrs['fcn_ts_run']; f.close()`;
    if (!hasH5py()) {
      console.log(`      skipped the no-record part: ${PYTHON} has no h5py (apt-get install python3-h5py)`);
    } else {
      assert.equal(spawnSync(PYTHON, ['-c', py]).status, 0);
      let r = fcn(['import', '--keras-h5', bare, '--out', path.join(dir, 'from-keras')]);
      assert.notEqual(r.code, 0);
      assert.match(r.err, /--like <run>/);
      r = fcn(['import', '--keras-h5', bare, '--out', path.join(dir, 'from-keras'), '--like', path.join(dir, 'run')]);
      assert.equal(r.code, 0, r.err);
      const png = path.join(dir, 'frame.png');
      const img = image(64, 96);
      const sharp = (await import('sharp')).default;
      await sharp(img.data, { raw: { width: 96, height: 64, channels: 3 } })
        .png()
        .toFile(png);
      r = fcn(['predict', '--run', path.join(dir, 'from-keras'), png, '--out', path.join(dir, 'pred')]);
      assert.equal(r.code, 0, r.err);
      assert.ok(fs.existsSync(path.join(dir, 'pred', 'frame_labels.png')));
    }
    const again = fcn(['import', '--keras-h5', file, '--out', path.join(dir, 'run')]);
    assert.notEqual(again.code, 0);
    assert.match(again.err, /already holds a run/);
  });

  it("has Keras's save_weights layout (h5py: attributes, names, shapes, dtypes)", async function () {
    if (!hasH5py()) {
      console.log(`      skipped: ${PYTHON} has no h5py (apt-get install python3-h5py; bash scripts/setup.sh --test)`);
      this.skip();
    }
    const run = await loadRun(path.join(dir, 'run'));
    // What Keras would write for this model: every layer in model order, "<layer>/<weight>:0" names.
    type Weights = [string, (number | null)[]][];
    const expected: { layers: [string, Weights][] } = {
      layers: run.model.layers.map((l) => [
        l.name,
        l.weights.map((w): Weights[number] => [`${l.name}/${w.originalName.split('/').pop()}:0`, w.shape]),
      ]),
    };
    assert.ok(
      expected.layers.some(([name]) => name === 'drop6'),
      'the dropout layers are listed as Keras lists them',
    );
    run.model.dispose();
    const spec = path.join(dir, 'expected.json');
    fs.writeFileSync(spec, JSON.stringify(expected));
    const r = spawnSync(PYTHON, [path.join(__dirname, 'keras_h5_layout.py'), file, spec], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^0 problem\(s\)/m);
    // The checker is able to fail: a wrong shape is reported.
    expected.layers[1][1][0][1] = [1, 2, 3, 4];
    fs.writeFileSync(spec, JSON.stringify(expected));
    assert.equal(spawnSync(PYTHON, [path.join(__dirname, 'keras_h5_layout.py'), file, spec]).status, 1);
  });

  it('refuses a file whose layers do not fit the run, naming the layer', async () => {
    const other = path.join(dir, 'other');
    await fakeRun(other, 0.5);
    const cfg = JSON.parse(fs.readFileSync(path.join(other, 'config.json'), 'utf8'));
    cfg.model.widthMultiplier = cfg.model.widthMultiplier / 2;
    fs.writeFileSync(path.join(other, 'config.json'), JSON.stringify(cfg));
    const before = tf.memory().numTensors;
    await assert.rejects(importKerasH5(file, path.join(dir, 'mismatch'), other), /block1_conv1 holds .*--like/);
    assert.equal(tf.memory().numTensors, before);
  });
});
