import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { Batch } from '../data/types';
import type { Fcn8Config } from '../model/config';
import { simdKernels } from '../backend/simd-module';
import { ConfigError } from '../util/errors';

/**
 * What the main thread and a data-parallel worker (worker-entry.ts) say to
 * each other. Weights and gradients never go through a message: each lives
 * in a SharedArrayBuffer as all trainable variables back to back, float32,
 * in trainableVariables order (see VariableLayout).
 */

/** Test-only: make a worker fail at a step, to check that the failure surfaces. */
export interface InjectedFault {
  /** 1-based worker (lane) index. */
  readonly worker: number;
  readonly step: number;
  /** 'throw': an error inside the step; 'uncaught': an exception outside any handler; 'exit': process.exit(3). */
  readonly kind: 'throw' | 'uncaught' | 'exit';
}

/**
 * A fault planned from the environment, so that a test can make a worker of
 * a whole `fcn train` process fail: FCN_INJECT_WORKER_FAULT=kind:worker:step,
 * e.g. exit:1:3 (worker 1 exits at step 3). Unset: none.
 */
export function faultFromEnv(env: NodeJS.ProcessEnv = process.env): InjectedFault | null {
  const spec = env.FCN_INJECT_WORKER_FAULT;
  if (!spec) return null;
  const m = /^(throw|uncaught|exit):(\d+):(\d+)$/.exec(spec);
  if (!m)
    throw new ConfigError(`FCN_INJECT_WORKER_FAULT=${spec} is not kind:worker:step (kind throw, uncaught or exit)`);
  return { kind: m[1] as InjectedFault['kind'], worker: Number(m[2]), step: Number(m[3]) };
}

/** workerData of a worker thread. */
export interface WorkerInit {
  /** Lane index, from 1 (the main thread is lane 0). */
  readonly lane: number;
  readonly model: Fcn8Config;
  readonly ignoreIndex: number;
  readonly classWeights: readonly number[] | null;
  /** The main model's weights, written by the main thread before each step. */
  readonly weights: SharedArrayBuffer;
  /** This worker's gradient, written by it after each step. */
  readonly grads: SharedArrayBuffer;
  readonly fault: InjectedFault | null;
}

export type ToWorker = { type: 'step'; step: number; shard: Batch; scale: number };

export type FromWorker =
  /** The replica is built; its trainable variables' shapes, to check against the main model. */
  | { type: 'ready'; shapes: number[][] }
  /** The gradient is in the grads buffer. */
  | { type: 'grads'; loss: number }
  | { type: 'error'; message: string };

/** Where each trainable variable sits in a flat float32 buffer. */
export class VariableLayout {
  readonly offsets: number[];
  readonly size: number;

  constructor(readonly shapes: readonly (readonly number[])[]) {
    this.offsets = [];
    let size = 0;
    for (const shape of shapes) {
      this.offsets.push(size);
      size += shape.reduce((a, b) => a * b, 1);
    }
    this.size = size;
  }

  static of(vars: readonly tf.Variable[]): VariableLayout {
    return new VariableLayout(vars.map((v) => v.shape));
  }

  /** A float32 view of the buffer over variable `i`. */
  view(buffer: SharedArrayBuffer, i: number): Float32Array {
    const length = (i + 1 < this.offsets.length ? this.offsets[i + 1] : this.size) - this.offsets[i];
    return new Float32Array(buffer, 4 * this.offsets[i], length);
  }

  allocate(): SharedArrayBuffer {
    return new SharedArrayBuffer(4 * this.size);
  }

  /** "3x3x3x4, 4, ..." for error messages. */
  describe(): string {
    return this.shapes.map((s) => s.join('x') || 'scalar').join(', ');
  }
}

/**
 * Copies the variables' current values into `buffer`, straight from the wasm heap (data-parallel training runs on wasm
 * only).
 */
export function writeVariables(vars: readonly tf.Variable[], layout: VariableLayout, buffer: SharedArrayBuffer): void {
  const backend = tf.backend() as BackendWasm;
  vars.forEach((v, i) => layout.view(buffer, i).set(backend.typedArrayFromHeap(v)));
}

/** Floats of a shared buffer staged in the wasm heap at a time by addFromBuffer. */
const STAGING_FLOATS = 1 << 20;

/**
 * target += source, in place on the wasm heap (a worker's gradient added to
 * the main lane's), through a 4 MB staging buffer, so no tensor the size of
 * the largest variable (400 MB for the paper's fc6) is made. Returns false,
 * having done nothing, when another tensor shares target's data.
 */
export function addFromBuffer(target: tf.Tensor, source: Float32Array): boolean {
  const backend = tf.backend() as BackendWasm;
  if (backend.refCount(target.dataId) !== 1) return false;
  const simd = simdKernels(backend);
  const staging = backend.makeOutput([Math.min(STAGING_FLOATS, source.length)], 'float32');
  try {
    const stagingAt = backend.getMemoryOffset(staging.dataId);
    const targetAt = backend.getMemoryOffset(target.dataId);
    for (let from = 0; from < source.length; from += STAGING_FLOATS) {
      const part = source.subarray(from, from + STAGING_FLOATS);
      backend.wasm.HEAPF32.set(part, stagingAt / 4);
      simd.addInPlace(targetAt + 4 * from, stagingAt, part.length);
    }
  } finally {
    backend.disposeData(staging.dataId);
  }
  return true;
}

/** Loads values from `buffer` into the variables (a worker taking the main model's weights). */
export function readVariables(vars: readonly tf.Variable[], layout: VariableLayout, buffer: SharedArrayBuffer): void {
  vars.forEach((v, i) => {
    // wasm copies the values into its heap here, so the shared buffer may be rewritten later.
    const value = tf.tensor(layout.view(buffer, i), v.shape, 'float32');
    v.assign(value);
    value.dispose();
  });
}
