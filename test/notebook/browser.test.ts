import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../../src/notebook';
import { findChromium, launchChromium } from '../../src/viz/chart-png';
import { useExecutedNotebooks } from './executed';

/** Kept after the run (git-ignored), to look at what the browser showed. */
const ARTEFACTS = path.join(PROJECT_ROOT, 'test-artifacts', 'notebook');

describe('kitti_road notebook exported to HTML, in headless Chromium', function () {
  const run = useExecutedNotebooks(() =>
    findChromium() ? null : 'Chromium is not installed (bash scripts/setup.sh --test installs it)',
  );

  it('draws the loss, lr-finder and compare charts, the confusion heatmap, and the image grids, offline', async function () {
    this.timeout(120_000);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      // Offline: every script the page needs (plotly.js among them) is in the file.
      await page.route(/^https?:/, (route) => route.abort());
      await page.goto(`file://${run().outputs['kitti-road'].html}`, { waitUntil: 'load' });
      await page.waitForSelector('.fcn-figure .main-svg', { timeout: 60_000 });
      const heatmaps = await page.$$eval('.fcn-figure .heatmaplayer image', (els) => els.length);
      assert.equal(heatmaps, 1, 'the confusion heatmap is drawn');
      const charts = await page.$$eval('.fcn-figure', (els) =>
        els.map((el) => ({
          legend: Array.from(el.querySelectorAll('.legendtext'), (e) => e.textContent),
          points: el.querySelectorAll('.scatterlayer .trace .points path').length,
        })),
      );
      const loss = charts.find((c) => c.legend.includes('train'));
      assert.deepEqual(loss?.legend, ['train', 'validation']);
      // Two epochs: one marker per epoch on each trace.
      assert.equal(loss?.points, 4);
      assert.ok(
        charts.some((c) => c.legend.includes('smoothed')),
        "the lr finder's chart",
      );
      assert.ok(
        charts.some((c) => c.legend.includes('all alike')),
        'the compare chart, one run',
      );
      const images = await page.$$eval('img', (els) =>
        els.filter((e) => e.src.startsWith('data:image/jpeg')).map((e) => [e.naturalWidth, e.naturalHeight]),
      );
      assert.equal(images.length, 3, 'the data grid, the test grid and the worst-images grid');
      assert.deepEqual(errors, [], 'no JavaScript error in the page');
      assert.ok(
        images.every(([w, h]) => w > 100 && h > 50),
        JSON.stringify(images),
      );
      fs.mkdirSync(ARTEFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTEFACTS, 'kitti_road.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
