import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { saveFigures, writtenFigures } from '../../src/notebook';
import { resolveTrainConfig } from '../../src/run/config';
import { rmDir, tmpDir } from '../helpers';

describe('saveFigures without Chromium', () => {
  let dir: string;
  let saved: string | undefined;
  beforeEach(() => {
    dir = tmpDir('fcn-figfiles-');
    saved = process.env.CHROMIUM_PATH;
    process.env.CHROMIUM_PATH = path.join(dir, 'no-chromium');
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.CHROMIUM_PATH;
    else process.env.CHROMIUM_PATH = saved;
    rmDir(dir);
  });

  it("deletes the loss PNG and grid of an earlier run, says why, and lists only this run's files in _config.json", async () => {
    for (const f of ['road_loss.png', 'road_grid.png']) fs.writeFileSync(path.join(dir, f), 'from an earlier run');
    const { notes } = await saveFigures(dir, {
      name: 'road',
      title: 'Loss',
      grid: null,
      config: resolveTrainConfig('smoke'),
      metrics: null,
      history: [
        {
          epoch: 1,
          trainLoss: 0.5,
          regLoss: 0,
          valLoss: 0.6,
          valMeanIoU: 0.4,
          valPixelAccuracy: 0.8,
          seconds: 1,
          warnings: [],
        },
      ],
      source: { dataset: 'kitti-road', dir: 'data/road', runDir: 'runs/x', backend: 'backend: cpu' },
    });
    assert.equal(fs.existsSync(path.join(dir, 'road_loss.png')), false);
    assert.equal(fs.existsSync(path.join(dir, 'road_grid.png')), false);
    assert.match(notes[0], /^road_loss\.png not drawn: Chromium not found .*apt-get install -y chromium/);
    assert.deepEqual(writtenFigures(dir, 'road'), {
      files: ['road_loss.html', 'road_metrics.json', 'road_config.json'],
      notes,
    });
  });
});
