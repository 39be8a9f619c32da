import * as tf from '@tensorflow/tfjs';
import { strict as assert } from 'node:assert';
import { buildFcn8 } from '../../src/model/fcn8';
import { resolveTrainConfig } from '../../src/run/config';
import { findLearningRate, suggestLearningRate, type LrPoint } from '../../src/train/lr-find';
import { lrFindChart } from '../../src/viz/lr-find-chart';
import { ConfigError } from '../../src/util/errors';
import { useBackend } from '../helpers';
import { sceneSource } from './fixtures';

const H = 64;
const W = 96;

/** Points on a log grid whose smoothed loss is `f(log10 lr)`. */
function curve(f: (e: number) => number): LrPoint[] {
  return Array.from({ length: 41 }, (_, i) => {
    const e = -6 + i * 0.15;
    return { step: i, lr: 10 ** e, loss: f(e), smoothed: f(e) };
  });
}

describe('learning-rate finder', function () {
  this.timeout(120_000);
  before(() => useBackend('wasm'));

  it('sweeps exponentially, restores the weights exactly and leaks no tensor', async () => {
    const config = resolveTrainConfig('smoke', { model: { inputShape: [H, W] } });
    const model = buildFcn8(config.model);
    const before = await Promise.all(model.getWeights().map((w) => w.data()));
    const tensors = tf.memory().numTensors;
    const result = await findLearningRate(model, sceneSource(4, 2, H, W), {
      config,
      start: 1e-5,
      end: 1e-1,
      steps: 12,
      divergeFactor: 100,
    });
    assert.equal(result.points.length, 12, `stopped early: ${result.stoppedEarly}`);
    assert.ok(Math.abs(result.points[0].lr - 1e-5) < 1e-12);
    assert.ok(Math.abs(result.points[11].lr - 1e-1) / 1e-1 < 1e-9);
    // Constant ratio: 10^(4/11) per step.
    for (let i = 1; i < 12; i++) {
      assert.ok(Math.abs(result.points[i].lr / result.points[i - 1].lr - 10 ** (4 / 11)) < 1e-9, `step ${i}`);
    }
    assert.ok(result.points.every((p) => Number.isFinite(p.loss) && p.loss > 0));
    assert.equal(tf.memory().numTensors, tensors, 'tensor count after lr-find');
    const after = await Promise.all(model.getWeights().map((w) => w.data()));
    after.forEach((a, i) => assert.deepEqual(a, before[i], `weight ${i} changed`));
    model.dispose();
  });

  it('stops when the loss diverges at a far too high rate', async () => {
    const config = resolveTrainConfig('smoke', { model: { inputShape: [H, W] } });
    const model = buildFcn8(config.model);
    const result = await findLearningRate(model, sceneSource(2, 2, H, W), {
      config,
      start: 1e-3,
      end: 1e4,
      steps: 40,
      divergeFactor: 1.5,
    });
    assert.ok(result.stoppedEarly, 'should stop before 1e4');
    assert.ok(result.points.length < 40);
    model.dispose();
  });

  it('suggests the steepest descent before the minimum', () => {
    // Flat at 1, falls fastest at lr 1e-3 (tanh centred at e = -3), lowest near 1e-1, then rises.
    const points = curve((e) => (e < -1 ? 0.6 - 0.4 * Math.tanh(2 * (e + 3)) : 0.2 + (e + 1) ** 2));
    const s = suggestLearningRate(points);
    assert.ok(s !== null);
    assert.ok(Math.abs(Math.log10(s) + 3) <= 0.15, `suggested ${s}, expected about 1e-3`);
  });

  it('no suggestion when the loss only rises', () => {
    assert.equal(suggestLearningRate(curve((e) => 1 + 0.1 * (e + 6))), null);
  });

  it('the chart plots loss against a log learning-rate axis with the suggestion', () => {
    const points = curve((e) => (e < -1 ? 0.6 - 0.4 * Math.tanh(2 * (e + 3)) : 0.2 + (e + 1) ** 2));
    const fig = lrFindChart({ points, suggestion: suggestLearningRate(points) });
    assert.equal((fig.layout.xaxis as { type: string }).type, 'log');
    assert.equal(fig.data.length, 3);
    assert.match(String(fig.data[2].name), /^suggested 1\.0e-3$/);
  });

  it('rejects a sweep that does not grow', async () => {
    const config = resolveTrainConfig('smoke');
    await assert.rejects(
      findLearningRate({} as tf.LayersModel, sceneSource(2, 2, H, W), { config, start: 1, end: 1e-3 }),
      ConfigError,
    );
  });
});
