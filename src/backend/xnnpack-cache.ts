import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/**
 * tfjs's wasm Conv2D, FusedConv2D and BatchMatMul cache XNNPACK operators,
 * with the weights packed (a full copy), by the filter's tensor id, on the
 * rule that a tensor's data never changes; an operator goes when its
 * filter is disposed.
 */

/**
 * Drops the operators packed from `t` (after `t` was written in place, or
 * to free their copies): its id is unregistered, which deletes them and
 * leaves the memory alone, and registered again.
 */
export function forgetPackedCopies(b: BackendWasm, t: tf.TensorInfo): void {
  const data = b.dataIdMap.get(t.dataId);
  b.wasm.tfjs.disposeData(data.id);
  b.wasm.tfjs.registerTensor(data.id, tf.util.sizeFromShape(t.shape), data.memoryOffset);
}

/**
 * Frees the packed copies of `weights` on wasm (elsewhere does nothing).
 * A training step calls it first: an inference pass (validation) packs the
 * weights for FusedConv2D, the step's forward packs them again for Conv2D,
 * and for the paper's fc6 that second 0.5 GiB does not fit the heap.
 */
export function forgetPackedWeights(weights: readonly tf.Tensor[]): void {
  if (tf.getBackend() !== 'wasm') return;
  const b = tf.backend() as BackendWasm;
  for (const w of weights) forgetPackedCopies(b, w);
}
