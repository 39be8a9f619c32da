import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openDataset, readPngInfo } from '../../src/data';
import { GRID_CELL_WIDTH, LOSS_FIGURE_SIZE } from '../../src/notebook';
import { findChromium } from '../../src/viz/chart-png';
import { useExecutedNotebooks } from './executed';

describe('figures/ after a smoke run', function () {
  const run = useExecutedNotebooks();

  it('holds the loss HTML, the loss PNG at the chart size, and config/metrics for each dataset', async function () {
    for (const name of ['kitti_road', 'kitti_semantic', 'cityscapes', 'camvid']) {
      const file = (suffix: string) => path.join(run().figures, `${name}_${suffix}`);
      assert.match(fs.readFileSync(file('loss.html'), 'utf8'), /Plotly\.newPlot\('figure'/);
      // The minified plotly.js inlined: the page renders offline and stays under 5 MB.
      assert.ok(fs.statSync(file('loss.html')).size <= 5e6, `${file('loss.html')} is over 5 MB`);
      if (findChromium()) {
        const png = await readPngInfo(file('loss.png'));
        assert.deepEqual([png.width, png.height], [LOSS_FIGURE_SIZE.width, LOSS_FIGURE_SIZE.height]);
      }
      const config = JSON.parse(fs.readFileSync(file('config.json'), 'utf8'));
      assert.equal(config.config.preset, 'smoke');
      // The files this run wrote, each there; a PNG it could not draw is listed nowhere and not left over.
      const expected = [
        'loss.html',
        ...(findChromium() ? ['loss.png'] : []),
        'grid.png',
        'metrics.json',
        'config.json',
      ];
      assert.deepEqual(
        config.files,
        expected.map((f) => `${name}_${f}`),
      );
      for (const f of config.files) assert.ok(fs.existsSync(path.join(run().figures, f)), f);
      assert.equal(fs.existsSync(file('loss.png')), Boolean(findChromium()));
      const metrics = JSON.parse(fs.readFileSync(file('metrics.json'), 'utf8'));
      assert.equal(metrics.history.length, 2);
      assert.ok(metrics.metrics.metrics.meanIoU >= 0 && metrics.metrics.metrics.meanIoU <= 1);
    }
  });

  it('kitti_road_grid.png is the 2x2 layout of the test images at the cell width', async () => {
    const ds = await openDataset('kitti-road', path.join(run().root, 'road'));
    const test = (await ds.samples('test')).slice(0, 4);
    const sizes = await Promise.all(test.map((s) => readPngInfo(s.imagePath)));
    const cell = Math.min(GRID_CELL_WIDTH, Math.max(...sizes.map((s) => s.width)));
    const cols = Math.min(2, test.length);
    const rows = Math.ceil(test.length / cols);
    const cellHeight = Math.max(...sizes.map((s) => Math.max(1, Math.round((s.height * cell) / s.width))));
    const grid = await readPngInfo(path.join(run().figures, 'kitti_road_grid.png'));
    // imageGrid: cells 4 px apart.
    assert.deepEqual([grid.width, grid.height], [cols * cell + (cols - 1) * 4, rows * cellHeight + (rows - 1) * 4]);
  });

  it('multi-class grids carry a legend strip under the images', async () => {
    const grid = await readPngInfo(path.join(run().figures, 'cityscapes_grid.png'));
    const ds = await openDataset('cityscapes', path.join(run().root, 'cityscapes'));
    const test = await ds.samples('test');
    const image = await readPngInfo(test[0].imagePath);
    assert.ok(grid.height > image.height, `grid ${grid.height} px high holds only the ${image.height} px image`);
  });
});
