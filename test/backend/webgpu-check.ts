/**
 * The WebGPU side of webgpu.test.ts, run in its own process
 * (`node --import tsx test/backend/webgpu-check.ts OUT.json`): Dawn stays out
 * of the shared mocha process, tfjs-backend-webgpu's registration (priority 3,
 * above wasm) cannot change the backend other test files get, and a native
 * crash after a GPU error fails one test instead of the whole run.
 *
 * It computes the same things on cpu and on webgpu and writes the raw numbers
 * to OUT.json; the mocha test compares them.
 */
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import { registerDilatedConvGradient } from '../../src/backend/dilated-conv-grad';
import { Fcn8Config } from '../../src/model/config';
import { buildFcn8 } from '../../src/model/fcn8';
import { initWebgpuBackend, probeWebgpu, webgpuMemoryLimitBytes, WebgpuAdapterInfo } from '../../src/backend/webgpu';
import {
  TINY_FCN_INPUT,
  TinyFcnVariables,
  createTinyFcnVariables,
  pixelLoss,
  seededNormal,
  tinyFcnBatch,
  tinyFcnForward,
  tinyFcnInitialValues,
} from './tiny-fcn';

export const ADAM_STEPS = 5;
export const LEAK_STEPS = 20;
export const FCN8_CONFIG: Partial<Fcn8Config> = {
  widthMultiplier: 1 / 16,
  inputShape: [64, 96],
  fc6: 'lite',
  dropout: 0,
};
const FCN8_BATCH = 2;

/** Values one backend computed; gradients keyed by weight name. */
export interface PassRecord {
  output: number[];
  loss: number;
  grads: Record<string, number[]>;
}

export interface TrainRecord {
  /** Loss before each Adam step. */
  losses: number[];
  /** Weights after the last step. */
  weights: Record<string, number[]>;
}

export interface MemorySnapshot {
  numTensors: number;
  numBytesInGPU: number;
  numBytesAllocatedInGPU: number;
}

export type CheckResult =
  | { skipped: string }
  | {
      adapter: WebgpuAdapterInfo;
      adapterLine: string;
      memoryLimitBytes: number;
      /** initWebgpuBackend({allowSoftware: false})'s error on a software adapter; null on a real GPU. */
      softwareRefusal: { name: string; message: string } | null;
      tiny: { cpu: PassRecord; webgpu: PassRecord };
      adam: { cpu: TrainRecord; webgpu: TrainRecord };
      /** tf.memory() after each training step on webgpu. */
      leak: MemorySnapshot[];
      fcn8: { cpu: PassRecord; webgpu: PassRecord };
      timingsMs: Record<string, number>;
    };

async function readAll(named: Record<string, tf.Tensor>): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const [name, t] of Object.entries(named)) out[name] = Array.from(await t.data());
  return out;
}

function withTinyFcn<T>(
  prefix: string,
  run: (v: TinyFcnVariables, x: tf.Tensor4D, y: tf.Tensor3D) => Promise<T>,
): Promise<T> {
  const { images, labels } = tinyFcnBatch(1);
  const [b, h, w, c] = TINY_FCN_INPUT;
  const v = createTinyFcnVariables(tinyFcnInitialValues(7), prefix);
  const x = tf.tensor4d(images, [b, h, w, c]);
  const y = tf.tensor3d(labels, [b, h, w], 'int32');
  return run(v, x, y).finally(() => tf.dispose([x, y, ...Object.values(v)]));
}

/** Gradients keyed by the short name (`conv1`), not the variable's prefixed one. */
async function gradsByName(grads: tf.NamedTensorMap, prefix: string): Promise<Record<string, number[]>> {
  const named = Object.fromEntries(Object.entries(grads).map(([k, g]) => [k.slice(prefix.length + 1), g]));
  return readAll(named);
}

async function tinyPass(prefix: string): Promise<PassRecord> {
  return withTinyFcn(prefix, async (v, x, y) => {
    const logits = tinyFcnForward(v, x);
    const { value, grads } = tf.variableGrads(() => pixelLoss(tinyFcnForward(v, x), y), Object.values(v));
    const record = {
      output: Array.from(await logits.data()),
      loss: (await value.data())[0],
      grads: await gradsByName(grads, prefix),
    };
    tf.dispose([logits, value, ...Object.values(grads)]);
    return record;
  });
}

async function tinyAdam(prefix: string, steps: number, onStep?: () => void): Promise<TrainRecord> {
  return withTinyFcn(prefix, async (v, x, y) => {
    const optimizer = tf.train.adam(0.01);
    const losses: number[] = [];
    for (let i = 0; i < steps; i++) {
      const loss = optimizer.minimize(() => pixelLoss(tinyFcnForward(v, x), y), true, Object.values(v));
      losses.push((await loss!.data())[0]);
      loss!.dispose();
      onStep?.();
    }
    const weights = await readAll(Object.fromEntries(Object.entries(v).map(([k, t]) => [k, t as tf.Tensor])));
    optimizer.dispose();
    return { losses, weights };
  });
}

function snapshot(): MemorySnapshot {
  const m = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number; numBytesAllocatedInGPU?: number };
  return {
    numTensors: m.numTensors,
    numBytesInGPU: m.numBytesInGPU ?? -1,
    numBytesAllocatedInGPU: m.numBytesAllocatedInGPU ?? -1,
  };
}

/**
 * FCN-8 at a small width. Its score layers start at zero, which would make
 * most gradients zero, so every weight is overwritten with seeded values.
 */
async function fcn8Pass(): Promise<PassRecord> {
  const model = buildFcn8(FCN8_CONFIG);
  const [h, w] = FCN8_CONFIG.inputShape!;
  const values = model.weights.map((wt, i) => {
    const shape = wt.shape as number[];
    const [kh = 1, kw = 1, cin = 1] = shape;
    const std = shape.length === 1 ? 0.05 : Math.sqrt(2 / (kh * kw * cin));
    return tf.tensor(
      seededNormal(
        1000 + i,
        shape.reduce((a, b) => a * b, 1),
        std,
      ),
      shape,
    );
  });
  model.setWeights(values);
  tf.dispose(values);
  const x = tf.tensor4d(seededNormal(5, FCN8_BATCH * h * w * 3, 1), [FCN8_BATCH, h, w, 3]);
  const labelValues = Int32Array.from(seededNormal(6, FCN8_BATCH * h * w, 1), (z) => (z > 0 ? 1 : 0));
  const y = tf.tensor3d(labelValues, [FCN8_BATCH, h, w], 'int32');
  const logits = model.apply(x, { training: true }) as tf.Tensor4D;
  const output = Array.from(await logits.data());
  const vars = model.trainableWeights.map((wt) => wt.read() as tf.Variable);
  const { value, grads } = tf.variableGrads(
    () => pixelLoss(model.apply(x, { training: true }) as tf.Tensor4D, y),
    vars,
  );
  // Variable names carry a per-build suffix; the layer's weight names (block1_conv1/kernel) do not.
  const named = Object.fromEntries(model.trainableWeights.map((wt, i) => [wt.originalName, grads[vars[i].name]]));
  const record = { output, loss: (await value.data())[0], grads: await readAll(named) };
  tf.dispose([x, y, logits, value, ...Object.values(grads)]);
  model.dispose();
  return record;
}

async function timed<T>(timings: Record<string, number>, name: string, run: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const result = await run();
  timings[name] = Math.round(performance.now() - t0);
  return result;
}

async function runChecks(): Promise<CheckResult> {
  const probe = await probeWebgpu({ allowSoftware: true });
  if (!probe.ok) return { skipped: probe.reason };
  const timings: Record<string, number> = {};
  // tfjs-core's own Conv2D gradient refuses the 'lite' fc6's dilation 3.
  registerDilatedConvGradient();

  await tf.setBackend('cpu');
  const cpuTiny = await timed(timings, 'cpu tiny forward+grad', () => tinyPass('cpu'));
  const cpuAdam = await timed(timings, `cpu tiny ${ADAM_STEPS} Adam steps`, () => tinyAdam('cpu', ADAM_STEPS));
  const cpuFcn8 = await timed(timings, 'cpu fcn8 forward+grad', fcn8Pass);

  let softwareRefusal: { name: string; message: string } | null = null;
  if (probe.adapter.isFallback) {
    await initWebgpuBackend({ allowSoftware: false }).catch((err: Error) => {
      softwareRefusal = { name: err.name, message: err.message };
    });
  }
  const { adapterLine } = await timed(timings, 'webgpu init', () => initWebgpuBackend({ allowSoftware: true }));
  const gpuTiny = await timed(timings, 'webgpu tiny forward+grad', () => tinyPass('gpu'));
  const gpuAdam = await timed(timings, `webgpu tiny ${ADAM_STEPS} Adam steps`, () => tinyAdam('gpu', ADAM_STEPS));
  const leak: MemorySnapshot[] = [];
  await timed(timings, `webgpu tiny ${LEAK_STEPS} Adam steps`, () =>
    tinyAdam('leak', LEAK_STEPS, () => leak.push(snapshot())),
  );
  const gpuFcn8 = await timed(timings, 'webgpu fcn8 forward+grad', fcn8Pass);

  return {
    adapter: probe.adapter,
    adapterLine,
    memoryLimitBytes: webgpuMemoryLimitBytes(),
    softwareRefusal,
    tiny: { cpu: cpuTiny, webgpu: gpuTiny },
    adam: { cpu: cpuAdam, webgpu: gpuAdam },
    leak,
    fcn8: { cpu: cpuFcn8, webgpu: gpuFcn8 },
    timingsMs: timings,
  };
}

if (require.main === module) {
  const outPath = process.argv[2];
  if (!outPath) throw new Error('usage: node --import tsx test/backend/webgpu-check.ts OUT.json');
  void runChecks().then((result) => fs.writeFileSync(outPath, JSON.stringify(result)));
}
