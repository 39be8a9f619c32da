import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CAMVID_CLASSES, CAMVID_LABELS_32 } from '../../src/data/camvid-labels';
import { checkDataset } from '../../src/data/check';
import type { DatasetLoader } from '../../src/data/dataset';
import { detectLayout } from '../../src/data/layout';
import { openDataset } from '../../src/data/open';
import { IGNORE_INDEX, type Split } from '../../src/data/types';
import { DataError } from '../../src/util/errors';
import {
  CAMVID_FASTAI_CODES,
  CAMVID_FRAMES,
  CAMVID_LAYOUT_MAKERS,
  CAMVID_SEGNET_IDS,
  camvidFastaiId,
  makeCamvidFastai,
  makeCamvidOriginal,
  makeCamvidSegnet,
  makeKittiRoad,
  type Rgb,
  STRAY,
  tmpDir,
} from './fixtures';

/** The fixture frames of each split, in the loaders' (sorted) order. */
const framesOf = (split: string) =>
  CAMVID_FRAMES.filter(([s]) => s === split)
    .map(([, id]) => id)
    .sort();
const frameIndex = (id: string) => CAMVID_FRAMES.findIndex(([, name]) => name === id);

/** The 11-class id of a 32-label name, from the table's grouping (null = Void → ignore). */
const group = (name: string) => CAMVID_LABELS_32.find((l) => l.name === name)!.group ?? IGNORE_INDEX;

/** 32-label mode: label ids in codes.txt order, Void (30) dropped, so Wall (31) is class 30. */
const class31 = (id: number) => (id < 30 ? id : id === 31 ? 30 : IGNORE_INDEX);

/** Decodes every labelled frame of `split` and compares it pixel by pixel with expect(pixel, frame index). */
async function assertLabels(ds: DatasetLoader, split: Split, expect: (i: number, k: number) => number): Promise<void> {
  for (const s of await ds.samples(split)) {
    const label = await ds.decodeLabel(s.labelPath!);
    const k = frameIndex(s.id);
    label.data.forEach((v, i) => assert.equal(v, expect(i, k), `${s.id} pixel ${i}`));
  }
}

const rejectsDataError = (p: Promise<unknown>, re: RegExp) =>
  assert.rejects(p, (err: unknown) => err instanceof DataError && re.test(err.message));

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

describe('data/camvid', () => {
  describe('SegNet layout', () => {
    it('finds train, val and test with their pairs', async () => {
      const dir = makeCamvidSegnet(tmpDir());
      const ds = await openDataset('camvid', dir);
      assert.equal(ds.dir, dir);
      assert.deepEqual(ds.splits, ['train', 'val', 'test']);
      assert.equal(ds.classes.length, 11);
      assert.deepEqual(ds.classes[4], { name: 'pavement', color: [60, 40, 222] });
      for (const split of ['train', 'val', 'test'] as const) {
        const scan = await ds.scan(split);
        const annot = path.join(dir, `${split}annot`);
        assert.deepEqual(
          scan.samples.map((s) => [s.id, s.imagePath, s.labelPath]),
          framesOf(split).map((id) => [id, path.join(dir, split, `${id}.png`), path.join(annot, `${id}.png`)]),
        );
        assert.deepEqual([scan.imagesWithoutLabel, scan.labelsWithoutImage], [[], []]);
      }
    });

    it('keeps ids 0-10, ignores void 11 and reports the unknown 40', async () => {
      const ds = await openDataset('camvid', makeCamvidSegnet(tmpDir()));
      const segnetId = (i: number, k: number) => CAMVID_SEGNET_IDS[(i + k) % CAMVID_SEGNET_IDS.length];
      const expect = (i: number, k: number) => (segnetId(i, k) <= 10 ? segnetId(i, k) : IGNORE_INDEX);
      for (const split of ds.splits) await assertLabels(ds, split, expect);
      const [first] = await ds.samples('train');
      const { unknown } = await ds.decodeLabelChecked(first.labelPath!);
      // 8x6 pixels cycling through 13 values: 40 at pixels 12, 25 and 38.
      assert.deepEqual(unknown, { count: 3, first: [4, 1], examples: ['id 40'] });
    });

    it('refuses classes: 32 with a DataError naming the folder', async () => {
      const dir = makeCamvidSegnet(tmpDir());
      await rejectsDataError(
        openDataset('camvid', dir, { classes: 32 }),
        new RegExp(`^${escape(dir)} is SegNet's copy of CamVid, whose labels are already grouped into 11 classes`),
      );
    });
  });

  describe('fastai layout', () => {
    it('valid.txt is val, the rest train; labels are <name>_P.png', async () => {
      const dir = makeCamvidFastai(tmpDir());
      const ds = await openDataset('camvid', dir);
      assert.equal(ds.dir, dir);
      assert.deepEqual(ds.splits, ['train', 'val']);
      const val = framesOf('val');
      const train = CAMVID_FRAMES.map(([, id]) => id)
        .filter((id) => !val.includes(id))
        .sort();
      for (const [split, ids] of [
        ['train', train],
        ['val', val],
      ] as const) {
        const scan = await ds.scan(split);
        assert.deepEqual(
          scan.samples.map((s) => [s.id, s.imagePath, s.labelPath]),
          ids.map((id) => [id, path.join(dir, 'images', `${id}.png`), path.join(dir, 'labels', `${id}_P.png`)]),
        );
        assert.deepEqual([scan.imagesWithoutLabel, scan.labelsWithoutImage], [[], []]);
      }
      fs.rmSync(path.join(dir, 'valid.txt'));
      const all = await openDataset('camvid', dir);
      assert.deepEqual(all.splits, ['train']);
      assert.equal((await all.samples('train')).length, CAMVID_FRAMES.length);
      await rejectsDataError(all.samples('val'), /has no val split; it has train/);
    });

    it("groups the 32 ids into 11 by codes.txt's names; Void and the unknown 32 are ignored", async () => {
      const ds = await openDataset('camvid', makeCamvidFastai(tmpDir()));
      const expect = (i: number, k: number) => {
        const id = camvidFastaiId(i, k);
        return id < 32 ? group(CAMVID_FASTAI_CODES[id]) : IGNORE_INDEX;
      };
      for (const split of ds.splits) await assertLabels(ds, split, expect);
      const [first] = await ds.samples('train');
      const { label, unknown } = await ds.decodeLabelChecked(first.labelPath!);
      // Frame 0 holds id i at pixel i: Bicyclist 10, Car 8, Column_Pole 2, Road 3, Sidewalk 4, Sky 0, Void, Wall 1.
      assert.deepEqual(
        [2, 5, 8, 17, 19, 21, 30, 31].map((i) => label.data[i]),
        [10, 8, 2, 3, 4, 0, IGNORE_INDEX, 1],
      );
      assert.deepEqual(unknown, { count: 1, first: [7, 4], examples: ['id 32'] });
    });

    it("reads ids by codes.txt's order, whatever it is", async () => {
      const reversed = [...CAMVID_FASTAI_CODES].reverse();
      const ds = await openDataset('camvid', makeCamvidFastai(tmpDir(), reversed));
      await assertLabels(ds, 'train', (i, k) => {
        const id = camvidFastaiId(i, k);
        return id < 32 ? group(reversed[id]) : IGNORE_INDEX;
      });
    });

    it('classes: 32 keeps 31 classes, Void ignored', async () => {
      const ds = await openDataset('camvid', makeCamvidFastai(tmpDir()), { classes: 32 });
      assert.equal(ds.classes.length, 31);
      assert.deepEqual(
        ds.classes.map((c) => c.name),
        CAMVID_FASTAI_CODES.filter((n) => n !== 'Void'),
      );
      for (const split of ds.splits) await assertLabels(ds, split, (i, k) => class31(camvidFastaiId(i, k)));
      const [first] = await ds.samples('train');
      assert.equal((await ds.decodeLabelChecked(first.labelPath!)).unknown.count, 1);
    });

    it('an unknown name in codes.txt is an error naming the file and the line', async () => {
      const codes = [...CAMVID_FASTAI_CODES];
      codes[4] = 'Lamppost';
      const dir = makeCamvidFastai(tmpDir(), codes);
      await rejectsDataError(
        openDataset('camvid', dir),
        new RegExp(`${escape(path.join(dir, 'codes.txt'))} line 5: "Lamppost" is not one of CamVid's 32 labels`),
      );
    });
  });

  describe('original release', () => {
    /** Every label's colour (Void's is black), then a stray colour. */
    const COLORS: Rgb[] = [...CAMVID_LABELS_32.map((l) => [...l.color] as Rgb), STRAY];
    const colorAt = (i: number, k: number) => (i + k) % COLORS.length;

    it('without split lists everything is train; labels are <name>_L.png', async () => {
      const dir = makeCamvidOriginal(tmpDir(), COLORS);
      const ds = await openDataset('camvid', dir);
      assert.equal(ds.dir, dir);
      assert.deepEqual(ds.splits, ['train']);
      assert.deepEqual(
        (await ds.samples('train')).map((s) => [s.id, s.imagePath, s.labelPath]),
        CAMVID_FRAMES.map(([, id]) => id)
          .sort()
          .map((id) => [
            id,
            path.join(dir, '701_StillsRaw_full', `${id}.png`),
            path.join(dir, 'LabeledApproved_full', `${id}_L.png`),
          ]),
      );
      await rejectsDataError(ds.samples('val'), /has no val split; it has train/);
    });

    it('with train.txt, val.txt and test.txt has those splits', async () => {
      const ds = await openDataset('camvid', makeCamvidOriginal(tmpDir(), COLORS, true));
      assert.deepEqual(ds.splits, ['train', 'val', 'test']);
      for (const split of ds.splits)
        assert.deepEqual(
          (await ds.samples(split)).map((s) => s.id),
          framesOf(split),
        );
    });

    it('groups the colours into 11; void black and a stray colour are ignored, the stray reported', async () => {
      const ds = await openDataset('camvid', makeCamvidOriginal(tmpDir(), COLORS));
      await assertLabels(ds, 'train', (i, k) => {
        const c = colorAt(i, k);
        return c < 32 ? group(CAMVID_LABELS_32[c].name) : IGNORE_INDEX;
      });
      const [first] = await ds.samples('train');
      const { label, unknown } = await ds.decodeLabelChecked(first.labelPath!);
      assert.deepEqual(unknown, { count: 1, first: [4, 4], examples: ['(63,63,0)'] });
      // Known colours, written out: road (128,64,128), sidewalk (0,0,192), sky (128,128,128), void (0,0,0).
      const at = (rgb: Rgb) => label.data[COLORS.findIndex((c) => c.join() === rgb.join())];
      assert.deepEqual(
        [at([128, 64, 128]), at([0, 0, 192]), at([128, 128, 128]), at([0, 0, 0])],
        [3, 4, 0, IGNORE_INDEX],
      );
    });

    it('classes: 32 keeps 31 classes, Void ignored', async () => {
      const ds = await openDataset('camvid', makeCamvidOriginal(tmpDir(), COLORS), { classes: 32 });
      assert.equal(ds.classes.length, 31);
      await assertLabels(ds, 'train', (i, k) => class31(colorAt(i, k)));
    });
  });

  it('detectLayout finds each layout from the folder above', async () => {
    for (const [kind, make] of CAMVID_LAYOUT_MAKERS) {
      const root = tmpDir();
      const dir = make(root);
      assert.notEqual(dir, root);
      assert.deepEqual([(await detectLayout(root))?.kind, (await detectLayout(root))?.root], [kind, dir]);
      assert.equal((await detectLayout(dir))?.kind, kind);
      assert.equal((await openDataset('camvid', root)).dir, dir);
    }
  });

  it("names another dataset's folder, and says what a CamVid folder holds", async () => {
    const road = makeKittiRoad(tmpDir());
    await rejectsDataError(openDataset('camvid', road), /looks like kitti-road \(training\/image_2.*not camvid/);
    const other = tmpDir();
    fs.mkdirSync(path.join(other, 'x'));
    await rejectsDataError(
      openDataset('camvid', other),
      /does not hold a camvid layout; expected train\/ \+ trainannot\/ \(SegNet\), images\/ \+ labels\/ \+ codes\.txt/,
    );
  });

  it('`data check` counts the splits and the class shares and warns about the unknown id', async () => {
    const dir = makeCamvidSegnet(tmpDir());
    const report = await checkDataset(dir, 'camvid', { progress: false });
    assert.ok(report.ok);
    assert.deepEqual(
      report.splits.map((s) => [s.split, s.images, s.labels, s.usable]),
      [
        ['train', 2, 2, 2],
        ['val', 1, 1, 1],
        ['test', 1, 1, 1],
      ],
    );
    // The fixture's 4 frames of 48 pixels cycle through 13 values from shifts 0-3.
    const counts = new Map<number, number>();
    for (let k = 0; k < 4; k++) {
      for (let i = 0; i < 48; i++) {
        const v = CAMVID_SEGNET_IDS[(i + k) % 13];
        const id = v <= 10 ? v : IGNORE_INDEX;
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
    }
    const name = (id: number) => (id === IGNORE_INDEX ? 'ignore' : CAMVID_CLASSES[id].name);
    assert.deepEqual(
      report.classes.map((c) => [c.id, c.name, c.pixels, c.share]),
      [...counts].sort(([a], [b]) => a - b).map(([id, n]) => [id, name(id), n, n / 192]),
    );
    const warnings = report.problems.filter((p) => p.severity === 'warning');
    assert.equal(warnings.length, 4);
    const [first] = framesOf('train');
    assert.match(
      warnings.find((w) => w.file.endsWith(`trainannot/${first}.png`))!.message,
      /3 pixels with values no class has \(id 40\), first at x=4 y=1; they are ignored/,
    );
  });
});
