import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../../src/data/types';
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { buildFcn8 } from '../../src/model/fcn8';
import { loadRunModel, loadTrainState, saveCheckpoint, type TrainState } from '../../src/run/checkpoint';
import { resolveTrainConfig } from '../../src/run/config';
import { adamOptimizer } from '../../src/train/adam';
import { fit, lossGradients, trainableVariables, trainStep, type EpochLogs } from '../../src/train/loop';
import { rmDir, tmpDir, useBackend } from '../helpers';
import { sceneSource } from './fixtures';

const H = 64;
const W = 96;
const freshState = (): TrainState => ({ epoch: 0, step: 0, batchInEpoch: 0, partial: { lossSum: 0, regSum: 0, batches: 0 } });
const CLASSES = ['not road', 'road'];

describe('training loop', function () {
  this.timeout(300_000);
  before(() => useBackend('wasm'));

  it('overfits a few small images: loss falls below 5% of its start', async () => {
    const config = resolveTrainConfig('smoke', { learningRate: 3e-3, model: { widthMultiplier: 1 / 8, inputShape: [H, W] } });
    const model = buildFcn8(config.model);
    const optimizer = adamOptimizer(config.learningRate);
    const source = sceneSource(2, 2, H, W);
    const losses: number[] = [];
    for (let step = 0; step < 120; step++) {
      for await (const b of source.epoch(0)) losses.push((await trainStep(model, optimizer, b, config, step)).loss);
      if (losses[losses.length - 1] < 0.05 * losses[0]) break;
    }
    assert.ok(losses[losses.length - 1] < 0.05 * losses[0],
      `loss went from ${losses[0].toFixed(4)} to ${losses[losses.length - 1].toFixed(4)} in ${losses.length} steps`);
    model.dispose();
    optimizer.dispose();
  });

  it('frees the weights an inference pass packed before a training step packs them again', async () => {
    const config = resolveTrainConfig('smoke', { model: { inputShape: [H, W], widthMultiplier: 1 / 16 } });
    const model = buildFcn8(config.model);
    let batch: Batch | undefined;
    for await (const b of sceneSource(1, 1, H, W).epoch(0)) batch = b;
    tf.dispose(model.predict(tf.zeros([1, H, W, 3])) as tf.Tensor);
    // Unregistering a tensor id is what drops XNNPACK's operators (and packed copies) cached on it.
    const wasm = (tf.backend() as unknown as { wasm: { tfjs: { disposeData(id: number): void } } }).wasm;
    const dataIdMap = (tf.backend() as unknown as { dataIdMap: { get(d: object): { id: number } } }).dataIdMap;
    const ids = trainableVariables(model).map((v) => dataIdMap.get(v.dataId).id);
    const original = wasm.tfjs.disposeData;
    const dropped: number[] = [];
    wasm.tfjs.disposeData = (id: number) => { dropped.push(id); original(id); };
    try {
      const { grads } = await lossGradients(model, batch!, { step: 0, ignoreIndex: 255, classWeights: null });
      tf.dispose(Object.values(grads));
    } finally {
      wasm.tfjs.disposeData = original;
    }
    assert.deepEqual(ids.filter((id) => !dropped.includes(id)), []);
    model.dispose();
  });

  it('leaks no tensor across training steps', async () => {
    const config = resolveTrainConfig('smoke', { model: { inputShape: [H, W] } });
    const model = buildFcn8(config.model);
    const optimizer = adamOptimizer(config.learningRate);
    const source = sceneSource(2, 2, H, W);
    const counts: number[] = [];
    for (let step = 0; step < 6; step++) {
      for await (const b of source.epoch(0)) await trainStep(model, optimizer, b, config, step);
      counts.push(tf.memory().numTensors);
    }
    // Adam creates its slots on the first step; from then on the count must not move.
    assert.deepEqual(counts.slice(1), Array(counts.length - 1).fill(counts[1]), `tensor counts ${counts}`);
    model.dispose();
    optimizer.dispose();
  });

  it('a resumed run continues exactly where it stopped (same losses as an uninterrupted run)', async () => {
    const dir = tmpDir();
    try {
      const config = resolveTrainConfig('smoke', { epochs: 4, model: { inputShape: [H, W], dropout: 0.3 } });
      const train = sceneSource(4, 2, H, W);
      const val = sceneSource(2, 2, H, W);
      const run = async (stopAfterEpoch: number | null, resumeFrom: string | null): Promise<EpochLogs[]> => {
        const history: EpochLogs[] = [];
        const optimizer = adamOptimizer(config.learningRate);
        const model = resumeFrom ? await loadRunModel(resumeFrom) : buildFcn8(config.model);
        const state = resumeFrom ? await loadTrainState(resumeFrom, optimizer) : freshState();
        const stop = { stop: false };
        await fit({
          config, model, optimizer, train, val, classNames: CLASSES, ignoreIndex: 255, state, stop,
          callbacks: { onEpochEnd(e, l) { history.push(l); if (e === stopAfterEpoch) stop.stop = true; } },
          save: (s) => saveCheckpoint(dir, model, optimizer, s),
        });
        model.dispose();
        optimizer.dispose();
        return history;
      };
      const whole = await run(null, null);
      const first = await run(2, null);
      const second = await run(null, dir);
      const resumed = [...first, ...second];
      assert.equal(resumed.length, 4);
      for (let e = 0; e < 4; e++) {
        const a = whole[e].trainLoss;
        const b = resumed[e].trainLoss;
        assert.ok(Math.abs(a - b) <= 1e-6 * Math.abs(a), `epoch ${e + 1}: ${a} uninterrupted vs ${b} resumed`);
        assert.ok(Math.abs((whole[e].valLoss as number) - (resumed[e].valLoss as number)) <= 1e-6 * (whole[e].valLoss as number));
      }
      assert.ok(path.isAbsolute(dir));
    } finally {
      rmDir(dir);
    }
  });
});
