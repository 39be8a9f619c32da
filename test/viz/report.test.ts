import * as tf from '@tensorflow/tfjs';
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { writeRunReport } from '../../src/cli/eval-report';
import { synthesizeRoadSet } from '../../src/data/builtin-road';
import { openDataset } from '../../src/data/open';
import { buildFcn8 } from '../../src/model/fcn8';
import { RUN_FILES, saveCheckpoint } from '../../src/run/checkpoint';
import { writeJson } from '../../src/util/storage';
import { resolveTrainConfig } from '../../src/run/config';
import { CHROMIUM_ARGS } from '../../src/viz/chart-png';
import { ERROR_COLOR, IGNORED_COLOR, errorGrid, errorMap } from '../../src/viz/error-grid';
import { REPORT_FILES, ioUPolicy, writeEvalReport } from '../../src/viz/report';
import { rmDir, tmpDir, useBackend } from '../helpers';

const CHROMIUM = '/usr/bin/chromium';
const CLASSES = [
  { name: 'not road', color: [255, 0, 0] as const },
  { name: 'road', color: [255, 0, 255] as const },
];
const METRICS = {
  totalPixels: 10,
  pixelAccuracy: 0.8,
  meanIoU: 0.5,
  classesInMean: 1,
  frequencyWeightedIoU: 0.4,
  classes: [
    { name: 'road <b>', iou: 0.5, precision: 0.6, recall: 0.7, gtPixels: 10 },
    { name: 'sky', iou: null, precision: null, recall: null, gtPixels: 0 },
  ],
};

describe('error analysis report', function () {
  this.timeout(180_000);
  let dir: string;
  before(async () => {
    await useBackend('wasm');
    dir = tmpDir();
  });
  after(() => rmDir(dir));

  it('errorMap: right pixels keep the photo, wrong ones go red, ignored ones grey', () => {
    const image = { data: Uint8Array.from([100, 100, 100, 100, 100, 100, 100, 100, 100]), height: 1, width: 3 };
    const map = errorMap(
      image,
      { data: Uint8Array.from([1, 1, 255]), height: 1, width: 3 },
      { data: Uint8Array.from([1, 0, 0]), height: 1, width: 3 },
    );
    // 0.3 * 100 + 0.7 * 255 = 208.5 -> 209; 0.3 * 100 + 0.7 * 0 = 30; 0.3 * 100 + 0.7 * 128 = 119.6 -> 120.
    assert.deepEqual(Array.from(map.data), [100, 100, 100, 209, 30, 30, 120, 120, 120]);
    assert.deepEqual(
      [ERROR_COLOR, IGNORED_COLOR],
      [
        [255, 0, 0],
        [128, 128, 128],
      ],
    );
  });

  it('errorGrid: four cells per sample side by side, a row per sample, a legend under them', async () => {
    const row = (id: string) => ({
      id,
      image: { data: new Uint8Array(8 * 16 * 3).fill(90), height: 8, width: 16 },
      label: { data: new Uint8Array(8 * 16).fill(1), height: 8, width: 16 },
      prediction: { data: new Uint8Array(8 * 16), height: 8, width: 16 },
    });
    const png = await errorGrid([row('a'), row('b')], CLASSES, { cellWidth: 32 });
    const meta = await sharp(png).metadata();
    assert.equal(meta.width, 4 * 32 + 3 * 4); // 4 cells and 3 gaps of 4 px
    assert.ok(meta.height > 2 * 16 + 4, `two rows of 16 px plus a legend; got ${meta.height}`);
    // Row 1, cell 4 (error map): every pixel is wrong, so red over the photo: 0.3 * 90 + 0.7 * 255 = 205.5 -> 206.
    const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const at = (x: number, y: number) =>
      Array.from(data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3));
    assert.deepEqual(at(3 * 36 + 10, 5), [206, 27, 27]);
    assert.deepEqual(at(10, 5), [90, 90, 90]);
  });

  it('writeEvalReport: IoU table with the policy, escaped names, worst.png beside the page', () => {
    const out = path.join(dir, 'plain');
    const written = writeEvalReport(out, {
      title: 'run <x>',
      metrics: METRICS,
      confusion: { numClasses: 2, counts: [8, 2, 0, 0] },
      ignoreIndex: 255,
      worst: { png: Buffer.from('png'), by: 'iou', samples: [{ id: 'um_000001', loss: 0.5, meanIoU: 0.25 }] },
    });
    assert.equal(written.html, path.join(out, REPORT_FILES.html));
    assert.equal(fs.readFileSync(path.join(out, REPORT_FILES.worst), 'utf8'), 'png');
    const html = fs.readFileSync(written.html, 'utf8');
    assert.match(html, /<td>road &lt;b&gt;<\/td><td>50\.00<\/td><td>60\.00<\/td><td>70\.00<\/td><td>10<\/td>/);
    assert.match(html, /<td>sky<\/td><td>-<\/td>/);
    assert.ok(html.includes(ioUPolicy(255)), 'policy under the table');
    assert.match(ioUPolicy(255), /Pixels labelled 255 \(ignore\) count nowhere.*left out of the mean IoU/);
    assert.match(html, /<td>1<\/td><td>um_000001<\/td><td>0\.5000<\/td><td>25\.00<\/td>/);
    assert.match(html, /The 1 worst images by mean IoU/);
    assert.match(html, /Plotly\.newPlot\('confusion', /);
    assert.doesNotMatch(html, /<script[^>]+src=/, 'plotly inlined, not linked');
  });

  it('writeEvalReport refuses metrics and a confusion matrix of different class counts', () => {
    assert.throws(
      () =>
        writeEvalReport(path.join(dir, 'bad'), {
          title: 't',
          metrics: METRICS,
          confusion: { numClasses: 3, counts: new Array(9).fill(1) },
          ignoreIndex: 255,
        }),
      /the metrics have 2 classes but the confusion matrix 3/,
    );
  });

  describe('writeRunReport on a run folder, opened in headless Chromium', () => {
    let report: Awaited<ReturnType<typeof writeRunReport>>;
    const out = () => path.join(dir, 'report');

    before(async () => {
      const data = path.join(dir, 'data');
      await synthesizeRoadSet(data, { count: 4, seed: 3, progress: false });
      const ds = await openDataset('kitti-road', data);
      const runDir = path.join(dir, 'run');
      const config = resolveTrainConfig('smoke', { batchSize: 2, valFraction: 0.5, model: { inputShape: [64, 96] } });
      const model = buildFcn8(config.model);
      const optimizer = tf.train.adam(config.learningRate);
      await saveCheckpoint(runDir, model, optimizer, {
        epoch: 1,
        step: 1,
        batchInEpoch: 0,
        partial: { lossSum: 0, regSum: 0, batches: 0 },
      });
      writeJson(path.join(runDir, RUN_FILES.config), config);
      writeJson(path.join(runDir, RUN_FILES.dataset), { name: ds.name, dir: ds.dir, classes: ds.classes });
      model.dispose();
      optimizer.dispose();
      const tensors = tf.memory().numTensors;
      report = await writeRunReport(runDir, null, out(), { k: 2 });
      assert.equal(tf.memory().numTensors, tensors, 'no tensor left after the report');
    });

    it('writes index.html and worst.png for the holdout split', async () => {
      assert.equal(report.images, 2);
      assert.match(report.split, /^holdout \(50% of train, seed 0\)$/);
      assert.ok(fs.existsSync(report.html));
      const meta = await sharp(report.worst!).metadata();
      assert.equal(meta.width, 4 * 96 + 3 * 4);
      const html = fs.readFileSync(report.html, 'utf8');
      assert.match(html, /<td>not road<\/td>/);
      assert.equal((html.match(/<tr><td>\d<\/td><td>u[mu]m?_\d{6}<\/td>/g) ?? []).length, 2, 'two worst samples by id');
    });

    it('draws the confusion heatmap and the worst-images grid in the browser', async function () {
      if (!fs.existsSync(CHROMIUM)) this.skip(); // no Chromium: install it with `sudo apt-get install -y chromium`
      const { chromium } = await import('playwright-core');
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS], headless: true });
      try {
        const page = await browser.newPage();
        const requests: string[] = [];
        page.on('request', (r) => {
          if (!r.url().startsWith('file:')) requests.push(r.url());
        });
        await page.goto(pathToFileURL(report.html).href, { waitUntil: 'load' });
        await page.waitForSelector('#confusion.js-plotly-plot .main-svg', { timeout: 30_000 });
        const drawn = await page.evaluate(() => {
          const el = document.getElementById('confusion') as unknown as { data: { type: string; z: unknown[][] }[] };
          const img = document.getElementById('worst-grid') as HTMLImageElement;
          return {
            type: el.data[0].type,
            rows: el.data[0].z.length,
            heatmapImages: document.querySelectorAll('#confusion .hm image').length,
            imgWidth: img.naturalWidth,
          };
        });
        assert.equal(drawn.type, 'heatmap');
        assert.equal(drawn.rows, 2);
        assert.ok(drawn.heatmapImages >= 1, 'plotly drew the heatmap layer');
        assert.equal(drawn.imgWidth, 4 * 96 + 3 * 4, 'worst.png loaded beside the page');
        assert.deepEqual(requests, [], 'the page fetched nothing from the network');
      } finally {
        await browser.close();
      }
    });
  });
});
