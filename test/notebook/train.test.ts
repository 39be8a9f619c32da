import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import * as path from 'node:path';
import { synthesizeRoadSet } from '../../src/data';
import { resetPlotlyLoaded, trainInNotebook } from '../../src/notebook';
import { resolveTrainConfig } from '../../src/run/config';
import { rmDir, tmpDir, useBackend } from '../helpers';
import { recordingDisplays } from './fake-display';

describe('trainInNotebook', function () {
  this.timeout(300_000);
  let dir: string;

  before(async () => {
    await useBackend('wasm');
    dir = tmpDir('fcn-nbtrain-');
    await synthesizeRoadSet(path.join(dir, 'road'), { count: 8, seed: 2, progress: false });
  });
  after(() => rmDir(dir));
  beforeEach(() => resetPlotlyLoaded());

  it('redraws one chart per epoch in place, and a re-run with more epochs resumes from the checkpoint', async () => {
    const dataset = { name: 'kitti-road' as const, dir: path.join(dir, 'road') };
    const runDir = path.join(dir, 'run');
    const first = recordingDisplays();
    const r1 = await trainInNotebook({
      config: resolveTrainConfig('smoke', { epochs: 1 }),
      dataset,
      runDir,
      weights: null,
      makeDisplay: first.makeDisplay,
      log: () => undefined,
    });
    assert.equal(r1.outcome, 'done');
    const tensorsBefore = tf.memory().numTensors;
    // Displays: status line, plotly.js, chart. The chart: the empty start, then epoch 1.
    assert.equal(first.displays.length, 3);
    const chart1 = first.displays[2].shown.map((s) => String(s.value));
    assert.equal(chart1.length, 2);
    assert.match(chart1[1], /"name":"train","x":\[1\]/);
    assert.match(String(first.displays[0].shown.at(-1)?.value), /training: 1 epochs done/);

    const second = recordingDisplays();
    const r2 = await trainInNotebook({
      config: resolveTrainConfig('smoke', { epochs: 2 }),
      dataset,
      runDir,
      weights: null,
      makeDisplay: second.makeDisplay,
      log: () => undefined,
    });
    assert.deepEqual(
      r2.history.map((h) => h.epoch),
      [1, 2],
    );
    // Neither runTraining nor trainInNotebook keeps a tensor.
    assert.equal(tf.memory().numTensors, tensorsBefore, `${tf.memory().numTensors - tensorsBefore} tensors more`);
    // plotly.js is not sent again; the chart starts from the saved epoch 1 and adds epoch 2.
    assert.equal(second.displays.length, 2);
    const chart2 = second.displays[1].shown.map((s) => String(s.value));
    assert.match(chart2[0], /"name":"train","x":\[1\]/);
    assert.match(chart2[1], /"name":"train","x":\[1,2\]/);
    assert.equal(r2.history[0].trainLoss, r1.history[0].trainLoss);
  });
});
