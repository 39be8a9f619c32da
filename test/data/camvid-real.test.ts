import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkDataset } from '../../src/data/check';
import { openDataset } from '../../src/data/open';
import { loadGray8 } from '../../src/data/png';
import { CAMVID_CLASSES } from '../../src/data/camvid-labels';
import { classPixelCounts, medianFrequencyWeights } from '../../src/train/class-weights';
import { fcn, rmDir, tmpDir } from '../helpers';
import { REAL_CAMVID, camvidSlice, realCamvidSkipReason } from './real-camvid';

/** Train pixel shares (ids 0-11, 11 = void) as shared/data/camvid/README.md gives them, in %. */
const README_SHARES = [16.85, 23.26, 0.98, 31.66, 4.49, 9.72, 1.17, 1.13, 5.87, 0.64, 0.29, 3.95];

describe('CamVid, real frames (shared/data/camvid)', function () {
  this.timeout(300_000);
  before(function () {
    const reason = realCamvidSkipReason();
    if (reason) {
      console.log(`      skipped: ${reason}`);
      this.skip();
    }
  });

  it('pairs 367 train and 101 val frames, all 480x360, with ids 0-11 only', async () => {
    const ds = await openDataset('camvid', REAL_CAMVID);
    assert.deepEqual(ds.splits, ['train', 'val']);
    assert.deepEqual(
      ds.classes.map((c) => c.name),
      CAMVID_CLASSES.map((c) => c.name),
    );
    for (const [split, count] of [
      ['train', 367],
      ['val', 101],
    ] as const) {
      const scan = await ds.scan(split);
      assert.equal(scan.samples.length, count);
      assert.deepEqual([scan.imagesWithoutLabel, scan.labelsWithoutImage], [[], []]);
      for (const s of scan.samples) {
        const g = await loadGray8(s.labelPath!);
        assert.deepEqual([g.width, g.height], [480, 360], s.labelPath!);
        let max = 0;
        for (const v of g.data) if (v > max) max = v;
        assert.ok(max <= 11, `${s.labelPath}: id ${max}`);
      }
    }
  });

  it('train class shares match the README to 0.01%, and `data check` agrees', async () => {
    const ds = await openDataset('camvid', REAL_CAMVID);
    const counts = new Float64Array(256);
    for (const s of await ds.samples('train')) for (const v of (await loadGray8(s.labelPath!)).data) counts[v]++;
    const total = counts.reduce((a, b) => a + b, 0);
    README_SHARES.forEach((share, id) => {
      assert.ok(
        Math.abs((100 * counts[id]) / total - share) <= 0.01 + 1e-9,
        `id ${id}: ${(100 * counts[id]) / total} vs ${share}`,
      );
    });
    const report = await checkDataset(REAL_CAMVID, 'camvid', { progress: false });
    assert.ok(report.ok);
    assert.deepEqual(
      report.splits.map((s) => [s.split, s.images, s.usable]),
      [
        ['train', 367, 367],
        ['val', 101, 101],
      ],
    );
  });

  it('median-frequency weights from the train labels: rare classes weigh most, the median class 1', async () => {
    const ds = await openDataset('camvid', REAL_CAMVID);
    const { classPixels, imagePixelsWhere } = await classPixelCounts(ds, await ds.samples('train'));
    const w = medianFrequencyWeights(classPixels, imagePixelsWhere);
    assert.equal(w.filter((x) => Math.abs(x - 1) < 1e-12).length, 1);
    const byName = Object.fromEntries(CAMVID_CLASSES.map((c, i) => [c.name, w[i]]));
    // Road is the most frequent class, bicyclist the rarest (README); SegNet's published values: 0.1417, 7.3614.
    assert.ok(byName.road < 0.2 && byName.road === Math.min(...w));
    assert.ok(byName.bicyclist > 6 && byName.bicyclist === Math.max(...w));
  });

  it('smoke training on 8 real frames, then `fcn eval` on 8 val frames at full resolution', () => {
    const dir = tmpDir();
    try {
      const data = camvidSlice(path.join(dir, 'CamVid'), { train: 8, val: 8 });
      const run = path.join(dir, 'run');
      let r = fcn([
        'train',
        '--dataset',
        'camvid',
        '--data',
        data,
        '--preset',
        'smoke',
        '--class-weights',
        'median-frequency',
        '--out',
        run,
        '--no-progress',
      ]);
      assert.equal(r.code, 0, r.err);
      assert.match(r.err, /data: camvid at .*: 8 training, 8 validation images, 11 classes/);
      assert.match(r.err, /class weights \(median frequency\): sky [\d.]+, building/);
      const config = JSON.parse(fs.readFileSync(path.join(run, 'config.json'), 'utf8'));
      assert.deepEqual(config.model.inputShape, [96, 128], "the smoke preset keeps CamVid's 4:3");
      assert.equal(config.classWeights.length, 11);
      r = fcn(['eval', '--run', run, '--no-progress']);
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /camvid val: 8 images at full resolution/);
      assert.match(r.out, /bicyclist/);
      const metrics = JSON.parse(fs.readFileSync(path.join(run, 'metrics.json'), 'utf8'));
      assert.equal(metrics.confusion.length, 121);
      assert.ok(metrics.metrics.meanIoU > 0 && metrics.metrics.meanIoU < 1);
    } finally {
      rmDir(dir);
    }
  });
});
