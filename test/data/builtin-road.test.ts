import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BUILTIN_MARKER, renderRoadScene, synthesizeRoadSet } from '../../src/data/builtin-road';
import { checkDataset } from '../../src/data/check';
import { resolveRoadDataset } from '../../src/data/default-dataset';
import { openDataset } from '../../src/data/open';
import { loadRgbImage } from '../../src/data/png';
import { mixSeed } from '../../src/data/rng';
import { makeKittiRoad, tmpDir } from './fixtures';

function treeHash(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string): void => {
    for (const n of fs.readdirSync(d).sort()) {
      const p = path.join(d, n);
      if (fs.statSync(p).isDirectory()) walk(p);
      else h.update(path.relative(dir, p)).update(fs.readFileSync(p));
    }
  };
  walk(dir);
  return h.digest('hex');
}

describe('data/builtin-road', function () {
  this.timeout(60_000);

  it('writes the KITTI Road layout deterministically, and the KITTI loader reads back exactly what was drawn', async () => {
    const root = tmpDir();
    const a = path.join(root, 'a');
    const b = path.join(root, 'b');
    await synthesizeRoadSet(a, { count: 4, seed: 5, progress: false });
    await synthesizeRoadSet(b, { count: 4, seed: 5, progress: false });
    assert.equal(treeHash(a), treeHash(b), 'same seed, same bytes');
    assert.deepEqual(fs.readdirSync(path.join(a, 'training/image_2')), [
      'um_000000.png',
      'um_000001.png',
      'umm_000000.png',
      'uu_000000.png',
    ]);
    assert.deepEqual(fs.readdirSync(path.join(a, 'training/gt_image_2')), [
      'um_lane_000000.png',
      'um_lane_000001.png',
      'um_road_000000.png',
      'um_road_000001.png',
      'umm_road_000000.png',
      'uu_road_000000.png',
    ]);
    assert.equal(fs.readdirSync(path.join(a, 'testing/image_2')).length, 1);
    assert.equal(
      fs.readFileSync(path.join(a, 'training/calib/um_000000.txt'), 'utf8').split('\n').filter(Boolean).length,
      8,
    );

    const ds = await openDataset('kitti-road', a);
    const report = await checkDataset(a, 'kitti-road', { progress: false });
    assert.equal(report.ok, true, report.problems.map((p) => p.message).join('\n'));
    assert.equal(report.problems.length, 0, 'only the three KITTI label colours are written');
    // Frame index 1 of the training split is umm_000000, drawn from mixSeed(5, 0, 1).
    const [sample] = (await ds.samples('train')).filter((s) => s.id === 'umm_000000');
    const img = await loadRgbImage(sample.imagePath);
    const scene = renderRoadScene(mixSeed(5, 0, 1), 'umm', img.height, img.width);
    assert.ok(Buffer.from(img.data).equals(Buffer.from(scene.image)));
    const label = await ds.decodeLabel(sample.labelPath!);
    assert.ok(Buffer.from(label.data).equals(Buffer.from(scene.label)));
  });

  it('draws a plausible scene: road at the bottom centre, sky at the top, void present, road not one flat colour', () => {
    for (let seed = 0; seed < 4; seed++) {
      const s = renderRoadScene(seed, 'um', 375, 1242);
      const counts = [0, 0, 0];
      for (const v of s.label) counts[v === 255 ? 2 : v]++;
      assert.ok(counts[1] > 0.1 * s.label.length, `seed ${seed}: road covers ${counts[1]} px`);
      assert.ok(counts[2] > 0, 'a void band');
      assert.equal(s.label[10 * 1242 + 620], 0, 'top of the image is not road');
      let lo = 255;
      let hi = 0;
      for (let i = 0; i < s.label.length; i++) {
        if (s.label[i] !== 1) continue;
        lo = Math.min(lo, s.image[i * 3]);
        hi = Math.max(hi, s.image[i * 3]);
      }
      assert.ok(hi - lo > 40, 'road pixels vary (noise, markings, shadows)');
    }
  });

  it('resolveRoadDataset prefers data/data_road and says when it falls back to the built-in set', async () => {
    const root = tmpDir();
    const builtin = path.join(root, 'builtin_road');
    fs.mkdirSync(builtin);
    // A finished 200/0 set is recognised by its marker, so nothing is generated here.
    fs.writeFileSync(path.join(builtin, BUILTIN_MARKER), JSON.stringify({ version: 1, count: 200, seed: 0 }));
    const fallback = await resolveRoadDataset(root, { progress: false });
    assert.equal(fallback.builtin, true);
    assert.equal(fallback.dir, builtin);
    assert.match(
      fallback.note,
      /KITTI Road not found in .*data_road; using the built-in road set .*builtin_road \(200 synthetic images/,
    );
    makeKittiRoad(root);
    const real = await resolveRoadDataset(root, { progress: false });
    assert.deepEqual([real.builtin, real.dir], [false, path.join(root, 'data_road')]);
  });
});
