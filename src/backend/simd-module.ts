import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { BackendError } from '../util/errors';
import { SIMD_KERNELS_WAT } from './simd-kernels.wat';

/**
 * Our own wasm SIMD128 loops, in a small module that imports the tfjs wasm
 * backend's memory, so they read and write tensors in place by their heap
 * offsets. They cover the passes tfjs does as many kernels (Adam: 14
 * elementwise passes over every weight; the L2 gradient), the copies
 * between the XNNPACK calls of our conv kernels (patch gather, sub-pixel
 * filter, col2im, transpose) and the data-parallel gradient sum. Written
 * in WebAssembly text (simd-kernels.wat.ts) and assembled once per process
 * by wabt.
 */

/** Byte offsets into the backend's heap and element counts; see simd-kernels.wat.ts for each loop. */
export interface SimdKernels {
  adam(
    w: number,
    g: number,
    m: number,
    v: number,
    outW: number,
    outM: number,
    outV: number,
    n: number,
    beta1: number,
    oneMinusBeta1: number,
    beta2: number,
    oneMinusBeta2: number,
    correction1: number,
    correction2: number,
    negLr: number,
    epsilon: number,
  ): void;
  gatherPatches(
    dst: number,
    src: number,
    g0: number,
    rows: number,
    p: number,
    kh: number,
    kw: number,
    ci: number,
    batch: number,
    oh: number,
    ow: number,
    hp: number,
    wp: number,
    sh: number,
    sw: number,
    dh: number,
    dw: number,
  ): void;
  subPixelFilter(w: number, f: number, kh: number, kw: number, sh: number, sw: number, ci: number, co: number): void;
  /** dst [cols, rows] = src [rows, cols] transposed. */
  transpose2d(src: number, dst: number, rows: number, cols: number): void;
  /** dst[0..n) += src[0..n). */
  addInPlace(dst: number, src: number, n: number): void;
  /** out = g + w*k; returns sum(w*w). */
  l2Gradient(g: number, w: number, out: number, n: number, k: number): number;
  col2imRows(
    dst: number,
    src: number,
    kh: number,
    kw: number,
    ci: number,
    batch: number,
    h: number,
    w: number,
    oh: number,
    ow: number,
    top: number,
    left: number,
  ): void;
}

let compiled: Promise<WebAssembly.Module> | null = null;
let assembled: WebAssembly.Module | null = null;
const instances = new WeakMap<BackendWasm, SimdKernels>();

/** Assembles the module (once per process; ~30 ms). */
export function compileSimdKernels(): Promise<WebAssembly.Module> {
  compiled ??= (async () => {
    // wabt is CommonJS with a default export that initialises its own wasm.
    const wabt = await (await import('wabt')).default();
    const parsed = wabt.parseWat('simd-kernels.wat', SIMD_KERNELS_WAT, { simd: true, bulk_memory: true });
    try {
      parsed.validate();
      assembled = await WebAssembly.compile(new Uint8Array(parsed.toBinary({}).buffer));
      return assembled;
    } finally {
      parsed.destroy();
    }
  })();
  return compiled;
}

/** The loops bound to `backend`'s heap; compileSimdKernels() must have finished. */
export function simdKernels(backend: BackendWasm): SimdKernels {
  const known = instances.get(backend);
  if (known) return known;
  if (assembled === null)
    throw new BackendError('the SIMD kernels are not compiled yet; await registerWasmTrainingKernels() first');
  const memory = (backend.wasm as unknown as { asm: { memory: WebAssembly.Memory } }).asm.memory;
  const e = new WebAssembly.Instance(assembled, { env: { memory } }).exports as unknown as Record<
    string,
    (...args: number[]) => void
  >;
  const kernels: SimdKernels = {
    adam: e.adam,
    gatherPatches: e.gather_patches,
    subPixelFilter: e.sub_pixel_filter,
    col2imRows: e.col2im_rows,
    addInPlace: e.add_in_place,
    transpose2d: e.transpose_2d,
    l2Gradient: e.l2_gradient as unknown as SimdKernels['l2Gradient'],
  };
  instances.set(backend, kernels);
  return kernels;
}
