import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { simdKernels } from './simd-module';
import { forgetPackedCopies } from './xnnpack-cache';

/**
 * Per-parameter passes that tfjs runs as chains of elementwise kernels,
 * each as one kernel: Adam's update and the closed-form L2 gradient.
 * src/train/adam.ts and src/train/l2-gradient.ts call them where the active
 * backend registers them (wasm) and run tfjs's ops elsewhere.
 */

/**
 * One Adam update of one variable: inputs value, gradient, m, v and the
 * bias corrections 1 - beta1^t and 1 - beta2^t (scalars); outputs the new
 * value, m and v.
 */
export const FUSED_ADAM = 'FcnFusedAdam';

export interface FusedAdamAttrs {
  beta1: number;
  beta2: number;
  epsilon: number;
  learningRate: number;
}

/**
 * g + k * w for one kernel's gradient g and weights w, and sum(w * w):
 * inputs gradient and value, attr factor (k = 2 * l2); outputs the new
 * gradient and the sum as a float32 scalar.
 */
export const FUSED_L2_GRADIENT = 'FcnFusedL2Gradient';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

/**
 * `t` itself, with one more holder (as an Identity adds), to be written in place; or a new buffer where others hold t's
 * data.
 */
function inPlaceOrNew(b: BackendWasm, t: tf.TensorInfo): tf.TensorInfo {
  if (b.refCount(t.dataId) !== 1) return b.makeOutput(t.shape, 'float32');
  b.incRef(t.dataId);
  return { dataId: t.dataId, shape: t.shape, dtype: t.dtype };
}

/**
 * The wasm kernel. tfjs's Adam is 14 elementwise kernels over each
 * variable, each a pass over memory (~130 ms a step for VGG16's 20.5M
 * weights); this is one pass (~26 ms) with the same float32 arithmetic.
 * Where nothing else holds the value's, m's or v's data it updates them in
 * place, so the update needs no memory beyond the gradients (the paper's
 * fc6 kernel alone is 400 MB).
 */
function fusedAdamWasm({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const b = backend as BackendWasm;
  const { value, gradient, m, v, correction1, correction2 } = inputs as Record<string, tf.TensorInfo>;
  const { beta1, beta2, epsilon, learningRate } = attrs as unknown as FusedAdamAttrs;
  const n = tf.util.sizeFromShape(value.shape);
  const outs = [inPlaceOrNew(b, value), inPlaceOrNew(b, m), inPlaceOrNew(b, v)];
  const at = (t: tf.TensorInfo) => b.getMemoryOffset(t.dataId);
  const scalar = (t: tf.TensorInfo) => (b.typedArrayFromHeap(t) as Float32Array)[0];
  simdKernels(b).adam(
    at(value),
    at(gradient),
    at(m),
    at(v),
    at(outs[0]),
    at(outs[1]),
    at(outs[2]),
    n,
    beta1,
    1 - beta1,
    beta2,
    1 - beta2,
    scalar(correction1),
    scalar(correction2),
    -learningRate,
    epsilon,
  );
  if (outs[0].dataId === value.dataId) forgetPackedCopies(b, value);
  return outs;
}

/**
 * The wasm kernel: one pass instead of tfjs's four (mul, add, square, sum),
 * and the gradient updated in place, so a 400 MB kernel (the paper's fc6)
 * needs no second and third copy.
 */
function fusedL2GradientWasm({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const b = backend as BackendWasm;
  const { gradient, value } = inputs as Record<string, tf.TensorInfo>;
  const { factor } = attrs as unknown as { factor: number };
  const out = inPlaceOrNew(b, gradient);
  const at = (t: tf.TensorInfo) => b.getMemoryOffset(t.dataId);
  const sum = simdKernels(b).l2Gradient(at(gradient), at(value), at(out), tf.util.sizeFromShape(value.shape), factor);
  const sumInfo = b.makeOutput([], 'float32');
  (b.typedArrayFromHeap(sumInfo) as Float32Array)[0] = sum;
  return [out, sumInfo];
}

export function registerFusedKernelsWasm(): void {
  const kernels: [string, (args: KernelArgs) => tf.TensorInfo[]][] = [
    [FUSED_ADAM, fusedAdamWasm],
    [FUSED_L2_GRADIENT, fusedL2GradientWasm],
  ];
  for (const [kernelName, kernelFunc] of kernels) {
    if (tf.getKernel(kernelName, 'wasm') === undefined) {
      tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: kernelFunc });
    }
  }
}
