import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { headlineMetrics } from '../../src/cli/start';
import { rmDir, tmpDir } from '../helpers';

describe('fcn start: headline metrics', () => {
  let dir: string;
  before(() => {
    dir = tmpDir('fcn-start-');
  });
  after(() => rmDir(dir));

  it('reads road IoU, mean IoU, accuracy and the KITTI road block from <name>_metrics.json', () => {
    const file = path.join(dir, 'kitti_road_metrics.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        dir: 'data/builtin_road',
        metrics: {
          split: 'holdout',
          images: 20,
          metrics: {
            meanIoU: 0.9,
            pixelAccuracy: 0.95,
            classes: [
              { name: 'not road', iou: 0.88 },
              { name: 'road', iou: 0.91234 },
            ],
          },
          road: { maxF: 0.96, ap: 0.97, precision: 0.955, recall: 0.965 },
        },
      }),
    );
    assert.equal(
      headlineMetrics(file),
      'road IoU 91.23%, mean IoU 90.00%, pixel accuracy 95.00%, MaxF 96.00%, AP 97.00%, precision 95.50%, recall 96.50% ' +
        '(data/builtin_road, holdout, 20 images)',
    );
  });

  it('gives null without a file or without metrics (training was skipped)', () => {
    assert.equal(headlineMetrics(path.join(dir, 'none.json')), null);
    const file = path.join(dir, 'empty_metrics.json');
    fs.writeFileSync(file, JSON.stringify({ dir: 'x', metrics: null }));
    assert.equal(headlineMetrics(file), null);
  });
});
