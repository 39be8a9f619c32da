import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  compareTable,
  differingSettings,
  hyperparameters,
  listRunFolders,
  notebookRunDir,
  readRunFolder,
  runCurves,
  trainConfigOf,
  type Hyperparameters,
} from '../../src/notebook';
import { writeRunSettings } from '../../src/notebook/run-folder';
import { RUN_FILES } from '../../src/run/checkpoint';
import type { EpochLogs } from '../../src/train/loop';
import { compareRunsChart } from '../../src/viz/compare-chart';
import { rmDir, tmpDir } from '../helpers';

const epoch = (n: number, valLoss: number, valMeanIoU: number): EpochLogs => ({
  epoch: n,
  trainLoss: valLoss + 0.1,
  regLoss: 0,
  valLoss,
  valMeanIoU,
  valPixelAccuracy: 0.9,
  seconds: 30,
  warnings: [],
});

/** A run folder as runTraining leaves it (the checkpoint's files as stand-ins), with the notebook's settings. */
function fakeRun(root: string, hp: Hyperparameters, history: EpochLogs[]): string {
  const config = trainConfigOf('smoke', hp, 'kitti-road');
  const dir = notebookRunDir(config, 'kitti-road', hp.dataDir, hp.pretrained, { FCN_RUNS: root });
  writeRunSettings(dir, hp);
  for (const f of [RUN_FILES.model, RUN_FILES.weights]) fs.writeFileSync(path.join(dir, f), '');
  fs.writeFileSync(path.join(dir, RUN_FILES.state), JSON.stringify({ epoch: history.length }));
  fs.writeFileSync(path.join(dir, RUN_FILES.config), JSON.stringify(config));
  fs.writeFileSync(path.join(dir, RUN_FILES.history), JSON.stringify(history));
  return dir;
}

describe('compare runs', () => {
  let root: string;
  beforeEach(() => {
    root = tmpDir('fcn-compare-');
  });
  afterEach(() => rmDir(root));

  it("lists this dataset's run folders with a checkpoint, oldest first; the legend and table name what differs", () => {
    const base = hyperparameters('smoke', 'kitti-road', { dataDir: '/data/road' }, {});
    const first = fakeRun(root, base, [epoch(1, 0.6, 0.4), epoch(2, 0.5, 0.55)]);
    const past = new Date(Date.now() - 60_000);
    fs.utimesSync(path.join(first, RUN_FILES.config), past, past);
    fakeRun(root, { ...base, learningRate: 5e-4, epochs: 3 }, [
      epoch(1, 0.7, 0.3),
      epoch(2, 0.45, 0.6),
      epoch(3, 0.4, 0.62),
    ]);
    fs.mkdirSync(path.join(root, 'notebook-kitti-road-smoke-empty')); // no checkpoint: not a run yet
    fs.mkdirSync(path.join(root, 'notebook-camvid-smoke-other'));

    const runs = listRunFolders(root, 'kitti-road');
    assert.equal(runs.length, 2);
    assert.equal(runs[0].dir, first);
    assert.deepEqual(
      differingSettings(runs),
      ['learningRate 0.001', 'learningRate 0.0005'],
      'epochs are a column, not a difference',
    );
    const table = compareTable(runs).split('\n');
    assert.match(table[0], /^run\s+settings that differ\s+best val mIoU\s+epochs\s+minutes$/);
    assert.match(table[1], /^notebook-kitti-road-smoke-[0-9a-f]{8}\s+learningRate 0\.001\s+55\.0%\s+2\s+1\.0$/);
    assert.match(table[2], /learningRate 0\.0005\s+62\.0%\s+3\s+1\.5$/);

    const chart = compareRunsChart(runCurves(runs));
    // Two panels (loss, mean IoU) per run; one legend entry per run.
    assert.equal(chart.data.length, 4);
    assert.deepEqual(
      chart.data.filter((t) => t.showlegend).map((t) => t.name),
      ['learningRate 0.001', 'learningRate 0.0005'],
    );
    assert.deepEqual(chart.data[3].y, [0.3, 0.6, 0.62]);
    assert.equal(chart.data[3].yaxis, 'y2');
  });

  it('a single run, or runs alike but for epochs, read "all alike"; a folder without a checkpoint is not a run', () => {
    const hp = hyperparameters('smoke', 'kitti-road', { dataDir: '/data/road' }, {});
    const dir = fakeRun(root, hp, [epoch(1, 0.6, 0.4)]);
    assert.deepEqual(differingSettings(listRunFolders(root, 'kitti-road')), ['all alike']);
    fs.rmSync(path.join(dir, RUN_FILES.weights));
    assert.equal(readRunFolder(dir), null);
  });
});
