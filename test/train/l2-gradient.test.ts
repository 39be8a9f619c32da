import * as tf from '@tensorflow/tfjs';
import { strict as assert } from 'node:assert';
import type { Batch } from '../../src/data/types';
import { buildFcn8 } from '../../src/model/fcn8';
import { resolveTrainConfig } from '../../src/run/config';
import { l2Factors } from '../../src/train/l2-gradient';
import { pixelCrossEntropy } from '../../src/model/loss';
import { batchTensors } from '../../src/model/preprocess';
import { trainStep, trainableVariables } from '../../src/train/loop';
import { relNormError, useBackend } from '../helpers';
import { sceneSource } from './fixtures';

const H = 64;
const W = 96;

async function batches(): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of sceneSource(4, 2, H, W).epoch(0)) out.push(b);
  return out;
}

describe('closed-form L2 gradient', function () {
  this.timeout(120_000);
  before(() => useBackend('wasm'));

  // A large L2 factor, so a missing or doubled L2 gradient moves the weights visibly.
  const config = resolveTrainConfig('smoke', {
    batchSize: 2,
    learningRate: 1e-2,
    model: { inputShape: [H, W], fc6: 'lite', widthMultiplier: 1 / 16, dropout: 0, l2: 0.05 },
  });

  it('reads one L2 factor per conv kernel and none for biases or transposed convs', () => {
    const model = buildFcn8(config.model);
    const factors = l2Factors(model)!;
    const names = model.trainableWeights.map((w) => w.originalName);
    // 13 VGG convs, fc6, fc7 and the three score layers carry the model's L2; biases and the upsampling layers do not.
    const expected = names.map((n) => (/kernel$/.test(n) && !/^upscore/.test(n) ? 0.05 : 0));
    assert.deepEqual(factors, expected, JSON.stringify({ factors, expected }));
    assert.equal(expected.filter((f) => f > 0).length, 18);
    model.dispose();
  });

  it("trains as the tape's L2 gradient does over 4 Adam steps: weights, slots, losses; no tensor leaks", async () => {
    const data = await batches();
    const run = async (closedForm: boolean) => {
      const model = buildFcn8(config.model);
      const optimizer = tf.train.adam(config.learningRate);
      const losses: number[] = [];
      const regs: number[] = [];
      let tensorsAfterFirst = 0;
      for (let step = 0; step < 4; step++) {
        const batch = data[step % data.length];
        if (closedForm) {
          const r = await trainStep(model, optimizer, batch, config, step);
          losses.push(r.loss);
          regs.push(r.regLoss);
        } else {
          // The reference: tfjs-layers' regulariser losses differentiated by the tape.
          const { x, y } = batchTensors(batch);
          let reg: tf.Scalar | null = null;
          const { value, grads } = tf.variableGrads(() => {
            const logits = model.apply(x, { training: true }) as tf.Tensor4D;
            reg = tf.keep(tf.addN<tf.Scalar>(model.calculateLosses()));
            return tf.add<tf.Scalar>(pixelCrossEntropy(logits, y, 255, null), reg);
          }, trainableVariables(model));
          optimizer.applyGradients(grads as Record<string, tf.Variable>);
          const [total, r] = await Promise.all([value.data(), (reg as unknown as tf.Scalar).data()]);
          losses.push(total[0] - r[0]);
          regs.push(r[0]);
          tf.dispose([x, y, value, reg!, ...Object.values(grads)]);
        }
        if (step === 0) tensorsAfterFirst = tf.memory().numTensors;
      }
      const leaked = tf.memory().numTensors - tensorsAfterFirst;
      const weights = await Promise.all(trainableVariables(model).map((v) => v.data() as Promise<Float32Array>));
      const slots = await optimizer.getWeights();
      const slotValues = await Promise.all(slots.map((s) => s.tensor.data() as Promise<Float32Array>));
      const slotNames = slots.map((s) => s.name);
      model.dispose();
      optimizer.dispose();
      return { losses, regs, weights, slotValues, slotNames, leaked };
    };
    const ref = await run(false);
    const got = await run(true);
    assert.equal(got.leaked, 0);
    // Each model's variables get their own unique suffix (kernel_1, kernel_2): compare without it.
    const plain = (names: string[]) => names.map((n) => n.replace(/_\d+\//, '/'));
    assert.deepEqual(plain(got.slotNames), plain(ref.slotNames));
    assert.equal(got.slotValues[0][0], 4, 'iterations');
    const flat = (a: Float32Array[]) => Float32Array.from(a.flatMap((x) => Array.from(x)));
    assert.ok(
      relNormError(flat(got.weights), flat(ref.weights)) < 1e-5,
      `weights ${relNormError(flat(got.weights), flat(ref.weights))}`,
    );
    for (let i = 1; i < got.slotValues.length; i++) {
      assert.ok(
        relNormError(got.slotValues[i], ref.slotValues[i]) < 1e-4,
        `slot ${got.slotNames[i]}: ${relNormError(got.slotValues[i], ref.slotValues[i])}`,
      );
    }
    got.losses.forEach((l, i) =>
      assert.ok(Math.abs(l - ref.losses[i]) < 1e-4 * Math.abs(ref.losses[i]), `loss ${i}: ${l} vs ${ref.losses[i]}`),
    );
    got.regs.forEach((r, i) =>
      assert.ok(Math.abs(r - ref.regs[i]) < 1e-5 * ref.regs[i], `reg ${i}: ${r} vs ${ref.regs[i]}`),
    );
    assert.ok(ref.regs[3] < ref.regs[0], 'L2 shrinks the weights');
  });
});
