import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { BackendError } from '../util/errors';

/**
 * The parts of tfjs-backend-wasm 4.22 that are not its public API but that
 * our training kernels, the XNNPACK cache release and the data-parallel
 * workers use: the tensor table, the heap, and the C++ entry points that
 * register and dispose tensors. Checked once when the backend is set up, so
 * that a tfjs upgrade that changes them fails at start-up with their names,
 * never later with wrong numbers.
 */
const MEMBERS: readonly [string, (b: BackendWasm) => unknown, string][] = [
  ['dataIdMap.get', (b) => b.dataIdMap?.get, 'function'],
  ['dataIdMap.delete', (b) => b.dataIdMap?.delete, 'function'],
  ['getMemoryOffset', (b) => b.getMemoryOffset, 'function'],
  ['makeOutput', (b) => b.makeOutput, 'function'],
  ['typedArrayFromHeap', (b) => b.typedArrayFromHeap, 'function'],
  ['wasm.tfjs.disposeData', (b) => b.wasm?.tfjs?.disposeData, 'function'],
  ['wasm.tfjs.registerTensor', (b) => b.wasm?.tfjs?.registerTensor, 'function'],
  ['wasm.HEAPF32', (b) => b.wasm?.HEAPF32 instanceof Float32Array, 'true'],
  ['wasm.asm.memory', (b) => (b.wasm as unknown as { asm?: { memory?: unknown } })?.asm?.memory instanceof WebAssembly.Memory, 'true'],
];

export function checkWasmInternals(backend: BackendWasm): void {
  const missing = MEMBERS.filter(([, get, kind]) => {
    const v = get(backend);
    return kind === 'true' ? v !== true : typeof v !== kind;
  }).map(([name]) => name);
  if (!missing.length) {
    // A live tensor's entry must carry the id and heap offset the kernels read.
    const t = tf.tensor1d([1], 'float32');
    const entry = backend.dataIdMap.get(t.dataId) as { id?: unknown; memoryOffset?: unknown } | undefined;
    t.dispose();
    if (typeof entry?.id !== 'number' || typeof entry.memoryOffset !== 'number') missing.push('dataIdMap entry {id, memoryOffset}');
  }
  if (missing.length) {
    throw new BackendError(
      `@tensorflow/tfjs-backend-wasm ${tf.version_core} lacks what fcn-ts's wasm training kernels use: ${missing.join(', ')}. ` +
      'Install the version package.json pins (npm ci), or set FCN_BACKEND=cpu to train without them.');
  }
}
