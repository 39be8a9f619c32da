import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../../src/data/types';
import { strict as assert } from 'node:assert';
import { buildFcn8 } from '../../src/model/fcn8';
import { loadRunModel, loadTrainState, saveCheckpoint, type TrainState } from '../../src/run/checkpoint';
import { resolveTrainConfig } from '../../src/run/config';
import { adamOptimizer } from '../../src/train/adam';
import {
  TrainingDivergedError,
  fit,
  lossGradients,
  trainableVariables,
  trainStep,
  type EpochLogs,
} from '../../src/train/loop';
import { rmDir, tmpDir, useBackend } from '../helpers';
import { sceneSource } from './fixtures';

const H = 64;
const W = 96;
const freshState = (): TrainState => ({
  epoch: 0,
  step: 0,
  batchInEpoch: 0,
  partial: { lossSum: 0, regSum: 0, batches: 0 },
});
const CLASSES = ['not road', 'road'];

describe('training loop', function () {
  this.timeout(300_000);
  before(() => useBackend('wasm'));

  it('overfits a few small images: loss falls below 5% of its start', async () => {
    const config = resolveTrainConfig('smoke', {
      learningRate: 3e-3,
      model: { widthMultiplier: 1 / 8, inputShape: [H, W] },
    });
    const model = buildFcn8(config.model);
    const optimizer = adamOptimizer(config.learningRate);
    const source = sceneSource(2, 2, H, W);
    const losses: number[] = [];
    for (let step = 0; step < 120; step++) {
      for await (const b of source.epoch(0)) losses.push((await trainStep(model, optimizer, b, config, step)).loss);
      if (losses[losses.length - 1] < 0.05 * losses[0]) break;
    }
    assert.ok(
      losses[losses.length - 1] < 0.05 * losses[0],
      `loss went from ${losses[0].toFixed(4)} to ${losses[losses.length - 1].toFixed(4)} in ${losses.length} steps`,
    );
    model.dispose();
    optimizer.dispose();
  });

  it('frees the weights an inference pass packed before a training step packs them again', async () => {
    const config = resolveTrainConfig('smoke', { model: { inputShape: [H, W], widthMultiplier: 1 / 16 } });
    const model = buildFcn8(config.model);
    let batch: Batch | undefined;
    for await (const b of sceneSource(1, 1, H, W).epoch(0)) batch = b;
    tf.dispose(model.predict(tf.zeros([1, H, W, 3])));
    // Unregistering a tensor id is what drops XNNPACK's operators (and packed copies) cached on it.
    const wasm = (tf.backend() as unknown as { wasm: { tfjs: { disposeData: (id: number) => void } } }).wasm;
    const dataIdMap = (tf.backend() as unknown as { dataIdMap: { get: (d: object) => { id: number } } }).dataIdMap;
    const ids = trainableVariables(model).map((v) => dataIdMap.get(v.dataId).id);
    const original = wasm.tfjs.disposeData;
    const dropped: number[] = [];
    wasm.tfjs.disposeData = (id: number) => {
      dropped.push(id);
      original(id);
    };
    try {
      const { grads } = await lossGradients(model, batch!, { step: 0, ignoreIndex: 255, classWeights: null });
      tf.dispose(Object.values(grads));
    } finally {
      wasm.tfjs.disposeData = original;
    }
    assert.deepEqual(
      ids.filter((id) => !dropped.includes(id)),
      [],
    );
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
    assert.deepEqual(counts.slice(1), Array(counts.length - 1).fill(counts[1]), `tensor counts ${counts.join(', ')}`);
    model.dispose();
    optimizer.dispose();
  });

  /**
   * Trains `config` on 4 scenes into `dir`, stopping when `stopAt(epoch, step)` says so; resumes from `dir` when asked.
   */
  async function trainRun(
    config: ReturnType<typeof resolveTrainConfig>,
    dir: string,
    resume: boolean,
    stopAt: (epochEnd: number | null, step: number) => boolean = () => false,
  ): Promise<{ history: EpochLogs[]; batchLosses: number[] }> {
    const history: EpochLogs[] = [];
    const batchLosses: number[] = [];
    const optimizer = adamOptimizer(config.learningRate);
    const model = resume ? await loadRunModel(dir) : buildFcn8(config.model);
    const state = resume ? await loadTrainState(dir, optimizer) : freshState();
    const stop = { stop: false };
    await fit({
      config,
      model,
      optimizer,
      train: sceneSource(4, 2, H, W),
      val: sceneSource(2, 2, H, W),
      classNames: CLASSES,
      ignoreIndex: 255,
      state,
      stop,
      callbacks: {
        onBatchEnd(step, l) {
          batchLosses.push(l.loss);
          if (stopAt(null, step)) stop.stop = true;
        },
        onEpochEnd(e, l) {
          history.push(l);
          if (stopAt(e, state.step)) stop.stop = true;
        },
      },
      save: (s) => saveCheckpoint(dir, model, optimizer, s),
    });
    model.dispose();
    optimizer.dispose();
    return { history, batchLosses };
  }

  for (const [when, stopAt] of [
    ['at the end of an epoch', (e: number | null) => e === 2],
    ['in the middle of an epoch', (e: number | null, step: number) => e === null && step === 5],
  ] as const) {
    it(`a run stopped ${when} resumes exactly (same losses as an uninterrupted run)`, async () => {
      const dir = tmpDir();
      try {
        const config = resolveTrainConfig('smoke', { epochs: 4, model: { inputShape: [H, W], dropout: 0.3 } });
        const whole = await trainRun(config, dir + '-whole', false);
        rmDir(dir + '-whole');
        const first = await trainRun(config, dir, false, stopAt);
        const second = await trainRun(config, dir, true);
        const losses = [...first.batchLosses, ...second.batchLosses];
        assert.equal(losses.length, whole.batchLosses.length);
        // Equal to float rounding (2e-6 seen): a wrong Adam state or data order moves losses by far more.
        losses.forEach((l, i) =>
          assert.ok(
            Math.abs(l - whole.batchLosses[i]) <= 1e-5 * Math.abs(l),
            `step ${i + 1}: ${losses.join(', ')} resumed vs ${whole.batchLosses.join(', ')}`,
          ),
        );
        const epochs = [...first.history, ...second.history];
        assert.equal(epochs.length, 4);
        for (let e = 0; e < 4; e++) {
          const a = whole.history[e];
          const b = epochs[e];
          assert.ok(
            Math.abs(a.trainLoss - b.trainLoss) <= 1e-5 * a.trainLoss,
            `epoch ${e + 1}: ${a.trainLoss} vs ${b.trainLoss}`,
          );
          assert.ok(Math.abs((a.valLoss as number) - (b.valLoss as number)) <= 1e-5 * (a.valLoss as number));
        }
      } finally {
        rmDir(dir);
      }
    });
  }

  describe('with a stand-in step (no model work)', () => {
    const config = resolveTrainConfig('smoke', { epochs: 3, model: { inputShape: [H, W] } });
    const runFit = async (stepper: (step: number) => number, onBatchEnd?: () => void, saved: number[] = []) => {
      const model = buildFcn8(config.model);
      const optimizer = adamOptimizer(config.learningRate);
      const history: EpochLogs[] = [];
      try {
        await fit({
          config,
          model,
          optimizer,
          train: sceneSource(4, 2, H, W),
          val: null,
          classNames: CLASSES,
          ignoreIndex: 255,
          state: freshState(),
          stepper: async (_b, step) => ({ loss: stepper(step), regLoss: 0 }),
          callbacks: {
            onBatchEnd,
            onEpochEnd: (_e, l) => {
              history.push(l);
            },
          },
          save: async (s) => {
            saved.push(s.step);
          },
        });
      } finally {
        model.dispose();
        optimizer.dispose();
      }
      return { saved, history };
    };

    it('a NaN loss stops the run before anything is saved for that step, naming the step and the fix', async () => {
      const saved: number[] = [];
      await assert.rejects(
        runFit((step) => (step === 3 ? NaN : 1 / (step + 1)), undefined, saved),
        (err: unknown) =>
          err instanceof TrainingDivergedError &&
          /loss became NaN at epoch 2, batch 2 \(step 3\); the last good checkpoint is kept\. Lower the learning rate/.test(
            err.message,
          ),
      );
      assert.deepEqual(saved, [2], 'only epoch 1 (step 2) was saved');
    });

    it('warns when the train loss is flat for three epochs', async () => {
      const { history } = await runFit(() => 0.7);
      assert.deepEqual(
        history.map((h) => h.warnings.filter((w) => w.startsWith('train loss flat')).length),
        [0, 0, 1],
      );
      assert.match(
        history[2].warnings.join('\n'),
        /train loss flat at 0\.7000 for 3 epochs: try another learning rate/,
      );
    });

    it('warns when tensors grow over an epoch (a leak in a callback)', async () => {
      const leaked: tf.Tensor[] = [];
      // One scalar per batch, two batches.
      const { history } = await runFit(
        (step) => 1 / (step + 1),
        () => {
          leaked.push(tf.scalar(1));
        },
      );
      tf.dispose(leaked);
      assert.match(history[0].warnings.join('\n'), /tensor count grew by 2 over epoch 1: a leak in a callback/);
    });
  });
});
