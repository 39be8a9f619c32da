import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { buildProgram } from '../../src/cli';
import { fcn, rmDir, tmpDir } from '../helpers';

const ROOT = path.resolve(__dirname, '../..');

describe('fcn command line, end to end', function () {
  this.timeout(300_000);
  let dir: string;
  before(function () {
    if (!fs.existsSync(path.join(ROOT, 'dist/cli/index.js'))) this.skip();
    dir = tmpDir();
  });
  after(() => dir && rmDir(dir));

  it('synth → train --preset smoke → eval → predict writes the run folder and outputs', async () => {
    const data = path.join(dir, 'road');
    const run = path.join(dir, 'run');
    let r = fcn(['data', 'synth', '--out', data, '--count', '8', '--seed', '3', '--no-progress']);
    assert.equal(r.code, 0, r.err);
    r = fcn(['train', '--dataset', 'kitti-road', '--data', data, '--preset', 'smoke', '--out', run, '--no-progress']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /^backend: wasm/m);
    assert.match(r.err, /^memory plan: 64x96 batch 2/m);
    for (const f of [
      'config.json',
      'dataset.json',
      'history.json',
      'model.json',
      'weights.bin',
      'optimizer.bin',
      'state.json',
      'metrics.json',
    ]) {
      assert.ok(fs.existsSync(path.join(run, f)), `run folder lacks ${f}`);
    }
    const history = JSON.parse(fs.readFileSync(path.join(run, 'history.json'), 'utf8'));
    assert.equal(history.length, 2);
    assert.ok(Number.isFinite(history[1].trainLoss) && Number.isFinite(history[1].valLoss));

    r = fcn(['eval', '--run', run, '--no-progress']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /mean IoU/);
    assert.match(r.out, /MaxF/);
    const metrics = JSON.parse(fs.readFileSync(path.join(run, 'metrics.json'), 'utf8'));
    assert.ok(metrics.metrics.pixelAccuracy > 0 && metrics.metrics.pixelAccuracy <= 1);

    const image = path.join(data, 'testing/image_2/um_000000.png');
    r = fcn(['predict', '--run', run, image, '--out', path.join(dir, 'pred')]);
    assert.equal(r.code, 0, r.err);
    assert.ok(fs.existsSync(path.join(dir, 'pred/um_000000_overlay.png')));
    assert.match(r.out, /um_000000\.png: (not road|road) \d+\.\d%/);
    // The labels PNG holds one channel of class ids, not an RGB picture of them.
    const labelsFile = path.join(dir, 'pred/um_000000_labels.png');
    assert.equal((await sharp(labelsFile).metadata()).channels, 1);
    const labels = await sharp(labelsFile).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
    const source = await sharp(image).metadata();
    assert.deepEqual([labels.info.width, labels.info.height], [source.width, source.height]);
    assert.ok(
      labels.data.every((v) => v === 0 || v === 1),
      'ids of the two road classes only',
    );

    // Resume an already finished run for 1 more epoch: it continues from epoch 2.
    r = fcn(['train', '--data', data, '--preset', 'smoke', '--out', run, '--resume', '--epochs', '3', '--no-progress']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /resume: .* at epoch 2/);
    assert.equal(JSON.parse(fs.readFileSync(path.join(run, 'history.json'), 'utf8')).length, 3);
  });

  it('FCN_BACKEND=webgpu trains the smoke preset end to end (software GPU)', function () {
    const data = path.join(dir, 'road');
    const run = path.join(dir, 'run-webgpu');
    const r = fcn(['train', '--data', data, '--preset', 'smoke', '--out', run, '--no-progress'], {
      FCN_BACKEND: 'webgpu',
    });
    if (r.code !== 0 && /adapter|Vulkan|setup-mesa/.test(r.err)) {
      console.log(`      skipped: no WebGPU adapter here (${r.err.split('\n').find((l) => /adapter|Vulkan/.test(l))})`);
      this.skip();
    }
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /^backend: webgpu \(Dawn on .*\) forced by FCN_BACKEND/m);
    assert.equal(JSON.parse(fs.readFileSync(path.join(run, 'history.json'), 'utf8')).length, 2);
  });

  it('errors name the value and the fix, with a non-zero exit', () => {
    let r = fcn(['train', '--input', '100x300']);
    assert.notEqual(r.code, 0);
    assert.match(r.err, /input 100x300 is not divisible by 32; use 128x320/);
    r = fcn(['eval', '--run', path.join(dir, 'missing')]);
    assert.notEqual(r.code, 0);
    assert.match(r.err, /run folder .*missing does not exist; train one with: npx fcn train --out/);
    r = fcn(['train', '--data', path.join(dir, 'nowhere'), '--preset', 'smoke']);
    assert.notEqual(r.code, 0);
    assert.match(r.err, /data folder .*nowhere does not exist/);
    r = fcn(['train', '--preset', 'paper', '--data', path.join(dir, 'road'), '--out', path.join(dir, 'paper')]);
    assert.notEqual(r.code, 0);
    assert.match(r.err, /memory plan: 160x576 batch 10 fc6 paper/);
    assert.match(r.err, /needs about .* GiB but wasm heap .* holds .*Alternatives that fit: .*--fc6 lite/);
  });

  it('--help works for every command', () => {
    const program = buildProgram();
    const commands = program.commands.flatMap((c) => [[c.name()], ...c.commands.map((sub) => [c.name(), sub.name()])]);
    assert.ok(commands.length >= 20, `every command and subcommand: ${commands.map((c) => c.join(' ')).join(', ')}`);
    for (const cmd of [[], ...commands]) {
      const r = fcn([...cmd, '--help']);
      assert.equal(r.code, 0, `${cmd.join(' ')} --help: ${r.err}`);
      assert.match(r.out, /Usage: fcn/);
    }
  });
});
