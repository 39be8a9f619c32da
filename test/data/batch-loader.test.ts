import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BatchLoader } from '../../src/data/batch-loader';
import { openDataset } from '../../src/data/open';
import { splitTrainVal } from '../../src/data/split';
import type { Batch, SampleRef } from '../../src/data/types';
import { makeKittiRoad, tmpDir } from './fixtures';

async function collect(loader: BatchLoader, epoch: number): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of loader.epoch(epoch)) out.push(b);
  return out;
}

describe('data/batch-loader', () => {
  const augment = { flip: true, colorJitter: 0.3, scaleCrop: [0.8, 1.3] as [number, number] };

  it('gives uint8 batches at the input size, deterministic for (seed, epoch), cache and stream alike', async () => {
    const root = tmpDir();
    makeKittiRoad(root);
    const ds = await openDataset('kitti-road', root);
    const samples = await ds.samples('train');
    const opts = { inputShape: [32, 64] as const, batchSize: 2, shuffle: true, seed: 3, augment, progress: false };
    const cached = new BatchLoader(ds, samples, opts);
    const streamed = new BatchLoader(ds, samples, { ...opts, stream: true });
    assert.equal(cached.cached, true);
    assert.equal(cached.numBatches, 2);
    const a = await collect(cached, 0);
    assert.deepEqual(
      a.map((b) => b.ids.length),
      [2, 1],
    );
    assert.equal(a[0].images.length, 2 * 32 * 64 * 3);
    assert.equal(a[0].labels.length, 2 * 32 * 64);
    const again = await collect(cached, 0);
    const s = await collect(streamed, 0);
    for (const other of [again, s]) {
      assert.deepEqual(
        other.map((b) => b.ids),
        a.map((b) => b.ids),
      );
      other.forEach((b, k) => {
        assert.ok(Buffer.from(b.images).equals(Buffer.from(a[k].images)));
        assert.ok(Buffer.from(b.labels).equals(Buffer.from(a[k].labels)));
      });
    }
    const orders = [];
    for (let e = 1; e < 6; e++) orders.push((await collect(cached, e)).flatMap((b) => b.ids).join());
    assert.ok(new Set(orders).size > 1, 'epochs are shuffled differently');
    // Nearest resizing and augmentation never invent a class.
    for (const b of a) assert.ok(b.labels.every((v) => v === 0 || v === 1 || v === 255));
  });

  it('without augmentation a label keeps its layout: road only in the lower half', async () => {
    const root = tmpDir();
    makeKittiRoad(root);
    const ds = await openDataset('kitti-road', root);
    const loader = new BatchLoader(ds, await ds.samples('train'), {
      inputShape: [8, 16],
      batchSize: 3,
      shuffle: false,
      seed: 0,
      progress: false,
    });
    const [b] = await collect(loader, 0);
    // um 25x8: road from row 4 on; resized to 8 rows, row y samples source row y.
    for (let x = 0; x < 16; x++) {
      assert.equal(b.labels[0 * 16 + x], 0);
      assert.equal(b.labels[5 * 16 + x], 1);
    }
    assert.equal(b.labels[7 * 16 + 0], 255, 'the void block');
  });

  it('skips a corrupt file with a warning instead of failing the epoch', async () => {
    const root = tmpDir();
    const dir = makeKittiRoad(root);
    fs.writeFileSync(path.join(dir, 'training/image_2/umm_000000.png'), 'not a png');
    const ds = await openDataset('kitti-road', root);
    const warnings: string[] = [];
    const loader = new BatchLoader(ds, await ds.samples('train'), {
      inputShape: [8, 16],
      batchSize: 2,
      shuffle: false,
      seed: 0,
      stream: true,
      progress: false,
      warn: (m) => warnings.push(m),
    });
    const batches = await collect(loader, 0);
    assert.deepEqual(
      batches.flatMap((b) => b.ids),
      ['um_000000', 'uu_000000'],
    );
    assert.equal(loader.skipped.length, 1);
    assert.match(loader.skipped[0].path, /umm_000000\.png$/);
    assert.ok(
      warnings.some((w) => /skipping umm_000000: .*umm_000000\.png/.test(w)),
      warnings.join('\n'),
    );
  });

  it('splits off validation deterministically and independent of listing order', () => {
    const samples: SampleRef[] = Array.from({ length: 20 }, (_, i) => ({
      id: `s${String(i).padStart(2, '0')}`,
      imagePath: '',
      labelPath: '',
    }));
    const a = splitTrainVal(samples, 0.2, 7);
    const b = splitTrainVal(samples.slice().reverse(), 0.2, 7);
    assert.equal(a.val.length, 4);
    assert.deepEqual(
      a.val.map((s) => s.id),
      b.val.map((s) => s.id),
    );
    assert.equal(new Set([...a.train, ...a.val].map((s) => s.id)).size, 20);
    assert.notDeepEqual(
      splitTrainVal(samples, 0.2, 8).val.map((s) => s.id),
      a.val.map((s) => s.id),
    );
    assert.throws(() => splitTrainVal(samples, 1, 0), /validation fraction 1 must be in \[0, 1\)/);
  });
});
