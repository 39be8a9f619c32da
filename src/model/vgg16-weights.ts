import { promises as fsp } from 'node:fs';
import { RunError } from '../util/errors';
import { readH5, stringList } from '../util/h5-file';
import { VGG16_BLOCKS } from './config';

/** A weight as stored in the file: row-major values and their shape. */
export interface WeightArray {
  readonly shape: readonly number[];
  readonly values: Float32Array;
}

export interface Vgg16LayerWeights {
  /** Conv: [3, 3, in, out]; dense (fc1, fc2, predictions): [in, out]. */
  readonly kernel: WeightArray;
  /** [out]. */
  readonly bias: WeightArray;
}

/** The weights of a Keras VGG16 file, by Keras layer name, in file order. */
export interface Vgg16Weights {
  readonly file: string;
  readonly layers: ReadonlyMap<string, Vgg16LayerWeights>;
  /** True when the file has the classifier (fc1, fc2), false for the `_notop` file. */
  readonly hasTop: boolean;
}

/** The 13 conv layers every VGG16 file has. */
const CONV_LAYERS = VGG16_BLOCKS.flat().map(([name]) => name);
/** Dense layers of the full (`include_top`) file; `predictions` is the ImageNet classifier. */
const TOP_LAYERS = ['fc1', 'fc2', 'predictions'];
/** Keras's VGG16 classifies 224x224 inputs, so fc1 sees a 7x7 pool5. */
export const VGG16_POOL5_SIZE = 7;

const FIX =
  'fetch it again with `fcn weights download`, or put a Keras VGG16 .h5 file in place with `fcn weights import <file>`';

/**
 * Reads Keras's `vgg16_weights_tf_dim_ordering_tf_kernels.h5` (or its
 * `_notop` twin) into plain arrays. Accepts both weight naming styles,
 * `block1_conv1_W_1:0` (Keras 1/2.0) and `block1_conv1/kernel:0` (later),
 * and checks every layer's presence and shape before returning, so a wrong
 * or truncated file fails here and not halfway through a transplant.
 */
export async function readVgg16H5(file: string): Promise<Vgg16Weights> {
  let bytes: Buffer;
  try {
    bytes = await fsp.readFile(file);
  } catch (err) {
    throw new RunError(`cannot read VGG16 weights ${file}: ${(err as Error).message}; ${FIX}`);
  }
  return readH5(file, bytes, FIX, (h5, h5wasm) => {
    const layers = new Map<string, Vgg16LayerWeights>();
    for (const layer of stringList(h5.get_attribute('layer_names', true))) {
      const group = h5.get(layer);
      if (!(group instanceof h5wasm.Group))
        throw new RunError(`${file}: layer_names lists ${layer} but the file has no group for it; ${FIX}`);
      const weightNames = 'weight_names' in group.attrs ? stringList(group.get_attribute('weight_names', true)) : [];
      if (weightNames.length === 0) continue; // input, pooling, flatten
      if (weightNames.length !== 2) {
        throw new RunError(
          `${file}: layer ${layer} has ${weightNames.length} weights (${weightNames.join(', ')}), expected kernel and bias`,
        );
      }
      const read = (name: string): WeightArray => {
        const ds = h5.get(`${layer}/${name}`);
        if (!(ds instanceof h5wasm.Dataset) || !ds.shape)
          throw new RunError(`${file}: weight ${layer}/${name} is missing; ${FIX}`);
        const value = ds.value;
        if (!(value instanceof Float32Array || value instanceof Float64Array)) {
          throw new RunError(
            `${file}: weight ${layer}/${name} is not a float array (dtype ${JSON.stringify(ds.dtype)})`,
          );
        }
        const values = value instanceof Float32Array ? value : Float32Array.from(value);
        return { shape: ds.shape, values };
      };
      const [kernelName, biasName] = orderKernelBias(file, layer, weightNames);
      layers.set(layer, { kernel: read(kernelName), bias: read(biasName) });
    }
    const weights = { file, layers, hasTop: layers.has('fc1') };
    checkVgg16Structure(weights);
    return weights;
  });
}

/** Picks kernel and bias out of a layer's two weight names, whichever naming style the file uses. */
function orderKernelBias(file: string, layer: string, names: string[]): [string, string] {
  // The last path segment without ":0": "block1_conv1_W_1", "kernel", "bias".
  const role = (name: string): 'kernel' | 'bias' | null => {
    const base = name.split('/').pop()!.replace(/:\d+$/, '');
    if (/(^|_)(W|kernel)(_\d+)?$/.test(base)) return 'kernel';
    if (/(^|_)(b|bias)(_\d+)?$/.test(base)) return 'bias';
    return null;
  };
  const kernel = names.find((n) => role(n) === 'kernel');
  const bias = names.find((n) => role(n) === 'bias');
  if (!kernel || !bias) {
    throw new RunError(
      `${file}: layer ${layer} has weights ${names.join(', ')}; expected a kernel (…_W…:0 or kernel:0) and a bias (…_b…:0 or bias:0)`,
    );
  }
  return [kernel, bias];
}

/**
 * Checks layer names and shapes against VGG16's architecture (whatever the
 * width, so that tests can use narrow files): conv kernels [3, 3, in, out]
 * chained from 3 input channels, fc1 [7*7*pool5 channels, F], fc2 [F, F].
 */
function checkVgg16Structure({ file, layers, hasTop }: Vgg16Weights): void {
  const expected = hasTop ? [...CONV_LAYERS, ...TOP_LAYERS] : CONV_LAYERS;
  const missing = expected.filter((n) => !layers.has(n) && n !== 'predictions');
  const extra = [...layers.keys()].filter((n) => !expected.includes(n));
  if (missing.length > 0 || extra.length > 0) {
    throw new RunError(
      `${file} does not hold VGG16's layers: ${missing.length ? `missing ${missing.join(', ')}` : ''}` +
        `${missing.length && extra.length ? '; ' : ''}${extra.length ? `unexpected ${extra.join(', ')}` : ''}; ${FIX}`,
    );
  }
  const fail = (layer: string, what: string, got: readonly number[], want: string): never => {
    throw new RunError(`${file}: ${layer} ${what} has shape [${got.join(',')}], expected ${want}; ${FIX}`);
  };
  const checkBias = (layer: string, out: number): void => {
    const { shape } = layers.get(layer)!.bias;
    if (shape.length !== 1 || shape[0] !== out) fail(layer, 'bias', shape, `[${out}]`);
  };
  let channels = 3;
  for (const layer of CONV_LAYERS) {
    const { shape } = layers.get(layer)!.kernel;
    if (shape.length !== 4 || shape[0] !== 3 || shape[1] !== 3 || shape[2] !== channels) {
      fail(layer, 'kernel', shape, `[3,3,${channels},out]`);
    }
    channels = shape[3];
    checkBias(layer, channels);
  }
  if (!hasTop) return;
  const fc1 = layers.get('fc1')!.kernel.shape;
  const fc1In = VGG16_POOL5_SIZE * VGG16_POOL5_SIZE * channels;
  if (fc1.length !== 2 || fc1[0] !== fc1In) fail('fc1', 'kernel', fc1, `[${fc1In},F]`);
  const filters = fc1[1];
  checkBias('fc1', filters);
  const fc2 = layers.get('fc2')!.kernel.shape;
  if (fc2.length !== 2 || fc2[0] !== filters || fc2[1] !== filters)
    fail('fc2', 'kernel', fc2, `[${filters},${filters}]`);
  checkBias('fc2', filters);
  const predictions = layers.get('predictions');
  if (predictions) {
    const { shape } = predictions.kernel;
    if (shape.length !== 2 || shape[0] !== filters) fail('predictions', 'kernel', shape, `[${filters},classes]`);
    checkBias('predictions', shape[1]);
  }
}
