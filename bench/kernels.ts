/**
 * Per-layer conv timings on the wasm backend: forward, input grad
 * (Conv2DBackpropInput, tfjs's own kernel vs ours) and filter grad
 * (Conv2DBackpropFilter), for VGG16's layers and FCN-8's upsampling layers
 * at one training size, then one whole training step of the conv stack and
 * a tf.profile of one FCN-8 (lite fc6) training step by kernel.
 *
 *   npx tsx bench/kernels.ts [--batch 2] [--input 96x288] [--width 1] [--repeats 3]
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

import { registerWasmTrainingKernels } from '../src/backend/wasm-kernels';
import { parseInputShape } from '../src/model/config';
import { fcn8ConvLayers } from '../src/model/conv-layers';
import { buildFcn8 } from '../src/model/fcn8';
import { pixelCrossEntropy } from '../src/model/loss';

interface Layer {
  name: string;
  /** [B, H, W, Cin] of the conv input. */
  x: [number, number, number, number];
  kernel: number;
  filters: number;
  stride: number;
  /** true: a conv2dTranspose (forward = Conv2DBackpropInput) as in FCN-8's decoder. */
  transposed: boolean;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

/** VGG16's convs and FCN-8's upsampling layers (the 1x1 score and fc layers are left out: they are tiny). */
function vggLayers(batch: number, [h, w]: [number, number], width: number, classes: number): Layer[] {
  return fcn8ConvLayers({ fc6: 'lite', widthMultiplier: width, numClasses: classes }, h, w)
    .filter((l) => l.name.startsWith('block') || l.transposed)
    .map((l) => ({
      name: l.name,
      x: [batch, l.at[0], l.at[1], l.cin],
      kernel: l.kernel,
      filters: l.cout,
      stride: l.stride,
      transposed: l.transposed,
    }));
}

/**
 * Fastest of `repeats` runs of `f` after one warm-up (the least disturbed by other processes on shared cores); f's
 * output is read back so the work is done.
 */
async function timeMs(repeats: number, f: () => tf.Tensor): Promise<number> {
  const once = async () => {
    const t0 = performance.now();
    const out = f();
    await out.data();
    const ms = performance.now() - t0;
    out.dispose();
    return ms;
  };
  await once();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) times.push(await once());
  return Math.min(...times);
}

function filterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: number[], stride: number): tf.Tensor {
  return tf.engine().runKernel<tf.Tensor>(
    'Conv2DBackpropFilter',
    { x, dy },
    {
      strides: [stride, stride],
      pad: 'same',
      dataFormat: 'NHWC',
      filterShape,
    },
  );
}

async function benchLayer(layer: Layer, repeats: number, original: tf.KernelFunc) {
  const [b, h, w, cin] = layer.x;
  const k = layer.kernel;
  const s = layer.stride;
  {
    const x: tf.Tensor4D = tf.randomNormal(layer.x);
    // A transposed conv's filter is [k, k, out, in]; as a conv it maps out -> in.
    const wShape: [number, number, number, number] = layer.transposed
      ? [k, k, layer.filters, cin]
      : [k, k, cin, layer.filters];
    const filter: tf.Tensor4D = tf.randomNormal(wShape, 0, 0.05);
    const big: [number, number, number, number] = layer.transposed
      ? [b, h * s, w * s, layer.filters]
      : [b, h, w, layer.filters];
    const y: tf.Tensor4D = layer.transposed ? tf.randomNormal(big) : tf.conv2d(x, filter, 1, 'same');
    let r: { forward: number; inputGrad: number; inputGradTfjs: number; filterGrad: number };
    if (layer.transposed) {
      // forward = Conv2DBackpropInput (x -> big), dx = Conv2D of the big gradient, dW = filter grad(big, x).
      const tfjsKernel = () =>
        original({
          inputs: { dy: x, filter },
          backend: tf.backend(),
          attrs: { strides: [s, s], pad: 'same', dataFormat: 'NHWC', inputShape: big },
        });
      r = {
        forward: await timeMs(repeats, () => tf.conv2dTranspose(x, filter, big, s, 'same')),
        inputGradTfjs: await timeMs(repeats, () => tf.engine().makeTensorFromTensorInfo(tfjsKernel() as tf.TensorInfo)),
        inputGrad: await timeMs(repeats, () => tf.conv2d(y, filter, s, 'same')),
        filterGrad: await timeMs(repeats, () => filterGrad(y, x, wShape, s)),
      };
    } else {
      const tfjsKernel = () =>
        original({
          inputs: { dy: y, filter },
          backend: tf.backend(),
          attrs: {
            strides: [1, 1],
            pad: 'same',
            dataFormat: 'NHWC',
            inputShape: layer.x,
          },
        });
      r = {
        forward: await timeMs(repeats, () => tf.conv2d(x, filter, 1, 'same')),
        inputGradTfjs: await timeMs(repeats, () => tf.engine().makeTensorFromTensorInfo(tfjsKernel() as tf.TensorInfo)),
        inputGrad: await timeMs(repeats, () => tf.conv2dTranspose(y, filter, layer.x, 1, 'same')),
        filterGrad: await timeMs(repeats, () => filterGrad(x, y, wShape, 1)),
      };
    }
    tf.dispose([x, filter, y]);
    return r;
  }
}

/** Forward and one full gradient step of the VGG conv stack (conv+relu, 2x2 max pools, mean loss). */
async function benchStep(layers: Layer[], repeats: number): Promise<{ forward: number; step: number }> {
  const convs = layers.filter((l) => !l.transposed);
  const kernels = convs.map((l) =>
    tf.variable(tf.randomNormal([3, 3, l.x[3], l.filters], 0, Math.sqrt(2 / (9 * l.x[3])))),
  );
  const biases = convs.map((l) => tf.variable(tf.zeros([l.filters])));
  const input: tf.Tensor4D = tf.randomNormal([convs[0].x[0], convs[0].x[1], convs[0].x[2], 3]);
  const forward = (): tf.Scalar => {
    let t: tf.Tensor4D = input;
    convs.forEach((l, i) => {
      if (i > 0 && l.x[1] !== convs[i - 1].x[1]) t = tf.maxPool(t, 2, 2, 'same');
      t = tf.fused.conv2d({
        x: t,
        filter: kernels[i] as tf.Tensor4D,
        strides: 1,
        pad: 'same',
        bias: biases[i],
        activation: 'relu',
      });
    });
    return tf.mean(t);
  };
  const fwd = await timeMs(repeats, () => tf.tidy(forward));
  const step = await timeMs(repeats, () =>
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(forward);
      return tf.addN([value, ...Object.values(grads).map((g) => tf.sum(g))]);
    }),
  );
  tf.dispose([...kernels, ...biases, input]);
  return { forward: fwd, step };
}

/** Forward and training step of the real FCN-8 (lite fc6, 2 classes), and where the step's time goes. */
async function benchFcn8(batch: number, input: [number, number], width: number, repeats: number) {
  const model = buildFcn8({ numClasses: 2, inputShape: input, fc6: 'lite', widthMultiplier: width });
  const images: tf.Tensor4D = tf.randomNormal([batch, input[0], input[1], 3]);
  const labels: tf.Tensor3D = tf.randomUniform([batch, input[0], input[1]], 0, 2, 'int32');
  const vars = model.trainableWeights.map((v) => v.read() as tf.Variable);
  const loss = () => pixelCrossEntropy(model.apply(images, { training: true }) as tf.Tensor4D, labels);
  const step = () =>
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(loss, vars);
      return tf.addN([value, ...Object.values(grads).map((g) => tf.sum(g))]);
    });
  const forward = await timeMs(repeats, () => tf.tidy(loss));
  const stepMs = await timeMs(repeats, step);
  const profile = await tf.profile(async () => {
    const out = step();
    await out.data();
    out.dispose();
  });
  const byKernel = new Map<string, number>();
  for (const k of profile.kernels) byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + (k.kernelTimeMs as number));
  tf.dispose([images, labels]);
  model.dispose();
  return { forward, step: stepMs, byKernel: [...byKernel].sort((a, b) => b[1] - a[1]) };
}

/** A matMul gradient's shape (dW = x^T dy over all pixels), with tfjs's kernel and ours. */
async function benchMatMulTransposed(repeats: number, original: tf.KernelFunc) {
  const a = tf.randomNormal([1, 27648, 64]);
  const b = tf.randomNormal([1, 27648, 64]);
  const attrs = { transposeA: true, transposeB: false } as unknown as tf.NamedAttrMap;
  const tfjs = await timeMs(repeats, () =>
    tf.engine().makeTensorFromTensorInfo(original({ inputs: { a, b }, backend: tf.backend(), attrs }) as tf.TensorInfo),
  );
  const ours = await timeMs(repeats, () => tf.matMul(a, b, true, false));
  tf.dispose([a, b]);
  return { tfjs, ours, gflop: (2 * 27648 * 64 * 64) / 1e9 };
}

async function main(): Promise<void> {
  await tf.setBackend('wasm');
  const original = tf.getKernel('Conv2DBackpropInput', 'wasm').kernelFunc;
  const originalMatMul = tf.getKernel('BatchMatMul', 'wasm').kernelFunc;
  await registerWasmTrainingKernels();
  const batch = Number(arg('batch', '2'));
  const input = parseInputShape(arg('input', '96x288'));
  const width = Number(arg('width', '1'));
  const repeats = Number(arg('repeats', '3'));
  const layers = vggLayers(batch, input, width, 2);
  console.log(`wasm, batch ${batch}, input ${input.join('x')}, width ${width}, best of ${repeats} (ms)`);
  console.log('layer            input(BxHxWxC)   k  s  out | forward  dx(tfjs)  dx(ours)  dW(ours) | dW/fwd dx/fwd');
  for (const layer of layers) {
    const r = await benchLayer(layer, repeats, original);
    console.log(
      `${layer.name.padEnd(16)} ${layer.x.join('x').padEnd(16)} ${String(layer.kernel).padStart(2)} ${String(layer.stride).padStart(2)} ${String(layer.filters).padStart(4)} | ` +
        `${r.forward.toFixed(1).padStart(7)} ${r.inputGradTfjs.toFixed(1).padStart(9)} ${r.inputGrad.toFixed(1).padStart(9)} ${r.filterGrad.toFixed(1).padStart(9)} | ` +
        `${(r.filterGrad / r.forward).toFixed(2).padStart(6)} ${(r.inputGrad / r.forward).toFixed(2).padStart(6)}`,
    );
  }
  const mm = await benchMatMulTransposed(repeats, originalMatMul);
  console.log(
    `matMul [27648,64]^T x [27648,64]: tfjs ${mm.tfjs.toFixed(1)} ms (${((mm.gflop / mm.tfjs) * 1e3).toFixed(1)} GFLOP/s), ` +
      `ours ${mm.ours.toFixed(1)} ms (${((mm.gflop / mm.ours) * 1e3).toFixed(1)} GFLOP/s)`,
  );
  const { forward, step } = await benchStep(layers, repeats);
  console.log(
    `VGG16 conv stack: forward ${forward.toFixed(0)} ms, training step ${step.toFixed(0)} ms, step/forward ${(step / forward).toFixed(2)}`,
  );
  const fcn = await benchFcn8(batch, input, width, repeats);
  console.log(
    `FCN-8 lite: forward+loss ${fcn.forward.toFixed(0)} ms, training step ${fcn.step.toFixed(0)} ms, step/forward ${(fcn.step / fcn.forward).toFixed(2)}`,
  );
  const total = fcn.byKernel.reduce((a, [, ms]) => a + ms, 0);
  console.log(
    'FCN-8 step by kernel (tf.profile): ' +
      fcn.byKernel
        .slice(0, 10)
        .map(([name, ms]) => `${name} ${ms.toFixed(0)} ms (${((100 * ms) / total).toFixed(0)}%)`)
        .join(', '),
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
