import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { FUSED_ADAM } from '../../src/backend/fused-kernels';
import { adamOptimizer, FusedAdam } from '../../src/train/adam';
import { useBackend } from '../helpers';

/** Shapes with and without a remainder past the SIMD loop's 4-float vectors. */
const SHAPES: number[][] = [[3, 3, 2, 5], [7], [64], [2, 3]];

let made = 0;

/** Fresh variables (unique names) with values fixed by `seed`. */
function makeVariables(seed: number): tf.Variable[] {
  // tidy frees the initial values, so each variable is its data's only holder, as in a model.
  return tf.tidy(() =>
    SHAPES.map((shape, i) =>
      tf.variable(tf.randomNormal(shape, 0, 1, 'float32', seed + i), true, `adam_test_${made++}`),
    ),
  );
}

/** Gradients that change from step to step (seeded from 1: tfjs takes seed 0 for none), one step with large ones. */
function gradients(vars: tf.Variable[], step: number): { name: string; tensor: tf.Tensor }[] {
  return vars.map((v, i) => ({
    name: v.name,
    tensor: tf.tidy(() =>
      tf.mul(tf.randomNormal(v.shape, 0, 1, 'float32', 100 * step + i + 1), tf.scalar(step === 2 ? 1e3 : 0.1)),
    ),
  }));
}

async function values(ts: tf.Tensor[]): Promise<Float32Array[]> {
  return Promise.all(ts.map(async (t) => (await t.data()) as Float32Array));
}

async function slots(opt: tf.Optimizer): Promise<Float32Array[]> {
  return values((await opt.getWeights()).slice(1).map((w) => w.tensor));
}

async function runSteps(opt: tf.Optimizer, vars: tf.Variable[], steps: number, from = 0): Promise<void> {
  for (let s = from; s < from + steps; s++) {
    const g = gradients(vars, s);
    opt.applyGradients(g);
    tf.dispose(g.map((x) => x.tensor));
  }
}

describe('fused Adam', function () {
  before(() => useBackend('wasm'));

  it('updates weights and slots exactly as tfjs Adam does, in one kernel per variable on wasm', async () => {
    const ours = makeVariables(1);
    const theirs = makeVariables(1);
    const fused = adamOptimizer(0.01);
    const reference = tf.train.adam(0.01);
    await runSteps(reference, theirs, 4);
    const dataIds = async () =>
      [...ours, ...(await fused.getWeights()).slice(1).map((w) => w.tensor)].map((t) => t.dataId);
    await runSteps(fused, ours, 1);
    const before = await dataIds();
    const profile = await tf.profile(() => runSteps(fused, ours, 3, 1));
    const names = new Set(profile.kernels.map((k) => k.name));
    assert.ok(names.has(FUSED_ADAM), `kernels run: ${[...names].join(', ')}`);
    assert.ok(!names.has('Sqrt'), 'no tfjs Adam ops');
    assert.deepEqual(await dataIds(), before, 'weights, m and v updated in place');
    assert.deepEqual(await values(ours), await values(theirs));
    assert.deepEqual(await slots(fused), await slots(reference));
    assert.equal(fused.iterations, reference.iterations);
    tf.dispose([...ours, ...theirs]);
    fused.dispose();
    reference.dispose();
  });

  it('drops the weights XNNPACK packed before an update in place, so a conv computes with the new ones', async () => {
    const filter = tf.tidy(() =>
      tf.variable(tf.randomNormal([3, 3, 4, 8], 0, 1, 'float32', 7), true, `adam_test_${made++}`),
    );
    const x: tf.Tensor4D = tf.randomNormal([1, 6, 6, 4], 0, 1, 'float32', 8);
    const fused = adamOptimizer(0.1);
    for (let step = 0; step < 2; step++) {
      tf.dispose(tf.conv2d(x, filter as tf.Tensor4D, 1, 'same'));
      const g = [{ name: filter.name, tensor: tf.onesLike(filter) }];
      fused.applyGradients(g);
      tf.dispose(g[0].tensor);
      const [cached, fresh] = tf.tidy(() => [
        tf.conv2d(x, filter as tf.Tensor4D, 1, 'same'),
        tf.conv2d(x, tf.add<tf.Tensor4D>(filter, 0), 1, 'same'),
      ]);
      assert.deepEqual(await cached.data(), await fresh.data());
      tf.dispose([cached, fresh]);
    }
    tf.dispose([filter, x]);
    fused.dispose();
  });

  it("leaves a tensor that shares a variable's data as it was (no update in place then)", async () => {
    const vars = makeVariables(2);
    const reference = makeVariables(2);
    const fused = adamOptimizer(0.01);
    const ref = tf.train.adam(0.01);
    const held = tf.clone(vars[0]);
    const before = Float32Array.from(await held.data());
    await runSteps(fused, vars, 3);
    await runSteps(ref, reference, 3);
    assert.deepEqual(await held.data(), before);
    assert.deepEqual(await values(vars), await values(reference));
    tf.dispose([held, ...vars, ...reference]);
    fused.dispose();
    ref.dispose();
  });

  it('holds no tensor or byte more after each step than after the first', async () => {
    const vars = makeVariables(3);
    const fused = adamOptimizer(1e-3);
    await runSteps(fused, vars, 1);
    const start = tf.memory();
    await runSteps(fused, vars, 5, 1);
    assert.equal(tf.memory().numTensors, start.numTensors);
    assert.equal(tf.memory().numBytes, start.numBytes);
    tf.dispose(vars);
    fused.dispose();
  });

  it("restores from tfjs Adam's saved weights and continues as a restored tfjs Adam does (checkpoints are interchangeable)", async () => {
    const trained = makeVariables(4);
    const first = tf.train.adam(0.01);
    await runSteps(first, trained, 2);
    const saved = await first.getWeights();
    const restore = async (opt: tf.Optimizer) => {
      // Slots go by position, as in a checkpoint (src/run/checkpoint.ts).
      await opt.setWeights(saved.map((w) => ({ name: w.name, tensor: w.tensor.clone() })));
      const vars = tf.tidy(() => trained.map((v) => tf.variable(v.clone(), true, `adam_test_${made++}`)));
      await runSteps(opt, vars, 2, 2);
      return vars;
    };
    const fused = new FusedAdam(0.01, 0.9, 0.999);
    const reference = tf.train.adam(0.01);
    const ours = await restore(fused);
    const theirs = await restore(reference);
    assert.deepEqual(await values(ours), await values(theirs));
    assert.deepEqual(await slots(fused), await slots(reference));
    tf.dispose([...trained, ...ours, ...theirs]);
    [first, fused, reference].forEach((o) => o.dispose());
  });

  it('is tfjs Adam on a backend without the kernel (cpu)', async () => {
    await useBackend('cpu');
    try {
      assert.equal(tf.getKernel(FUSED_ADAM, 'cpu'), undefined);
      const ours = makeVariables(5);
      const theirs = makeVariables(5);
      const fused = adamOptimizer(0.01);
      const reference = tf.train.adam(0.01);
      await runSteps(fused, ours, 3);
      await runSteps(reference, theirs, 3);
      assert.deepEqual(await values(ours), await values(theirs));
      tf.dispose([...ours, ...theirs]);
      fused.dispose();
      reference.dispose();
    } finally {
      await useBackend('wasm');
    }
  });
});
