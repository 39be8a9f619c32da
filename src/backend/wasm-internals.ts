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
/** Whether `owner` has a function `name` (read as plain data: nothing is called). */
const hasMethod = (owner: unknown, name: string) =>
  typeof (owner as Record<string, unknown> | undefined)?.[name] === 'function';
const MEMBERS: readonly [string, (b: BackendWasm) => boolean][] = [
  ['dataIdMap.get', (b) => hasMethod(b.dataIdMap, 'get')],
  ['dataIdMap.delete', (b) => hasMethod(b.dataIdMap, 'delete')],
  ['getMemoryOffset', (b) => hasMethod(b, 'getMemoryOffset')],
  ['makeOutput', (b) => hasMethod(b, 'makeOutput')],
  ['typedArrayFromHeap', (b) => hasMethod(b, 'typedArrayFromHeap')],
  ['wasm.tfjs.disposeData', (b) => hasMethod(b.wasm?.tfjs, 'disposeData')],
  ['wasm.tfjs.registerTensor', (b) => hasMethod(b.wasm?.tfjs, 'registerTensor')],
  ['wasm.HEAPF32', (b) => b.wasm?.HEAPF32 instanceof Float32Array],
  [
    'wasm.asm.memory',
    (b) => (b.wasm as unknown as { asm?: { memory?: unknown } })?.asm?.memory instanceof WebAssembly.Memory,
  ],
];

export function checkWasmInternals(backend: BackendWasm): void {
  const missing = MEMBERS.filter(([, present]) => !present(backend)).map(([name]) => name);
  if (!missing.length) {
    // A live tensor's entry must carry the id and heap offset the kernels read.
    const t = tf.tensor1d([1], 'float32');
    const entry = backend.dataIdMap.get(t.dataId) as { id?: unknown; memoryOffset?: unknown } | undefined;
    t.dispose();
    if (typeof entry?.id !== 'number' || typeof entry.memoryOffset !== 'number')
      missing.push('dataIdMap entry {id, memoryOffset}');
  }
  if (missing.length) {
    throw new BackendError(
      `@tensorflow/tfjs-backend-wasm ${tf.version_core} lacks what fcn-ts's wasm training kernels use: ${missing.join(', ')}. ` +
        'Install the version package.json pins (npm ci), or set FCN_BACKEND=cpu to train without them.',
    );
  }
}
