import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../../src/data/types';
import { strict as assert } from 'node:assert';
import type { Fc6Variant } from '../../src/model/config';
import { buildFcn8 } from '../../src/model/fcn8';
import { resolveTrainConfig } from '../../src/run/config';
import { adamOptimizer } from '../../src/train/adam';
import { trainStep } from '../../src/train/loop';
import { checkMemoryPlan, countFcn8Params, formatMemoryPlan, planMemory } from '../../src/train/memory-plan';
import { MemoryPlanError } from '../../src/util/errors';
import { useBackend } from '../helpers';
import { sceneSource } from './fixtures';

/**
 * [height, width, batch, fc6, width multiplier, l2]: activation-bound and parameter-bound steps, with and without L2.
 */
const CASES: [number, number, number, Fc6Variant, number, number][] = [
  [64, 96, 2, 'lite', 1 / 8, 0],
  [96, 128, 2, 'lite', 1 / 8, 1e-3],
  [160, 288, 1, 'lite', 1 / 16, 0],
  [64, 64, 2, 'paper', 1 / 16, 1e-3],
  [32, 64, 2, 'lite', 1 / 4, 0],
];

describe('memory plan', function () {
  this.timeout(120_000);
  before(() => useBackend('wasm'));

  for (const [h, w, batchSize, fc6, wm, l2] of CASES) {
    it(`estimates the peak of a training step within 25%: ${h}x${w} batch ${batchSize} fc6 ${fc6} width 1/${1 / wm} l2 ${l2}`, async () => {
      const config = resolveTrainConfig('smoke', {
        batchSize,
        model: { inputShape: [h, w], fc6, widthMultiplier: wm, l2 },
      });
      const before = tf.memory().numBytes;
      const model = buildFcn8(config.model);
      const optimizer = adamOptimizer(config.learningRate);
      let batch: Batch | undefined;
      for await (const b of sceneSource(batchSize, batchSize, h, w).epoch(0)) batch = b;
      // tf.profile returns the same object every call: read peakBytes before the next one.
      const first =
        (
          await tf.profile(async () => {
            await trainStep(model, optimizer, batch!, config, 0);
          })
        ).peakBytes - before;
      const second =
        (
          await tf.profile(async () => {
            await trainStep(model, optimizer, batch!, config, 1);
          })
        ).peakBytes - before;
      model.dispose();
      optimizer.dispose();
      const plan = planMemory(config, { choice: 'wasm' });
      for (const [step, measured] of [
        ['first', first],
        ['second', second],
      ] as const) {
        // tf.profile counts tfjs's tensors only, not XNNPACK's packed weights.
        const tensors = plan.totalBytes - plan.backendBytes;
        const error = Math.abs(tensors - measured) / measured;
        assert.ok(
          error < 0.25,
          `${step} step: planned ${tensors} bytes of tensors (${plan.peakPhase}), measured peak ${measured}: ${(100 * error).toFixed(1)}% off`,
        );
      }
    });
  }

  it('counts the parameters buildFcn8 creates', () => {
    for (const fc6 of ['lite', 'paper'] as const) {
      const config = resolveTrainConfig('smoke', { model: { fc6, widthMultiplier: 1 / 16 } });
      const model = buildFcn8(config.model);
      assert.equal(countFcn8Params(config.model), model.countParams(), `fc6 ${fc6}`);
      model.dispose();
    }
  });

  it('refuses the paper preset on wasm with the figures and an alternative that fits', () => {
    const plan = planMemory(resolveTrainConfig('paper'), { choice: 'wasm' });
    assert.ok(plan.limitBytes !== null && plan.totalBytes > plan.limitBytes);
    assert.throws(
      () => checkMemoryPlan(plan),
      (err: Error) => {
        assert.ok(err instanceof MemoryPlanError);
        assert.match(err.message, /needs about \d+\.\d\d GiB but wasm heap \(4 GiB, 90% usable\) holds 3\.60 GiB/);
        const alt = /Alternatives that fit: (--[^.(]+) \((\d+\.\d\d) GiB\)/.exec(err.message);
        assert.ok(alt, err.message);
        assert.ok(Number(alt[2]) <= 3.6, `the alternative (${alt[2]} GiB) must fit`);
        return true;
      },
    );
  });

  it('the lite fc6 at 96x288 fits and its plan is one line', () => {
    const plan = planMemory(
      resolveTrainConfig('paper', { batchSize: 4, model: { fc6: 'lite', inputShape: [96, 288] } }),
      { choice: 'wasm' },
    );
    assert.doesNotThrow(() => checkMemoryPlan(plan));
    const line = formatMemoryPlan(plan);
    assert.equal(line.split('\n').length, 1);
    assert.match(
      line,
      /^memory plan: 96x288 batch 4 fc6 lite width 1: 20\.\d\dM params; .* = \d+\.\d\d GiB at the peak/,
    );
  });

  it('a backend without a known limit is never refused', () => {
    assert.doesNotThrow(() => checkMemoryPlan(planMemory(resolveTrainConfig('paper'), { choice: 'gpu' })));
  });
});
