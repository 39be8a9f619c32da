import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkDataset } from '../../src/data/check';
import { decodeKittiRoadLabel } from '../../src/data/kitti-road';
import { openDataset } from '../../src/data/open';
import { loadRgbImage } from '../../src/data/png';
import { IGNORE_INDEX } from '../../src/data/types';
import { DataError } from '../../src/util/errors';
import {
  colorLabel,
  encodePng,
  kittiRoadPixel,
  makeCityscapes,
  makeKittiRoad,
  MAGENTA,
  RED,
  tmpDir,
  writeFile,
  writeRgb,
} from './fixtures';

describe('data/kitti-road', () => {
  it('decodes golden pixels with the devkit rule: R=0 ignore, else B>0 road', () => {
    // (255,0,255) road, (255,0,0) not road, (0,0,0) void, (0,0,255) void (red 0 wins), (200,0,10) road.
    const rgb = new Uint8Array([255, 0, 255, 255, 0, 0, 0, 0, 0, 0, 0, 255, 200, 0, 10]);
    const { label, unknown } = decodeKittiRoadLabel(rgb, 1, 5);
    assert.deepEqual([...label.data], [1, 0, IGNORE_INDEX, IGNORE_INDEX, 1]);
    assert.equal(unknown.count, 2);
    assert.deepEqual(unknown.first, [3, 0]);
  });

  it('lists frames of every category at their own size, and decodes a black block as ignore, never road', async () => {
    const root = tmpDir();
    makeKittiRoad(root);
    const ds = await openDataset('kitti-road', root);
    assert.deepEqual(ds.splits, ['train', 'test']);
    const train = await ds.samples('train');
    assert.deepEqual(
      train.map((s) => s.id),
      ['um_000000', 'umm_000000', 'uu_000000'],
    );
    assert.match(train[0].labelPath!, /gt_image_2\/um_road_000000\.png$/);
    const test = await ds.samples('test');
    assert.deepEqual(
      test.map((s) => s.labelPath),
      [null, null],
    );
    const label = await ds.decodeLabel(train[1].labelPath!);
    assert.deepEqual([label.width, label.height], [24, 7]);
    const expected = kittiRoadPixel(24, 7);
    for (let y = 0; y < 7; y++) {
      for (let x = 0; x < 24; x++) {
        const c = expected(x, y);
        const want = c === MAGENTA ? 1 : c === RED ? 0 : IGNORE_INDEX;
        assert.equal(label.data[y * 24 + x], want, `pixel ${x},${y}`);
      }
    }
  });

  it('selects the um_lane_ labels with labelType lane', async () => {
    const root = tmpDir();
    makeKittiRoad(root);
    const ds = await openDataset('kitti-road', path.join(root, 'data_road'), { labelType: 'lane' });
    const train = await ds.samples('train');
    assert.deepEqual(
      train.map((s) => path.basename(s.labelPath!)),
      ['um_lane_000000.png'],
    );
    assert.equal(ds.classes[1].name, 'ego lane');
  });

  it('check passes on a clean set with counts and class shares', async () => {
    const root = tmpDir();
    makeKittiRoad(root);
    const report = await checkDataset(root, 'kitti-road', { progress: false });
    assert.equal(report.ok, true, JSON.stringify(report.problems));
    assert.deepEqual(
      report.splits.map((s) => [s.split, s.images, s.labels, s.usable]),
      [
        ['train', 3, 3, 3],
        ['test', 2, 0, 2],
      ],
    );
    assert.deepEqual(
      report.classes.map((c) => c.name),
      ['not road', 'road', 'ignore'],
    );
    // 3 frames 25x8, 24x7, 25x8; void block 3x2 each => 18 ignore of 200 + 168 + 200 = 568 pixels.
    assert.ok(Math.abs(report.classes[2].share - 18 / 568) < 1e-12);
  });

  const badCases: [string, (dir: string) => void, RegExp][] = [
    [
      'an image without a label',
      (d) => writeRgb(path.join(d, 'training/image_2/uu_000001.png'), 25, 8),
      /image .*uu_000001\.png has no label/,
    ],
    [
      'a label without an image',
      (d) =>
        writeFile(
          path.join(d, 'training/gt_image_2/umm_road_000009.png'),
          colorLabel(4, 4, () => RED),
        ),
      /label .*umm_road_000009\.png has no image/,
    ],
    [
      'image and label of different sizes',
      (d) =>
        writeFile(
          path.join(d, 'training/gt_image_2/uu_road_000000.png'),
          colorLabel(20, 8, () => RED),
        ),
      /uu_road_000000\.png is 20x8 but image .* is 25x8/,
    ],
    [
      'a truncated PNG',
      (d) => {
        const f = path.join(d, 'training/image_2/umm_000000.png');
        const bytes = fs.readFileSync(f);
        fs.writeFileSync(f, bytes.subarray(0, bytes.length - 20));
      },
      /umm_000000\.png is corrupt or truncated/,
    ],
    [
      'a non-PNG file',
      (d) =>
        fs.writeFileSync(
          path.join(d, 'training/image_2/um_000000.png'),
          Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 5]),
        ),
      /um_000000\.png is a JPEG file, not a PNG/,
    ],
  ];
  for (const [what, spoil, message] of badCases) {
    it(`check names the file for ${what} and fails`, async () => {
      const root = tmpDir();
      const dir = makeKittiRoad(root);
      spoil(dir);
      const report = await checkDataset(dir, 'kitti-road', { progress: false });
      assert.equal(report.ok, false);
      assert.ok(
        report.problems.some((p) => p.severity === 'error' && message.test(p.message)),
        report.problems.map((p) => p.message).join('\n'),
      );
    });
  }

  it('check warns about label colours no class has, with count and first coordinates', async () => {
    const root = tmpDir();
    const dir = makeKittiRoad(root);
    writeFile(
      path.join(dir, 'training/gt_image_2/uu_road_000000.png'),
      colorLabel(25, 8, (x, y) => (y === 2 && x >= 5 && x < 8 ? [10, 200, 30] : RED)),
    );
    const report = await checkDataset(dir, 'kitti-road', { progress: false });
    assert.equal(report.ok, true);
    const w = report.problems.find((p) => p.severity === 'warning');
    assert.match(w!.message, /3 pixels .*\(10,200,30\).*x=5 y=2/);
  });

  it("refuses a missing folder, an empty folder and another dataset's layout", async () => {
    const root = tmpDir();
    await assert.rejects(
      openDataset('kitti-road', path.join(root, 'nope')),
      /nope is missing; it should hold training\/image_2/,
    );
    fs.mkdirSync(path.join(root, 'empty'));
    await assert.rejects(openDataset('kitti-road', path.join(root, 'empty')), /empty is empty/);
    makeCityscapes(root);
    await assert.rejects(
      openDataset('kitti-road', path.join(root, 'cityscapes')),
      (err: Error) => err instanceof DataError && /looks like cityscapes.*use --dataset cityscapes/.test(err.message),
    );
    const report = await checkDataset(path.join(root, 'empty'), 'kitti-road', { progress: false });
    assert.equal(report.ok, false);
  });

  it('reports an empty image folder', async () => {
    const root = tmpDir();
    const dir = makeKittiRoad(root);
    fs.rmSync(path.join(dir, 'testing/image_2'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'testing/image_2'));
    const report = await checkDataset(dir, 'kitti-road', { progress: false });
    assert.ok(report.problems.some((p) => /test split .* has no images/.test(p.message)));
  });

  it('reads 8-bit grey, grey+alpha, RGBA and 16-bit grey images as RGB', async () => {
    const dir = tmpDir();
    const cases: [string, Buffer, number[]][] = [
      ['g8', encodePng(2, 1, 1, 8, [10, 200]), [10, 10, 10, 200, 200, 200]],
      ['ga8', encodePng(2, 1, 2, 8, [10, 0, 200, 255]), [10, 10, 10, 200, 200, 200]],
      ['rgba', encodePng(2, 1, 4, 8, [1, 2, 3, 0, 4, 5, 6, 255]), [1, 2, 3, 4, 5, 6]],
      ['g16', encodePng(2, 1, 1, 16, [0, 65535]), [0, 0, 0, 255, 255, 255]],
    ];
    for (const [name, bytes, want] of cases) {
      writeFile(path.join(dir, `${name}.png`), bytes);
      const img = await loadRgbImage(path.join(dir, `${name}.png`));
      assert.deepEqual([...img.data], want, name);
    }
  });
});
