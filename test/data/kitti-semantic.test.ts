import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkDataset } from '../../src/data/check';
import { openDataset } from '../../src/data/open';
import { loadGray16 } from '../../src/data/png';
import { IGNORE_INDEX } from '../../src/data/types';
import { makeKittiOfficial, makeKittiSemantic, OFFICIAL_IDS, tmpDir, writeFile } from './fixtures';

describe('data/kitti-semantic', () => {
  it('maps the 11 colours to their index, void and stray colours to ignore, Sky kept apart from void', async () => {
    const root = tmpDir();
    makeKittiSemantic(root, 'original');
    const ds = await openDataset('kitti-semantic', root);
    assert.deepEqual(ds.splits, ['train', 'val']);
    assert.deepEqual(
      (await ds.samples('train')).map((s) => s.id),
      ['000050', '000172'],
    );
    assert.deepEqual(ds.classes.map((c) => c.name).slice(0, 3), ['Sky', 'Building', 'Road']);
    const [val] = await ds.samples('val');
    const { label, unknown } = await ds.decodeLabelChecked(val.labelPath!);
    assert.deepEqual([label.width, label.height], [24, 7]);
    for (let i = 0; i < label.data.length; i++) {
      const k = i % 12;
      const want = i === 1 * 24 + 1 ? IGNORE_INDEX : k === 11 ? IGNORE_INDEX : k;
      assert.equal(label.data[i], want, `pixel ${i}`);
    }
    assert.equal(label.data[0], 0, 'Sky (128,128,128) is class 0, not void');
    assert.equal(unknown.count, 1);
    assert.deepEqual(unknown.first, [1, 1]);
    assert.deepEqual(unknown.examples, ['(63,63,0)']);
  });

  it('check counts the stray colour as a warning and still passes', async () => {
    const root = tmpDir();
    makeKittiSemantic(root, 'original');
    const report = await checkDataset(path.join(root, 'KITTI_SEMANTIC'), 'kitti-semantic', { progress: false });
    assert.equal(report.ok, true);
    assert.equal(report.problems.filter((p) => /values no class has \(\(63,63,0\)\)/.test(p.message)).length, 3);
    assert.equal(report.classes.length, 12);
  });

  it('reads the re-split Training/ + Testing/RGB variant, Testing without labels', async () => {
    const root = tmpDir();
    makeKittiSemantic(root, 'resplit');
    const ds = await openDataset('kitti-semantic', root);
    assert.deepEqual(ds.splits, ['train', 'test']);
    assert.deepEqual(
      (await ds.samples('test')).map((s) => s.labelPath),
      [null],
    );
  });

  it('uses a differently coloured table given as JSON', async () => {
    const root = tmpDir();
    makeKittiSemantic(root, 'original');
    const table = JSON.parse(
      fs.readFileSync(path.join(__dirname, '../../src/data/classes/kitti-semantic.json'), 'utf8'),
    );
    table.classes[2].color = [63, 63, 0];
    const file = path.join(root, 'table.json');
    fs.writeFileSync(file, JSON.stringify(table));
    const ds = await openDataset('kitti-semantic', root, { colorTable: file });
    const { label, unknown } = await ds.decodeLabelChecked((await ds.samples('val'))[0].labelPath!);
    assert.equal(label.data[25], 2, 'the former stray colour is now Road');
    assert.equal(label.data[2], IGNORE_INDEX, 'the old Road colour is now stray');
    assert.ok(unknown.count > 0);
    writeFile(file, '{"classes": []}');
    await assert.rejects(openDataset('kitti-semantic', root, { colorTable: file }), /colour table .* must be/);
  });

  it("maps the official benchmark's Cityscapes ids to the 19 train ids; reads its 16-bit instance file", async () => {
    const root = tmpDir();
    const dir = makeKittiOfficial(root);
    const ds = await openDataset('kitti-semantic', root);
    assert.equal(ds.classes.length, 19);
    const train = await ds.samples('train');
    assert.deepEqual(
      train.map((s) => s.id),
      ['000000_10', '000001_10'],
    );
    const label = await ds.decodeLabel(train[0].labelPath!);
    // ids 0 7 8 11 26 9 23 33 14 24 -> trainIds 255 0 1 2 13 255 10 18 255 11
    const trainIds = [255, 0, 1, 2, 13, 255, 10, 18, 255, 11];
    assert.deepEqual(
      [...label.data],
      Array.from({ length: 20 }, (_, i) => trainIds[i % 10]),
    );
    const inst = await loadGray16(path.join(dir, 'training/instance/000000_10.png'));
    assert.deepEqual([...inst.data].slice(0, 3), [
      OFFICIAL_IDS[0] * 256,
      OFFICIAL_IDS[1] * 256 + 1,
      OFFICIAL_IDS[2] * 256 + 2,
    ]);
  });
});
