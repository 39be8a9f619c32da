import * as tf from '@tensorflow/tfjs';
import { strict as assert } from 'node:assert';
import { synthesizeRoadSet } from '../../src/data/builtin-road';
import { openDataset } from '../../src/data/open';
import type { SegDataset } from '../../src/data/types';
import { resolveTrainConfig } from '../../src/run/config';
import { overfitBatch } from '../../src/train/overfit';
import { rmDir, tmpDir, useBackend } from '../helpers';

describe('overfit one batch', function () {
  this.timeout(180_000);
  let dir: string;
  let ds: SegDataset;
  before(async () => {
    await useBackend('wasm');
    dir = tmpDir();
    await synthesizeRoadSet(dir, { count: 3, seed: 1, progress: false });
    ds = await openDataset('kitti-road', dir);
  });
  after(() => rmDir(dir));

  it('drives a batch of two road images to near-zero loss and says pass', async () => {
    const config = resolveTrainConfig('smoke', {
      learningRate: 3e-3,
      batchSize: 2,
      model: { inputShape: [64, 96], widthMultiplier: 1 / 8, dropout: 0.5 },
    });
    const tensors = tf.memory().numTensors;
    const result = await overfitBatch(config, ds, { maxSteps: 250, targetLoss: 0.05 });
    assert.ok(result.passed, result.line);
    assert.equal(result.losses.length, result.steps);
    assert.ok(result.losses[result.steps - 1] <= 0.05);
    assert.ok(result.losses[0] > 0.3, `a fresh model starts near ln 2, got ${result.losses[0]}`);
    assert.deepEqual(result.ids, ['um_000000', 'umm_000000']);
    assert.match(
      result.line,
      /^overfit-batch: pass: loss \d\.\d{4} -> 0\.0\d{3} <= 0\.05 in \d+ steps \(2 image\(s\) at 64x96/,
    );
    assert.equal(tf.memory().numTensors, tensors, 'tensor count after the check');
  });

  it('says fail with what to look at when the loss does not get there', async () => {
    const config = resolveTrainConfig('smoke', { batchSize: 1, model: { inputShape: [64, 96] } });
    const result = await overfitBatch(config, ds, { maxSteps: 2, targetLoss: 1e-4 });
    assert.equal(result.passed, false);
    assert.equal(result.steps, 2);
    assert.match(
      result.line,
      /^overfit-batch: fail: .* after 2 steps, target 0\.0001 .*check the labels \(`fcn data check`\)/,
    );
  });
});
