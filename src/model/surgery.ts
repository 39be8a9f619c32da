/**
 * Weight work kept out of the model, as the FCN authors' surgery.py:
 * bilinear initialisation of the upsampling layers and the transplant of
 * VGG16's ImageNet weights.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../util/errors';
import { VGG16_BLOCKS } from './config';
import { VGG16_POOL5_SIZE, Vgg16Weights } from './vgg16-weights';

/**
 * The 1-D bilinear interpolation filter of length `size` (surgery.py's
 * upsample_filt): a tent centred on the kernel, e.g. size 4 gives
 * 0.25, 0.75, 0.75, 0.25 (factor 2, centre 1.5: 1 - |i - 1.5| / 2).
 */
export function bilinearFilter1d(size: number): Float32Array {
  if (!Number.isInteger(size) || size < 1) {
    throw new ConfigError(`bilinear filter size must be a positive integer; got ${size}`);
  }
  const factor = Math.floor((size + 1) / 2);
  const center = size % 2 === 1 ? factor - 1 : factor - 0.5;
  return Float32Array.from({ length: size }, (_, i) => 1 - Math.abs(i - center) / factor);
}

/**
 * A conv2dTranspose filter [size, size, channels, channels] ([kh, kw, outC,
 * inC], tf's layout) that upsamples each channel on its own by bilinear
 * interpolation: channel c -> c gets the outer product of the 1-D filter,
 * every cross-channel tap is 0 (surgery.py's interp).
 */
export function bilinearUpsampleKernel(size: number, channels: number): Float32Array {
  if (!Number.isInteger(channels) || channels < 1) {
    throw new ConfigError(`bilinear kernel channels must be a positive integer; got ${channels}`);
  }
  const f = bilinearFilter1d(size);
  const kernel = new Float32Array(size * size * channels * channels);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < channels; c++) {
        kernel[((y * size + x) * channels + c) * channels + c] = f[y] * f[x];
      }
    }
  }
  return kernel;
}

/** A weight as the model receives it. */
interface TargetWeight {
  readonly shape: number[];
  readonly values: () => Float32Array;
}

/** One layer's copy, planned and shape-checked before any weight is written. */
interface PlannedCopy {
  readonly layer: tf.layers.Layer;
  readonly kernel: TargetWeight;
  readonly bias: TargetWeight;
  readonly logLines: string[];
}

/**
 * Copies VGG16's ImageNet weights into a model built with Keras's layer
 * names (buildFcn8): the 13 conv layers as they are, fc1 -> fc6 and
 * fc2 -> fc7 as convolutions (paper sec. 3.1), subsampled for a reduced
 * fc6 (the 'lite' preset: taps 0, 3, 6 of 7 and every 4th channel, as
 * DeepLab-LargeFOV). Every layer is shape-checked before anything is
 * written, so a mismatch leaves the model untouched. Decoder layers keep
 * their initialisation. `log` gets one line per tensor copied, reshaped,
 * subsampled or skipped.
 */
export function transplantVgg16(
  model: tf.LayersModel,
  weights: Vgg16Weights,
  log: (line: string) => void = () => {},
): void {
  const plan: PlannedCopy[] = VGG16_BLOCKS.flat().map(([name]) => planConvCopy(model, weights, name));
  const skipped: string[] = [];
  const fc6 = findLayer(model, 'fc6');
  const fc7 = findLayer(model, 'fc7');
  if (!weights.hasTop) {
    if (fc6 || fc7) skipped.push(`keep      fc6, fc7 as initialised: ${weights.file} has no fc1/fc2 (the notop file)`);
  } else if (!fc6 || !fc7) {
    skipped.push(`skip      fc1, fc2: the model has no ${!fc6 ? 'fc6' : 'fc7'} layer`);
  } else {
    plan.push(planFcCopy(fc6, weights, 'fc1'), planFcCopy(fc7, weights, 'fc2'));
  }
  const predictions = weights.layers.get('predictions');
  if (predictions) {
    skipped.push(
      `skip      predictions/kernel [${predictions.kernel.shape.join(',')}] (ImageNet classifier; the FCN scores its own classes)`,
      `skip      predictions/bias [${predictions.bias.shape.join(',')}]`,
    );
  }

  for (const copy of plan) {
    const kernel = tf.tensor(copy.kernel.values(), copy.kernel.shape, 'float32');
    const bias = tf.tensor(copy.bias.values(), copy.bias.shape, 'float32');
    copy.layer.setWeights([kernel, bias]);
    kernel.dispose();
    bias.dispose();
    copy.logLines.forEach((line) => log(line));
  }
  skipped.forEach((line) => log(line));
}

function findLayer(model: tf.LayersModel, name: string): tf.layers.Layer | undefined {
  return model.layers.find((l) => l.name === name);
}

/** The [kernel, bias] shapes of a conv layer of the model, or a ConfigError naming the layer. */
function targetShapes(layer: tf.layers.Layer): [number[], number[]] {
  const shapes = layer.weights.map((w) => w.shape.map((d) => d ?? -1));
  if (shapes.length !== 2 || shapes[0].length !== 4 || shapes[1].length !== 1) {
    throw new ConfigError(
      `model layer ${layer.name} has weights [${shapes.map((s) => `[${s.join(',')}]`).join(', ')}]; ` +
        'transplantVgg16 expects a Conv2D with kernel [kh,kw,in,out] and bias [out] (as buildFcn8 makes)',
    );
  }
  return [shapes[0], shapes[1]];
}

function shapeMismatch(
  layer: string,
  what: string,
  model: readonly number[],
  file: readonly number[],
  fix: string,
): ConfigError {
  return new ConfigError(
    `${layer}: the model's ${what} is [${model.join(',')}] but the VGG16 weights give [${file.join(',')}]; ${fix}`,
  );
}

const sameShape = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((d, i) => d === b[i]);

function planConvCopy(model: tf.LayersModel, weights: Vgg16Weights, name: string): PlannedCopy {
  const layer = findLayer(model, name);
  if (!layer) {
    throw new ConfigError(
      `the model has no layer ${name}; transplantVgg16 needs Keras's VGG16 layer names (buildFcn8 uses them)`,
    );
  }
  const [kernelShape, biasShape] = targetShapes(layer);
  const src = weights.layers.get(name)!;
  if (!sameShape(kernelShape, src.kernel.shape)) {
    const narrower = kernelShape[3] < src.kernel.shape[3];
    throw shapeMismatch(
      name,
      'kernel',
      kernelShape,
      src.kernel.shape,
      narrower
        ? 'pretrained VGG16 weights need widthMultiplier: 1, build the model with it'
        : 'build the model with buildFcn8 at the width of the weights file',
    );
  }
  return {
    layer,
    kernel: { shape: kernelShape, values: () => src.kernel.values },
    bias: { shape: biasShape, values: () => src.bias.values },
    logLines: [
      `copy      ${name}/kernel [${kernelShape.join(',')}]`,
      `copy      ${name}/bias [${biasShape.join(',')}]`,
    ],
  };
}

/**
 * fc1 -> fc6 or fc2 -> fc7. Keras flattens pool5 [7, 7, C] row-major over
 * (h, w, c), so fc1's row (h*7 + w)*C + c is already the [7, 7, C, F]
 * layout of a conv kernel: at full size the copy is a pure reshape. A
 * smaller fc6 takes every `tap`-th spatial tap and every `step`-th output
 * channel; fc7 every `step`-th input and output channel, to stay chained.
 */
function planFcCopy(layer: tf.layers.Layer, weights: Vgg16Weights, source: 'fc1' | 'fc2'): PlannedCopy {
  const src = weights.layers.get(source)!;
  const [kernelShape, biasShape] = targetShapes(layer);
  const [k, kw, inC, outC] = kernelShape;
  const [rows, filters] = src.kernel.shape;
  const srcK = source === 'fc1' ? VGG16_POOL5_SIZE : 1;
  const srcIn = rows / (srcK * srcK);
  const srcShape = [srcK, srcK, srcIn, filters];
  const step = filters / outC;
  // fc2's source is 1x1, so tap is 0 there and only tap 0 is taken.
  const tap = (srcK - 1) / Math.max(k - 1, 1);
  const inStep = source === 'fc1' ? 1 : step;
  const fits =
    k === kw &&
    k <= srcK &&
    (k > 1 || srcK === 1) &&
    Number.isInteger(tap) &&
    Number.isInteger(step) &&
    inC * inStep === srcIn;
  if (!fits) {
    const fix =
      source === 'fc1'
        ? `fc6 needs [k,k,${srcIn},${filters}/n] with k = ${srcK} or a k that spaces taps evenly over ${srcK} (4, 3, 2); use fc6 'paper' or 'lite'`
        : `fc7 needs [1,1,${filters}/n,${filters}/n], the same n as fc6`;
    throw shapeMismatch(layer.name, 'kernel', kernelShape, srcShape, fix);
  }
  const target = layer.name;
  const subsampled = step !== 1 || k !== srcK;
  const taps = Array.from({ length: k }, (_, i) => i * tap).join(',');
  const how = [
    k !== srcK ? `taps ${taps} of ${srcK}` : '',
    step !== 1 ? `1 in ${step} ${inStep !== 1 ? 'input and output' : 'output'} channels` : '',
  ]
    .filter(Boolean)
    .join('; ');
  return {
    layer,
    kernel: {
      shape: kernelShape,
      values: () =>
        subsampled ? subsampleKernel(src.kernel.values, srcShape, kernelShape, tap, inStep, step) : src.kernel.values,
    },
    bias: { shape: biasShape, values: () => (step === 1 ? src.bias.values : everyNth(src.bias.values, step)) },
    logLines: [
      subsampled
        ? `subsample ${source}/kernel [${rows},${filters}] -> ${target}/kernel [${kernelShape.join(',')}] (${how})`
        : `reshape   ${source}/kernel [${rows},${filters}] -> ${target}/kernel [${kernelShape.join(',')}]`,
      step !== 1
        ? `subsample ${source}/bias [${filters}] -> ${target}/bias [${biasShape.join(',')}] (1 in ${step})`
        : `copy      ${source}/bias [${filters}] -> ${target}/bias`,
    ],
  };
}

/** Picks kernel taps (y*tap, x*tap) and channels (c*inStep -> o*outStep) out of a row-major [K, K, C, F] kernel. */
function subsampleKernel(
  src: Float32Array,
  srcShape: readonly number[],
  dstShape: readonly number[],
  tap: number,
  inStep: number,
  outStep: number,
): Float32Array {
  const [, sk, sc, sf] = srcShape;
  const [dk, , dc, df] = dstShape;
  const dst = new Float32Array(dk * dk * dc * df);
  let i = 0;
  for (let y = 0; y < dk; y++) {
    for (let x = 0; x < dk; x++) {
      for (let c = 0; c < dc; c++) {
        const row = ((y * tap * sk + x * tap) * sc + c * inStep) * sf;
        for (let o = 0; o < df; o++) dst[i++] = src[row + o * outStep];
      }
    }
  }
  return dst;
}

function everyNth(values: Float32Array, step: number): Float32Array {
  return Float32Array.from({ length: Math.floor(values.length / step) }, (_, i) => values[i * step]);
}
