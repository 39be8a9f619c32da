import * as tf from '@tensorflow/tfjs';
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  attachPeerRatios,
  completeRow,
  emptyRow,
  findTorchPython,
  formatTable,
  largestTensorBytes,
  measureRow,
  parseBenchArgs,
  plannedRows,
  rowSkipReason,
  type BenchRow,
  type RowSpec,
} from '../../bench/run';
import { fcn8ForwardFlops } from '../../bench/flops';
import { ConfigError } from '../../src/util/errors';
import { rmDir, tmpDir, useBackend } from '../helpers';

const ROOT = path.join(__dirname, '..', '..');
const TINY: RowSpec = {
  backend: 'wasm',
  forced: true,
  height: 32,
  width: 64,
  batch: 2,
  fc6: 'lite',
  workers: 1,
  widthMultiplier: 1 / 16,
  l2: null,
  warmup: 1,
  steps: 2,
};

/** The fields every results.json row has, with their types. */
const ROW_FIELDS: Record<string, 'string' | 'number' | 'number|null' | 'string|null' | 'array'> = {
  backend: 'string',
  detail: 'string|null',
  height: 'number',
  width: 'number',
  batch: 'number',
  fc6: 'string',
  workers: 'number',
  widthMultiplier: 'number',
  status: 'string',
  reason: 'string|null',
  forwardMs: 'number|null',
  trainStepMs: 'number|null',
  trainToForward: 'number|null',
  imagesPerSecond: 'number|null',
  forwardImagesPerSecond: 'number|null',
  forwardGflop: 'number',
  forwardGflopPerSecond: 'number|null',
  peakTensorMiB: 'number|null',
  peakRssMiB: 'number|null',
  epochSeconds: 'number|null',
  forwardSamplesMs: 'array',
  trainSamplesMs: 'array',
};

function assertRowSchema(row: Record<string, unknown>): void {
  for (const [key, type] of Object.entries(ROW_FIELDS)) {
    assert.ok(key in row, `row lacks ${key}`);
    const v = row[key];
    const ok =
      type === 'array'
        ? Array.isArray(v)
        : type
            .split('|')
            .some((t) => (t === 'null' ? v === null : typeof v === t && (t !== 'number' || Number.isFinite(v))));
    assert.ok(ok, `${key} = ${JSON.stringify(v)} is not ${type}`);
  }
}

const approx = (a: number | null, b: number, what: string) => {
  assert.ok(a !== null && Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
};

describe('bench/run', function () {
  this.timeout(120_000);

  describe('measureRow on wasm (tiny model)', () => {
    before(() => useBackend('wasm'));

    it('measures 32x64 batch 2 lite, 1 worker: a complete, consistent row without leaking tensors', async () => {
      const before = tf.memory().numTensors;
      const row = await measureRow(TINY, 'test');
      assert.equal(tf.memory().numTensors, before);
      assertRowSchema(row as unknown as Record<string, unknown>);
      assert.equal(row.status, 'ok', row.reason ?? '');
      assert.equal(row.forwardSamplesMs.length, 2);
      assert.equal(row.trainSamplesMs.length, 2);
      assert.ok((row.forwardMs as number) > 0 && (row.trainStepMs as number) > 0);
      approx(row.imagesPerSecond, 2000 / (row.trainStepMs as number), 'images/s');
      approx(row.trainToForward, (row.trainStepMs as number) / (row.forwardMs as number), 'step/forward');
      approx(
        row.forwardGflop,
        fcn8ForwardFlops({ fc6: 'lite', widthMultiplier: 1 / 16, numClasses: 2 }, 32, 64, 2) / 1e9,
        'GFLOP',
      );
      approx(row.forwardGflopPerSecond, row.forwardGflop / ((row.forwardMs as number) / 1000), 'GFLOP/s');
      assert.ok((row.peakTensorMiB as number) > 0, 'a training step holds tensors');
    });

    it('measures 2 workers with the data-parallel trainer (training only)', async () => {
      const before = tf.memory().numTensors;
      const row = await measureRow({ ...TINY, workers: 2, steps: 1 });
      assert.equal(tf.memory().numTensors, before);
      assertRowSchema(row as unknown as Record<string, unknown>);
      assert.equal(row.status, 'ok', row.reason ?? '');
      assert.equal(row.forwardMs, null);
      assert.ok((row.trainStepMs as number) > 0);
    });
  });

  describe('rows that are not run', () => {
    it('skips a row that does not fit in the wasm heap, naming the size', () => {
      const reason = rowSkipReason(
        { ...TINY, height: 640, width: 1920, batch: 8, fc6: 'paper', widthMultiplier: 1 },
        null,
      );
      assert.match(reason ?? '', /^skipped: does not fit \(\d+\.\d\d GiB; wasm heap .* holds 3\.60 GiB\)$/);
    });

    it('skips a WebGPU row whose largest tensor is over the per-buffer limit', () => {
      const lavapipe = 128 * 1024 ** 2; // llvmpipe's maxStorageBufferBindingSize
      const spec = {
        ...TINY,
        backend: 'webgpu' as const,
        height: 32,
        width: 96,
        batch: 1,
        fc6: 'paper' as const,
        widthMultiplier: 1,
      };
      // The paper fc6 kernel, 7*7*512*4096 floats = 411041792 bytes = 0.38 GiB.
      assert.equal(largestTensorBytes(spec), 7 * 7 * 512 * 4096 * 4);
      assert.equal(
        rowSkipReason(spec, lavapipe),
        'skipped: does not fit (largest tensor 0.38 GiB; webgpu binds at most 0.13 GiB per tensor)',
      );
      // At half width it is 7*7*256*2048*4 = 102760448 bytes: it fits.
      assert.equal(rowSkipReason({ ...spec, widthMultiplier: 0.5 }, lavapipe), null);
    });

    it('runs VGG16 at 96x288 batch 2 on wasm (it fits)', () => {
      assert.equal(rowSkipReason({ ...TINY, height: 96, width: 288, widthMultiplier: 1 }, null), null);
    });

    it('skips workers on a GPU backend and batches that do not split', () => {
      assert.match(
        rowSkipReason({ ...TINY, backend: 'webgpu', workers: 2 }, null) ?? '',
        /^skipped: 2 workers .* webgpu runs one/,
      );
      assert.match(
        rowSkipReason({ ...TINY, batch: 3, workers: 2 }, null) ?? '',
        /^skipped: batch 3 does not split over 2 workers/,
      );
    });
  });

  describe('flags', () => {
    it('plans backends x shapes x fc6 x workers, cpu only when named', () => {
      const o = parseBenchArgs([], {});
      assert.deepEqual(o.shapes, [
        [96, 288],
        [160, 576],
      ]);
      const rows = plannedRows(o);
      assert.equal(rows.length, 4 * 2 * 2 * 2); // gpu, webgpu, node, wasm
      assert.ok(rows.every((r) => r.backend !== 'cpu' && !r.forced && r.batch === 2));
    });

    it('--quick is one shape, lite, 1 and 2 workers', () => {
      const rows = plannedRows(parseBenchArgs(['--quick', '--backends', 'wasm'], {}));
      assert.deepEqual(
        rows.map((r) => `${r.height}x${r.width} ${r.fc6} w${r.workers}`),
        ['96x288 lite w1', '96x288 lite w2'],
      );
      assert.ok(rows.every((r) => r.forced));
    });

    it('FCN_BACKEND picks the backend when --backends is not given', () => {
      assert.deepEqual(parseBenchArgs([], { FCN_BACKEND: 'webgpu' }).backends, ['webgpu']);
      assert.deepEqual(parseBenchArgs(['--backends', 'wasm,cpu'], { FCN_BACKEND: 'webgpu' }).backends, ['wasm', 'cpu']);
    });

    it('rejects bad values with the fix', () => {
      assert.throws(
        () => parseBenchArgs(['--shapes', '100x300'], {}),
        (e: Error) => e instanceof ConfigError && /use 128x320/.test(e.message),
      );
      assert.throws(
        () => parseBenchArgs(['--backends', 'cuda'], {}),
        /"cuda" is not one of gpu, webgpu, node, wasm, cpu/,
      );
      assert.throws(() => parseBenchArgs(['--fc6', 'big'], {}), /"big" is not lite or paper/);
      assert.throws(() => parseBenchArgs(['--steps', '0'], {}), /--steps must be a positive integer; got "0"/);
      assert.throws(() => parseBenchArgs(['--frobnicate'], {}), /unknown flag "--frobnicate"/);
    });
  });

  describe('derived columns and the table', () => {
    const spec = {
      backend: 'wasm',
      height: 96,
      width: 288,
      batch: 2,
      fc6: 'lite' as const,
      workers: 1,
      widthMultiplier: 1,
    };

    it('derives ratio, throughput and the KITTI Road epoch from the medians', () => {
      const row = completeRow(emptyRow(spec, 'ok', null), 100, 400);
      assert.equal(row.trainToForward, 4);
      assert.equal(row.imagesPerSecond, 5); // 2 images / 0.4 s
      assert.equal(row.forwardImagesPerSecond, 20); // 2 images / 0.1 s
      approx(row.epochSeconds, 57.8, 'epoch'); // 289 images * 0.4 s / 2
    });

    it('gives our throughput over the peer of the same shape and fc6', () => {
      const ours = completeRow(emptyRow(spec, 'ok', null), 300, 2000);
      const peer = completeRow(emptyRow({ ...spec, backend: 'pytorch-cpu' }, 'ok', null), 150, 500);
      const other = completeRow(emptyRow({ ...spec, fc6: 'paper' }, 'ok', null), 1, 1);
      const [r, o] = attachPeerRatios([ours, other], [peer]);
      approx(r.vsPeerTrain ?? null, 0.25, 'train ratio'); // 500 ms / 2000 ms
      approx(r.vsPeerForward ?? null, 0.5, 'forward ratio'); // 150 ms / 300 ms
      assert.equal(o.vsPeerTrain, undefined);
    });

    it('prints measured rows as numbers and skipped rows with their reason', () => {
      const rows: BenchRow[] = [
        completeRow(emptyRow(spec, 'ok', null), 100, 400),
        emptyRow({ ...spec, fc6: 'paper' }, 'skipped', 'skipped: does not fit (5.00 GiB)'),
      ];
      const lines = formatTable(rows).split('\n');
      assert.equal(lines.length, 3);
      assert.match(lines[0], /^backend +input +batch +fc6 +workers +forward ms +step ms/);
      assert.match(lines[1], /^wasm +96x288 +2 +lite +1 +100 +400 +4\.00 +5\.00 /);
      assert.match(lines[2], /^wasm +96x288 +2 +paper +1 +skipped: does not fit \(5\.00 GiB\)$/);
    });
  });

  describe('the command', () => {
    let dir: string;
    beforeEach(() => {
      dir = tmpDir('fcn-bench-');
    });
    afterEach(() => rmDir(dir));

    const runBench = (args: string[]) =>
      spawnSync(process.execPath, ['--require', 'tsx/cjs', path.join(ROOT, 'bench', 'run.ts'), ...args], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, FCN_BACKEND: '' },
      });

    it('writes results.json with one row per planned row and prints the table', () => {
      const out = path.join(dir, 'results.json');
      const r = runBench([
        '--backends',
        'wasm',
        '--shapes',
        '32x64',
        '--fc6',
        'lite,paper',
        '--workers',
        '1',
        '--width',
        '0.0625',
        '--steps',
        '1',
        '--out',
        out,
      ]);
      assert.equal(r.status, 0, r.stderr);
      const results = JSON.parse(fs.readFileSync(out, 'utf8')) as { rows: Record<string, unknown>[] };
      assert.deepEqual(
        results.rows.map((row) => [row.backend, row.fc6, row.status]),
        [
          ['wasm', 'lite', 'ok'],
          ['wasm', 'paper', 'ok'],
        ],
      );
      results.rows.forEach(assertRowSchema);
      assert.match(r.stdout, /^wasm +32x64 +2 +lite +1 +\d+/m);
      assert.match(r.stdout, /^wasm +32x64 +2 +paper +1 +\d+/m);
    });

    it('runs the PyTorch peer in the same run where python3 has torch', function () {
      if (!findTorchPython()) this.skip();
      const out = path.join(dir, 'results.json');
      const r = runBench([
        '--backends',
        'wasm',
        '--shapes',
        '32x64',
        '--fc6',
        'lite',
        '--workers',
        '1',
        '--width',
        '0.0625',
        '--steps',
        '1',
        '--peer',
        'pytorch',
        '--out',
        out,
      ]);
      assert.equal(r.status, 0, r.stderr);
      const { rows } = JSON.parse(fs.readFileSync(out, 'utf8')) as { rows: BenchRow[] };
      assert.deepEqual(
        rows.map((row) => [row.backend, row.status]),
        [
          ['wasm', 'ok'],
          ['pytorch-cpu', 'ok'],
        ],
      );
      assertRowSchema(rows[1] as unknown as Record<string, unknown>);
      approx(
        rows[0].vsPeerTrain ?? null,
        (rows[0].imagesPerSecond as number) / (rows[1].imagesPerSecond as number),
        'vs peer',
      );
      assert.match(r.stdout, /^wasm .* \d+\.\d\dx$/m);
    });
  });
});
