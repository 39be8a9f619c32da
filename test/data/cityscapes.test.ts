import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { CITYSCAPES_LABELS, cityscapesIdLookup } from '../../src/data/cityscapes-labels';
import { downsizeCityscapes } from '../../src/data/cityscapes-downsize';
import { checkDataset } from '../../src/data/check';
import { openDataset } from '../../src/data/open';
import { readPngInfo } from '../../src/data/png';
import { resizeLabelNearest } from '../../src/data/transforms';
import { IGNORE_INDEX } from '../../src/data/types';
import { CITYSCAPES_IDS, makeCityscapes, tmpDir } from './fixtures';

describe('data/cityscapes', () => {
  it('has the 35-row table with 19 evaluated train ids', () => {
    assert.equal(CITYSCAPES_LABELS.length, 35);
    const evaluated = CITYSCAPES_LABELS.filter((l) => !l.ignoreInEval).map((l) => l.trainId);
    assert.deepEqual(
      evaluated,
      Array.from({ length: 19 }, (_, i) => i),
    );
  });

  it('decodes label ids to train ids per the table, void and ignored ids to 255', async () => {
    const root = tmpDir();
    makeCityscapes(root);
    const ds = await openDataset('cityscapes', root);
    assert.deepEqual(ds.splits, ['train', 'val', 'test']);
    const train = await ds.samples('train');
    assert.deepEqual(
      train.map((s) => s.id),
      ['aachen_000000_000019', 'bochum_000000_000313'],
    );
    assert.equal(ds.classes.length, 19);
    assert.equal(ds.classes[13].name, 'car');
    const label = await ds.decodeLabel(train[1].labelPath!);
    const table = new Map(CITYSCAPES_LABELS.map((l) => [l.id, l.trainId]));
    for (let i = 0; i < label.data.length; i++) {
      const id = CITYSCAPES_IDS[Math.floor(i / 2) % CITYSCAPES_IDS.length];
      assert.equal(label.data[i], table.get(id), `pixel ${i} id ${id}`);
    }
    // void 0-6 and ignored 9, 14, 29 are 255; evaluated 7 8 11 23 24 26 33 -> 0 1 2 10 11 13 18.
    const present = new Set(label.data);
    assert.deepEqual(
      [...present].sort((a, b) => a - b),
      [0, 1, 2, 10, 11, 13, 18, IGNORE_INDEX],
    );
  });

  it('never hands out the void-only test labels', async () => {
    const root = tmpDir();
    makeCityscapes(root);
    const ds = await openDataset('cityscapes', path.join(root, 'cityscapes'));
    assert.deepEqual(
      (await ds.samples('test')).map((s) => s.labelPath),
      [null],
    );
  });

  it('trains on the 27 non-void classes with classSet all', async () => {
    const root = tmpDir();
    makeCityscapes(root);
    const ds = await openDataset('cityscapes', root, { classSet: 'all' });
    assert.equal(ds.classes.length, 27);
    const lookup = cityscapesIdLookup('all');
    assert.equal(lookup.get(9), 2, 'parking is a class of its own');
    assert.equal(lookup.get(3), IGNORE_INDEX);
    const label = await ds.decodeLabel((await ds.samples('val'))[0].labelPath!);
    assert.ok(label.data.includes(lookup.get(29)!), 'caravan present');
  });

  it('resizes labels by nearest neighbour without inventing an id', () => {
    // 4x1 ids [7, 7, 26, 26] -> 2x1 must be [7, 26] (bilinear would give 16.5-ish ids).
    const small = resizeLabelNearest({ data: new Uint8Array([7, 7, 26, 26]), height: 1, width: 4 }, 1, 2);
    assert.deepEqual([...small.data], [7, 26]);
    const big = resizeLabelNearest({ data: new Uint8Array([1, 2]), height: 1, width: 2 }, 2, 5);
    // Output centres 0.5 … 4.5 land at source x = 0.2, 0.6, 1.0, 1.4, 1.8.
    assert.deepEqual([...big.data], [1, 1, 2, 2, 2, 1, 1, 2, 2, 2]);
  });

  it('check passes and reports the class shares', async () => {
    const root = tmpDir();
    makeCityscapes(root);
    const report = await checkDataset(root, 'cityscapes', { progress: false });
    assert.equal(report.ok, true, report.problems.map((p) => p.message).join('\n'));
    assert.deepEqual(
      report.splits.map((s) => [s.split, s.images, s.usable]),
      [
        ['train', 2, 2],
        ['val', 1, 1],
        ['test', 1, 1],
      ],
    );
  });

  it('downsize writes a seeded subset in the same layout at the new size', async () => {
    const root = tmpDir();
    const src = makeCityscapes(root);
    const out = path.join(root, 'small');
    const written = await downsizeCityscapes(src, out, {
      counts: { train: 1, val: 1, test: 1 },
      size: [8, 16],
      seed: 0,
      progress: false,
    });
    assert.deepEqual(written, { train: 1, val: 1, test: 1 });
    const ds = await openDataset('cityscapes', out);
    const [s] = await ds.samples('train');
    assert.deepEqual(await readPngInfo(s.imagePath).then((i) => [i.width, i.height, i.channels]), [16, 8, 3]);
    const label = await ds.decodeLabel(s.labelPath!);
    const allowed = new Set(CITYSCAPES_IDS.map((id) => cityscapesIdLookup('train19').get(id)));
    assert.ok([...label.data].every((v) => allowed.has(v)));
  });
});
