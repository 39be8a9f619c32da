import * as tf from '@tensorflow/tfjs';
import { strict as assert } from 'node:assert';
import type { Batch } from '../../src/data/types';
import { buildFcn8 } from '../../src/model/fcn8';
import { resolveTrainConfig, type TrainConfig } from '../../src/run/config';
import { trainStep, trainableVariables } from '../../src/train/loop';
import { adamOptimizer } from '../../src/train/adam';
import { splitBatch } from '../../src/train/shard-gradients';
import { addFromBuffer } from '../../src/train/worker-protocol';
import { createDataParallelStepper } from '../../src/train/workers';
import { WorkerError } from '../../src/util/errors';
import { relNormError, useBackend } from '../helpers';
import { sceneSource } from './fixtures';

const H = 64;
const W = 96;
const IGNORE = 255;

/** Batches of road scenes; `voidImages` lists images whose labels are all ignore. */
async function batchesOf(count: number, batchSize: number, voidImages: number[] = []): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of sceneSource(count, batchSize, H, W).epoch(0)) out.push(b);
  for (const i of voidImages) {
    const b = out[Math.floor(i / batchSize)];
    b.labels.fill(IGNORE, (i % batchSize) * H * W, ((i % batchSize) + 1) * H * W);
  }
  return out;
}

type MakeOptimizer = (config: TrainConfig) => tf.Optimizer;
const adam: MakeOptimizer = (c) => adamOptimizer(c.learningRate);
// Adam divides by the gradient's scale; SGD shows a gradient off by a factor.
const sgd: MakeOptimizer = (c) => tf.train.sgd(c.learningRate);

interface Trace {
  losses: number[];
  regLosses: number[];
  weights: Float32Array[];
}

async function finish(
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  losses: number[],
  regLosses: number[],
): Promise<Trace> {
  const weights = await Promise.all(trainableVariables(model).map((v) => v.data() as Promise<Float32Array>));
  model.dispose();
  optimizer.dispose();
  return { losses, regLosses, weights };
}

/** `steps` passes over `batches` with trainStep in this thread. */
async function single(config: TrainConfig, batches: Batch[], steps: number, makeOptimizer = adam): Promise<Trace> {
  const model = buildFcn8(config.model);
  const optimizer = makeOptimizer(config);
  const losses: number[] = [];
  const regs: number[] = [];
  for (let step = 0; step < steps; step++) {
    const r = await trainStep(model, optimizer, batches[step % batches.length], config, step, IGNORE);
    losses.push(r.loss);
    regs.push(r.regLoss);
  }
  return finish(model, optimizer, losses, regs);
}

/** The same with 2 lanes. */
async function parallel(config: TrainConfig, batches: Batch[], steps: number, makeOptimizer = adam): Promise<Trace> {
  const model = buildFcn8(config.model);
  const optimizer = makeOptimizer(config);
  const dp = await createDataParallelStepper({ model, optimizer, config, workers: 2, ignoreIndex: IGNORE });
  const losses: number[] = [];
  const regs: number[] = [];
  try {
    for (let step = 0; step < steps; step++) {
      const r = await dp.stepper(batches[step % batches.length], step);
      losses.push(r.loss);
      regs.push(r.regLoss);
    }
  } finally {
    await dp.close();
  }
  return finish(model, optimizer, losses, regs);
}

/**
 * Both sides are float32 with reductions in another order: a whole batch
 * sums over B*H*W pixels at once, 2 lanes over each shard and then add.
 * - Losses: wasm sums the per-pixel losses one after another, exact only to
 *   about n * 2^-24 relative (B=2 at 64x96: 12288 terms, 7.3e-4; seen 1.4e-4
 *   at step 0, where every pixel's loss is ln 2), so each side may be off by that.
 * - Weights: all of them as one vector to 1e-5 relative. Per variable 1e-4:
 *   a score-layer bias starts at 0 and its gradient is a sum over all pixels
 *   of terms of both signs, so its rounding is relatively larger (seen 1.2e-5
 *   on score_pool4/bias after 3 steps; every other variable below 1e-6).
 */
function assertSameTraining(got: Trace, want: Trace, pixels: number): void {
  const lossTolerance = 2 * pixels * 2 ** -24;
  got.losses.forEach((l, i) => {
    assert.ok(Number.isFinite(l), `loss ${i} is ${l}`);
    assert.ok(
      Math.abs(l - want.losses[i]) <= lossTolerance * Math.max(Math.abs(want.losses[i]), 1e-6),
      `step ${i}: loss ${l} with 2 lanes, ${want.losses[i]} in one thread`,
    );
    assert.ok(
      Math.abs(got.regLosses[i] - want.regLosses[i]) <= 1e-5 * Math.max(want.regLosses[i], 1e-6),
      `step ${i}: reg loss ${got.regLosses[i]} vs ${want.regLosses[i]}`,
    );
  });
  assert.equal(got.weights.length, want.weights.length);
  const flat = (ws: Float32Array[]) => Float32Array.from(ws.flatMap((w) => Array.from(w)));
  const whole = relNormError(flat(got.weights), flat(want.weights));
  assert.ok(whole <= 1e-5, `all weights: relative error ${whole.toExponential(2)} after ${got.losses.length} steps`);
  const errors = got.weights.map((w, i) => relNormError(w, want.weights[i]));
  const worst = errors.indexOf(Math.max(...errors));
  assert.ok(
    errors[worst] <= 1e-4,
    `variable ${worst}: relative error ${errors[worst].toExponential(2)} after ${got.losses.length} steps`,
  );
}

describe('data-parallel training over worker threads', function () {
  this.timeout(120_000);
  before(() => useBackend('wasm'));

  const plain = resolveTrainConfig('smoke', { model: { inputShape: [H, W], widthMultiplier: 1 / 16, dropout: 0 } });
  // Class weights change the loss divisor; l2 adds a loss that only one lane may count.
  const weighted = resolveTrainConfig('smoke', {
    classWeights: [1, 3],
    model: { inputShape: [H, W], widthMultiplier: 1 / 16, dropout: 0, l2: 1e-3 },
  });

  describe('splitBatch', () => {
    // 3 images over 2 lanes: lane 0 (main thread) gets 1, lane 1 gets 2.
    // Valid pixels per image: 64*96 - 2 void rows * 96 = 5952; shares 5952 / 17856 = 1/3 and 2/3.
    it('gives the main thread the smaller share and scales by valid pixels', async () => {
      const [batch] = await batchesOf(3, 3);
      const shards = splitBatch(batch, 2, IGNORE, null);
      assert.deepEqual(
        shards.map((s) => [s.from, s.to]),
        [
          [0, 1],
          [1, 3],
        ],
      );
      assert.ok(
        Math.abs(shards[0].scale - 1 / 3) < 1e-12 && Math.abs(shards[1].scale - 2 / 3) < 1e-12,
        `scales ${shards.map((s) => s.scale).join(', ')}`,
      );
    });

    it('uses fewer lanes than images allow, and scale 0 for an all-ignore shard', async () => {
      const [one] = await batchesOf(1, 1);
      assert.equal(splitBatch(one, 4, IGNORE, null).length, 1);
      const [batch] = await batchesOf(2, 2, [0, 1]);
      assert.deepEqual(
        splitBatch(batch, 2, IGNORE, null).map((s) => s.scale),
        [0, 0],
      );
    });
  });

  describe('addFromBuffer', () => {
    // Longer than the 2^20-float staging buffer, with a remainder past the SIMD vectors.
    const n = (1 << 20) + 7;
    const values = (seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * seed));

    it('adds a shared buffer into a tensor in place, chunk by chunk', async () => {
      const target = tf.tensor1d(values(1));
      const id = target.dataId;
      const source = new Float32Array(new SharedArrayBuffer(4 * n));
      source.set(values(2));
      assert.equal(addFromBuffer(target, source), true);
      assert.equal(target.dataId, id);
      const got = await target.data();
      const a = values(1);
      const b = values(2);
      let bad = 0;
      for (let i = 0; i < n; i++) if (got[i] !== Math.fround(a[i] + b[i])) bad++;
      assert.equal(bad, 0);
      target.dispose();
    });

    it('leaves a tensor whose data another one shares alone, and says so', async () => {
      const target = tf.tensor1d(values(1));
      const held = tf.clone(target);
      assert.equal(addFromBuffer(target, values(2)), false);
      assert.deepEqual(await target.data(), values(1));
      tf.dispose([target, held]);
    });
  });

  for (const [name, config] of [
    ['no class weights', plain],
    ['class weights and l2', weighted],
  ] as const) {
    it(`2 lanes train as one thread on whole batches (${name}, batch 2, 3 steps)`, async () => {
      const batches = await batchesOf(4, 2);
      assertSameTraining(await parallel(config, batches, 3), await single(config, batches, 3), 2 * H * W);
    });
  }

  it('2 lanes train as one thread with plain SGD (batch 2, 2 steps)', async () => {
    const batches = await batchesOf(4, 2);
    assertSameTraining(await parallel(weighted, batches, 2, sgd), await single(weighted, batches, 2, sgd), 2 * H * W);
  });

  it('an odd batch (3 images over 2 lanes) trains as one thread', async () => {
    const batches = await batchesOf(3, 3);
    assertSameTraining(await parallel(weighted, batches, 2), await single(weighted, batches, 2), 3 * H * W);
  });

  it('an all-ignore shard on either lane, and an all-ignore batch, train as one thread', async () => {
    // Batch 0: the worker's image is void; batch 1: the main thread's; batch 2: both (loss 0, only l2 moves).
    const batches = await batchesOf(6, 2, [1, 2, 4, 5]);
    const got = await parallel(weighted, batches, 3);
    assertSameTraining(got, await single(weighted, batches, 3), 2 * H * W);
    assert.equal(got.losses[2], 0);
  });

  it('leaks no tensor in the main thread across steps', async () => {
    const model = buildFcn8(plain.model);
    const optimizer = adamOptimizer(plain.learningRate);
    const dp = await createDataParallelStepper({ model, optimizer, config: plain, workers: 2, ignoreIndex: IGNORE });
    const batches = await batchesOf(4, 2, [3]);
    const counts: number[] = [];
    try {
      for (let step = 0; step < 5; step++) {
        await dp.stepper(batches[step % 2], step);
        counts.push(tf.memory().numTensors);
      }
    } finally {
      await dp.close();
    }
    // Adam creates its slots on the first step; from then on the count must not move.
    assert.deepEqual(counts.slice(1), Array(counts.length - 1).fill(counts[1]), `tensor counts ${counts.join(', ')}`);
    model.dispose();
    optimizer.dispose();
  });

  for (const [kind, reason] of [
    ['throw', /injected error at step 1/],
    ['uncaught', /injected uncaught exception at step 1/],
    ['exit', /exited with code 3/],
  ] as const) {
    it(`a worker that fails (${kind}) raises a WorkerError naming it, then every later step does`, async () => {
      const model = buildFcn8(plain.model);
      const optimizer = adamOptimizer(plain.learningRate);
      const dp = await createDataParallelStepper({
        model,
        optimizer,
        config: plain,
        workers: 2,
        ignoreIndex: IGNORE,
        injectFault: { worker: 1, step: 1, kind },
      });
      const batches = await batchesOf(2, 2);
      try {
        await dp.stepper(batches[0], 0);
        const before = tf.memory().numTensors;
        const failed = (err: unknown) =>
          err instanceof WorkerError &&
          /worker 1 of 1 failed at step 1: /.test(err.message) &&
          reason.test(err.message);
        await assert.rejects(dp.stepper(batches[0], 1), failed);
        await assert.rejects(dp.stepper(batches[0], 2), failed);
        assert.equal(tf.memory().numTensors, before, 'a failed step leaves no tensor behind');
      } finally {
        await dp.close();
      }
      model.dispose();
      optimizer.dispose();
    });
  }

  it('close() during a step ends it with a WorkerError instead of a hang', async () => {
    const model = buildFcn8(plain.model);
    const optimizer = adamOptimizer(plain.learningRate);
    const dp = await createDataParallelStepper({ model, optimizer, config: plain, workers: 2, ignoreIndex: IGNORE });
    const [batch] = await batchesOf(2, 2);
    const outcome = assert.rejects(
      dp.stepper(batch, 0),
      (err: unknown) => err instanceof WorkerError && /worker 1 was closed at step 0/.test(err.message),
    );
    await dp.close();
    await outcome;
    model.dispose();
    optimizer.dispose();
  });

  it('refuses a backend other than wasm, naming it', async () => {
    await useBackend('cpu');
    const model = buildFcn8(plain.model);
    const optimizer = adamOptimizer(plain.learningRate);
    try {
      await assert.rejects(
        createDataParallelStepper({ model, optimizer, config: plain, workers: 2, ignoreIndex: IGNORE }),
        /wasm backend only; the active one is cpu\. Set workers: 1/,
      );
    } finally {
      model.dispose();
      optimizer.dispose();
      await useBackend('wasm');
    }
  });

  it('refuses a model whose architecture differs from config.model', async () => {
    const model = buildFcn8({ ...plain.model, widthMultiplier: 1 / 8 });
    const optimizer = adamOptimizer(plain.learningRate);
    await assert.rejects(
      createDataParallelStepper({ model, optimizer, config: plain, workers: 2, ignoreIndex: IGNORE }),
      /the worker's model built from config.model has variables \[3x3x3x4, 4, .*\], the model to train has \[3x3x3x8, 8, /,
    );
    model.dispose();
    optimizer.dispose();
  });
});
