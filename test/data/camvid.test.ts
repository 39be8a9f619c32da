import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CAMVID_LABELS_32 } from '../../src/data/camvid-labels';
import { checkDataset } from '../../src/data/check';
import { detectLayout } from '../../src/data/layout';
import { openDataset } from '../../src/data/open';
import { IGNORE_INDEX } from '../../src/data/types';
import { CAMVID_SEGNET_IDS, type Rgb, makeCamvidFastai, makeCamvidOriginal, makeCamvidSegnet, makeKittiRoad, tmpDir } from './fixtures';

const CODES = CAMVID_LABELS_32.map((l) => l.name);

describe('data/camvid', () => {
  it('SegNet layout: splits, pairs, ids 0-10 kept, void 11 and unknown values ignored', async () => {
    const dir = makeCamvidSegnet(tmpDir());
    const ds = await openDataset('camvid', dir);
    assert.deepEqual(ds.splits, ['train', 'val', 'test']);
    assert.equal(ds.classes.length, 11);
    assert.deepEqual(ds.classes[4], { name: 'pavement', color: [60, 40, 222] });
    const train = await ds.samples('train');
    assert.deepEqual(train.map((s) => s.id), ['0001TP_006690', '0006R0_f00930']);
    const { label, unknown } = await ds.decodeLabelChecked(train[0].labelPath!);
    label.data.forEach((v, i) => {
      const id = CAMVID_SEGNET_IDS[i % CAMVID_SEGNET_IDS.length];
      assert.equal(v, id <= 10 ? id : IGNORE_INDEX, `pixel ${i}`);
    });
    assert.equal(unknown.count, 3);
    assert.deepEqual(unknown.examples, ['id 40']);
    await assert.rejects(openDataset('camvid', dir, { classes: 32 }), /already grouped into 11 classes/);
  });

  it('fastai layout: codes.txt ids grouped into 11, or 31 classes with classes: 32; valid.txt is val', async () => {
    const dir = makeCamvidFastai(tmpDir(), CODES);
    const ds = await openDataset('camvid', dir);
    assert.deepEqual(ds.splits, ['train', 'val']);
    assert.deepEqual((await ds.samples('val')).map((s) => s.id), ['0016E5_07959']);
    const [train] = await ds.samples('train');
    const { label, unknown } = await ds.decodeLabelChecked(train.labelPath!);
    // Pixel i holds id i % 32: Animal → pedestrian (9), Archway → building (1), Bicyclist → 10, Void (30) ignored.
    assert.deepEqual([label.data[0], label.data[1], label.data[2], label.data[30], label.data[31]], [9, 1, 10, IGNORE_INDEX, 1]);
    assert.equal(label.data[39], IGNORE_INDEX);
    assert.equal(unknown.count, 1);
    const ds32 = await openDataset('camvid', dir, { classes: 32 });
    assert.equal(ds32.classes.length, 31);
    const l32 = await ds32.decodeLabel(train.labelPath!);
    // Void drops out, so Wall (id 31) becomes class 30.
    assert.deepEqual([l32.data[0], l32.data[29], l32.data[30], l32.data[31]], [0, 29, IGNORE_INDEX, 30]);
  });

  it('fastai layout: an unknown name in codes.txt names the file and the line', async () => {
    const dir = makeCamvidFastai(tmpDir(), [...CODES.slice(0, 4), 'Lamppost', ...CODES.slice(5)]);
    await assert.rejects(openDataset('camvid', dir), new RegExp(`${path.join(dir, 'codes.txt')} line 5: "Lamppost"`));
  });

  it('original release: colours grouped into 11, stray colours reported; split lists or all train', async () => {
    const colors: Rgb[] = [[128, 64, 128], [128, 0, 192], [0, 0, 192], [64, 192, 0], [0, 0, 0], [63, 63, 0]];
    const dir = makeCamvidOriginal(tmpDir(), colors, false);
    const ds = await openDataset('camvid', dir);
    assert.deepEqual(ds.splits, ['train']);
    assert.equal((await ds.samples('train')).length, 3);
    const [s] = await ds.samples('train');
    const { label, unknown } = await ds.decodeLabelChecked(s.labelPath!);
    // Road, LaneMkgsDriv → road (3); Sidewalk → pavement (4); Wall → building (1); Void and the stray → ignore.
    assert.deepEqual(Array.from(label.data.slice(0, 6)), [3, 3, 4, 1, IGNORE_INDEX, IGNORE_INDEX]);
    assert.deepEqual(unknown.examples, ['(63,63,0)']);
    const listed = await openDataset('camvid', makeCamvidOriginal(tmpDir(), colors, true));
    assert.deepEqual(listed.splits, ['train', 'val', 'test']);
    assert.deepEqual((await listed.samples('val')).map((x) => x.id), ['0016E5_07959']);
  });

  it('is found from the folder above, and another dataset\'s folder is named as such', async () => {
    const root = tmpDir();
    makeCamvidSegnet(root);
    const layout = await detectLayout(root);
    assert.equal(layout?.kind, 'camvid-segnet');
    assert.equal(layout?.root, path.join(root, 'CamVid'));
    assert.equal((await openDataset('camvid', root)).dir, path.join(root, 'CamVid'));
    const road = makeKittiRoad(tmpDir());
    await assert.rejects(openDataset('camvid', road), /looks like kitti-road/);
    const empty = tmpDir();
    fs.mkdirSync(path.join(empty, 'x'));
    await assert.rejects(openDataset('camvid', empty), /does not hold a camvid layout; expected train\/ \+ trainannot\//);
  });

  it('`data check` counts the splits, the class shares and warns about unknown ids', async () => {
    const report = await checkDataset(makeCamvidSegnet(tmpDir()), 'camvid', { progress: false });
    assert.ok(report.ok);
    assert.deepEqual(report.splits.map((s) => [s.split, s.images, s.usable]), [['train', 2, 2], ['val', 1, 1], ['test', 1, 1]]);
    assert.deepEqual(report.classes.map((c) => c.name).slice(0, 3), ['sky', 'building', 'pole']);
    assert.ok(report.problems.some((p) => p.severity === 'warning' && /id 40/.test(p.message)));
  });
});
