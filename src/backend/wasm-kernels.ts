/**
 * Training kernels for the wasm backend. tfjs-backend-wasm 4.22 has no
 * Conv2DBackpropFilter (so no conv weight can be trained), its
 * Conv2DBackpropInput is a scalar loop ~11x slower than the forward conv,
 * and its BatchMatMul leaves XNNPACK for a scalar loop whenever a side is
 * transposed (every matMul gradient) or batched. These are rebuilt from the
 * backend's own XNNPACK kernels (Conv2D, and BatchMatMul on one
 * un-transposed pair), called directly on TensorInfos; every intermediate
 * is freed before returning, so the wasm heap does not grow across steps.
 * Reverse (the filter flip of a transposed or dilated conv's gradient) is
 * replaced by a block copy, MaxPoolGrad by one scan, and Identity (the
 * engine's clone of every tensor saved for the backward pass) shares data.
 * Convs whose weights outnumber their output pixels (fc6, fc7) train as
 * matmuls that stream the weights instead of re-packing them every step.
 * The element loops between the XNNPACK calls (patch gather, sub-pixel
 * filter, col2im, transpose) run in our SIMD module (simd-module.ts).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

import { BackendError } from '../util/errors';
import { registerFusedKernelsWasm } from './fused-kernels';
import { checkWasmInternals } from './wasm-internals';
import { compileSimdKernels, simdKernels, type SimdKernels } from './simd-module';

type Info = tf.TensorInfo;
type Attrs = Record<string, unknown>;

/**
 * Output pixels per filter-grad matmul. It bounds the patches buffer (taps
 * times the input otherwise); 1024..16384 time the same within noise
 * (bench/kernels.ts layers, batch 2, 96x288).
 */
const FILTER_GRAD_CHUNK = 4096;

/**
 * Runs wasm kernels on TensorInfos and owns what they return, so a kernel
 * built from several can free all of its intermediates in one place.
 */
class KernelScope {
  private readonly owned = new Set<Info>();
  private readonly views = new Set<Info>();

  readonly simd: SimdKernels;

  constructor(
    readonly backend: BackendWasm,
    private readonly kernels: Map<string, tf.KernelFunc>,
  ) {
    this.simd = simdKernels(backend);
  }

  run(name: string, inputs: tf.NamedTensorInfoMap | Info[], attrs: Attrs = {}): Info {
    const kernelFunc = this.kernels.get(name);
    if (kernelFunc === undefined)
      throw new BackendError(
        `wasm kernel '${name}' was not captured; call registerWasmTrainingKernels() after setBackend('wasm')`,
      );
    const out = kernelFunc({
      inputs: inputs as tf.NamedTensorInfoMap,
      backend: this.backend,
      attrs: attrs as tf.NamedAttrMap,
    }) as Info;
    this.owned.add(out);
    return out;
  }

  reshape(x: Info, shape: number[]): Info {
    return this.run('Reshape', { x }, { shape });
  }

  /** Byte offset of `t`'s data in the heap, for the SIMD loops. */
  offset(t: Info): number {
    return this.backend.getMemoryOffset(t.dataId);
  }

  /** A new float32 tensor that JS or a SIMD loop fills. */
  alloc(shape: number[], dtype: tf.DataType = 'float32'): Info {
    const out = this.backend.makeOutput(shape, dtype);
    this.owned.add(out);
    return out;
  }

  /**
   * A tensor over `parent`'s elements from `offset` on, as many as `shape` holds,
   * without a copy. wasm's own Slice copies its whole input first.
   */
  view(parent: Info, offset: number, shape: number[]): Info {
    const base = this.backend.getMemoryOffset(parent.dataId);
    const out = this.backend.makeOutput(shape, 'float32', base + 4 * offset);
    this.views.add(out);
    return out;
  }

  /** Current float32 contents; invalid after the next allocation, which may grow the heap. */
  heap(t: Info): Float32Array {
    return this.backend.typedArrayFromHeap(t) as Float32Array;
  }

  /** Frees `t` now (large intermediates inside a loop). */
  free(t: Info): void {
    if (this.owned.delete(t)) this.backend.disposeData(t.dataId);
    if (this.views.delete(t)) this.releaseView(t);
  }

  /** Frees everything this scope made except `result`, which the caller returns to the engine. */
  finish(result: Info): Info {
    this.owned.delete(result);
    this.abandon();
    return result;
  }

  /** Frees everything (error path). */
  abandon(): void {
    for (const t of this.owned) this.backend.disposeData(t.dataId);
    for (const v of this.views) this.releaseView(v);
    this.owned.clear();
    this.views.clear();
  }

  /** Unregisters a view (and XNNPACK operators cached on it) without freeing its parent's memory. */
  private releaseView(v: Info): void {
    this.backend.wasm.tfjs.disposeData(this.backend.dataIdMap.get(v.dataId).id);
    this.backend.dataIdMap.delete(v.dataId);
  }
}

function withScope<T extends Info | null>(
  backend: BackendWasm,
  kernels: Map<string, tf.KernelFunc>,
  body: (s: KernelScope) => T,
): T {
  const scope = new KernelScope(backend, kernels);
  try {
    const result = body(scope);
    if (result === null) {
      scope.abandon();
      return result;
    }
    return scope.finish(result) as T;
  } catch (e) {
    scope.abandon();
    throw e;
  }
}

function pair(v: unknown, fallback: number): [number, number] {
  if (v == null) return [fallback, fallback];
  if (typeof v === 'number') return [v, v];
  const a = v as number[];
  return [a[0], a[1]];
}

function checkNhwc(kernel: string, dataFormat: unknown): void {
  if (dataFormat !== undefined && dataFormat !== 'NHWC') {
    throw new BackendError(
      `${kernel} on wasm supports dataFormat 'NHWC' only; got ${JSON.stringify(dataFormat)}; transpose the input to NHWC`,
    );
  }
}

/**
 * dW[kh, kw, ci, co] = sum over (b, oh, ow) of
 *   x[b, oh*sh - top + kh*dh, ow*sw - left + kw*dw, ci] * dy[b, oh, ow, co],
 * i.e. patches^T [taps*ci, P] x dy [P, co] with P = B*OH*OW. The patches are
 * gathered channels-first straight into the matmul's left operand (one
 * contiguous row copy per tap, channel and output row), dy is used in place
 * as the right operand, and P is cut into chunks (FILTER_GRAD_CHUNK) whose
 * partial products are added. Any stride, dilation and padding.
 */
function conv2dBackpropFilter(s: KernelScope, x: Info, dy: Info, attrs: Attrs): Info {
  checkNhwc('Conv2DBackpropFilter', attrs.dataFormat);
  const filterShape = attrs.filterShape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    attrs.strides as [number, number],
    pair(attrs.dilations, 1),
    attrs.pad as 'same',
    attrs.dimRoundingMode as 'round' | undefined,
  );
  const {
    batchSize,
    inHeight,
    inWidth,
    inChannels: ci,
    outChannels: co,
    outHeight: oh,
    outWidth: ow,
    filterHeight: kh,
    filterWidth: kw,
    strideHeight: sh,
    strideWidth: sw,
    dilationHeight: dh,
    dilationWidth: dw,
  } = info;
  const { top, left } = info.padInfo;
  if (dy.shape[0] !== batchSize || dy.shape[1] !== oh || dy.shape[2] !== ow || dy.shape[3] !== co) {
    throw new BackendError(
      `Conv2DBackpropFilter: dy ${dy.shape.join('x')} does not match the conv output ${batchSize}x${oh}x${ow}x${co}`,
    );
  }

  // Pad so that every tap's window lies inside xp; rows/cols past the last window are never read.
  const hp = Math.max(inHeight + top, (oh - 1) * sh + (kh - 1) * dh + 1);
  const wp = Math.max(inWidth + left, (ow - 1) * sw + (kw - 1) * dw + 1);
  const xp =
    hp === inHeight && wp === inWidth
      ? x
      : s.run(
          'PadV2',
          { x },
          {
            paddings: [
              [0, 0],
              [top, hp - inHeight - top],
              [left, wp - inWidth - left],
              [0, 0],
            ],
            constantValue: 0,
          },
        );
  const xT = s.run('Transpose', { x: xp }, { perm: [3, 0, 1, 2] }); // [ci, B, hp, wp]
  if (xp !== x) s.free(xp);

  const taps = kh * kw;
  const rowsTotal = batchSize * oh; // output rows over the batch: dy is [rowsTotal * ow, co]
  const rowsPerChunk = Math.max(1, Math.floor(FILTER_GRAD_CHUNK / ow));
  let sum: Info | null = null;
  for (let g0 = 0; g0 < rowsTotal; g0 += rowsPerChunk) {
    const rows = Math.min(rowsPerChunk, rowsTotal - g0);
    const p = rows * ow;
    const patches = s.alloc([1, taps * ci, p]);
    s.simd.gatherPatches(
      s.offset(patches),
      s.offset(xT),
      g0,
      rows,
      p,
      kh,
      kw,
      ci,
      batchSize,
      oh,
      ow,
      hp,
      wp,
      sh,
      sw,
      dh,
      dw,
    );
    const dyChunk = s.view(dy, g0 * ow * co, [1, p, co]);
    const partial = s.run('BatchMatMul', { a: patches, b: dyChunk }, { transposeA: false, transposeB: false });
    s.free(dyChunk);
    s.free(patches);
    if (sum === null) {
      sum = partial;
    } else {
      const next = s.run('Add', { a: sum, b: partial });
      s.free(sum);
      s.free(partial);
      sum = next;
    }
  }
  return s.reshape(sum!, [kh, kw, ci, co]);
}

/**
 * dx of a conv (= the forward of a transposed conv) as one forward Conv2D.
 * With u = ih + top = q*s + r, dx[ih] = sum_j dy[q - j] * W[j*s + r]: for each
 * phase r it is a stride-1 correlation of dy with a ceil(K/s)-tap sub-filter,
 * flipped and with in/out channels swapped. All s*s phases go into the output
 * channels of one conv, and a reshape/transpose interleaves them back
 * (sub-pixel convolution), so no multiply is spent on inserted zeros. Stride
 * 1 is the same formula with one phase. Returns null for NCHW and for
 * paddings of K or more, which go to tfjs's kernel.
 */
function conv2dBackpropInput(s: KernelScope, dy: Info, filter: Info, attrs: Attrs): Info | null {
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') return null;
  const inputShape = attrs.inputShape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    attrs.strides as [number, number],
    1,
    attrs.pad as 'same',
    attrs.dimRoundingMode as 'round' | undefined,
  );
  const {
    batchSize,
    inHeight,
    inWidth,
    inChannels: ci,
    outChannels: co,
    outHeight: oh,
    outWidth: ow,
    filterHeight: kh,
    filterWidth: kw,
    strideHeight: sh,
    strideWidth: sw,
  } = info;
  const { top, left } = info.padInfo;
  if (sh === 1 && sw === 1 && co >= batchSize * oh * ow) return backpropInputByMatMul(s, dy, filter, info);
  const jh = Math.ceil(kh / sh);
  const jw = Math.ceil(kw / sw);
  // The conv computes phase rows q0..qEnd-1 only: q0 = the first that reaches ih >= 0.
  const q0h = Math.floor(top / sh);
  const q0w = Math.floor(left / sw);
  const zh = Math.ceil((inHeight + top) / sh) - q0h;
  const zw = Math.ceil((inWidth + left) / sw) - q0w;
  const pads = [jh - 1 - q0h, zh - oh + q0h, jw - 1 - q0w, zw - ow + q0w];
  if (pads.some((v) => v < 0)) return null;

  const f = s.alloc([jh, jw, co, sh * sw * ci]);
  s.simd.subPixelFilter(s.offset(filter), s.offset(f), kh, kw, sh, sw, ci, co);
  const z = s.run(
    'Conv2D',
    { x: dy, filter: f },
    {
      strides: [1, 1],
      dilations: [1, 1],
      dataFormat: 'NHWC',
      pad: [
        [0, 0],
        [pads[0], pads[1]],
        [pads[2], pads[3]],
        [0, 0],
      ],
    },
  ); // [B, zh, zw, sh*sw*ci]
  s.free(f);

  let full = z; // [B, zh*sh, zw*sw, ci]
  if (sh * sw > 1) {
    const zRows = s.reshape(z, [batchSize * zh, zw, sh, sw * ci]);
    const interleaved = s.run('Transpose', { x: zRows }, { perm: [0, 2, 1, 3] });
    full = s.reshape(interleaved, [batchSize, zh * sh, zw * sw, ci]);
  }
  const offH = top - q0h * sh;
  const offW = left - q0w * sw;
  if (offH === 0 && offW === 0 && zh * sh === inHeight && zw * sw === inWidth) return full;
  return s.run('Slice', { x: full }, { begin: [0, offH, offW, 0], size: [batchSize, inHeight, inWidth, ci] });
}

/**
 * dx of a stride-1 conv whose weights outnumber its output pixels (VGG16's
 * last blocks, fc6, fc7): cols^T [taps*ci, P] = W [taps*ci, co] x dy^T
 * [co, P], then col2im. W is the matmul's streamed operand, used in place;
 * XNNPACK packs only dy^T. The conv route would flip, transpose and pack all
 * of W every step (three copies: 1.2 GB transient for the paper's fc6, and
 * ~20 ms for each 3x3x512x512 layer).
 */
function backpropInputByMatMul(s: KernelScope, dy: Info, filter: Info, info: tf.backend_util.Conv2DInfo): Info {
  const {
    batchSize,
    inHeight,
    inWidth,
    inChannels: ci,
    outChannels: co,
    outHeight: oh,
    outWidth: ow,
    filterHeight: kh,
    filterWidth: kw,
  } = info;
  const pixels = batchSize * oh * ow;
  const dyT = s.run('Transpose', { x: s.reshape(dy, [pixels, co]) }, { perm: [1, 0] });
  const colsT = s.run(
    'BatchMatMul',
    { a: s.reshape(filter, [1, kh * kw * ci, co]), b: s.reshape(dyT, [1, co, pixels]) },
    { transposeA: false, transposeB: false },
  );
  s.free(dyT);
  const dxT = s.alloc([ci, batchSize, inHeight, inWidth]);
  s.simd.col2imRows(
    s.offset(dxT),
    s.offset(colsT),
    kh,
    kw,
    ci,
    batchSize,
    inHeight,
    inWidth,
    oh,
    ow,
    info.padInfo.top,
    info.padInfo.left,
  );
  s.free(colsT);
  return s.run('Transpose', { x: dxT }, { perm: [1, 2, 3, 0] });
}

/**
 * Weights below which a conv stays with tfjs's Conv2D: packing them costs little, and XNNPACK's packed copy is cached.
 */
const MIN_STREAMED_WEIGHTS = 1 << 20;

/**
 * Whether a stride-1, undilated conv runs its training forward (and input
 * gradient) as matmuls that stream the weights, so XNNPACK keeps no packed
 * copy of them: weights that outnumber the output pixels, and many of them.
 * The memory plan asks the same question.
 */
export function streamsWeights(pixels: number, kernelTaps: number, ci: number, co: number): boolean {
  return co >= pixels && kernelTaps * ci * co >= MIN_STREAMED_WEIGHTS;
}

/**
 * The training forward of a stride-1 conv whose weights outnumber its
 * output pixels (fc6, fc7, VGG16's last block): y^T [co, P] = W^T [co,
 * taps*ci] x patches^T [taps*ci, P]. Its weights change every step, and
 * tfjs's Conv2D would transpose them and XNNPACK pack them on every call
 * (1.2-1.8 s a step for the paper's 7x7x512x4096 fc6); here one tiled
 * transpose of W is the only pass over it, and XNNPACK packs the small
 * patches. Inference
 * runs FusedConv2D, which keeps its packed weights; this is Conv2D only.
 * Returns null for other convs.
 */
function conv2dByMatMul(s: KernelScope, x: Info, filter: Info, attrs: Attrs): Info | null {
  if ((attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') || x.dtype !== 'float32') return null;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    attrs.strides as [number, number],
    pair(attrs.dilations, 1),
    attrs.pad as 'same',
    attrs.dimRoundingMode as 'round' | undefined,
  );
  const {
    batchSize,
    inHeight,
    inWidth,
    inChannels: ci,
    outChannels: co,
    outHeight: oh,
    outWidth: ow,
    filterHeight: kh,
    filterWidth: kw,
    strideHeight: sh,
    strideWidth: sw,
    dilationHeight: dh,
    dilationWidth: dw,
  } = info;
  const pixels = batchSize * oh * ow;
  const taps = kh * kw;
  if (sh !== 1 || sw !== 1 || dh !== 1 || dw !== 1 || !streamsWeights(pixels, taps, ci, co)) return null;
  const { top, left } = info.padInfo;
  const hp = Math.max(inHeight + top, oh + kh - 1);
  const wp = Math.max(inWidth + left, ow + kw - 1);
  const xp =
    hp === inHeight && wp === inWidth
      ? x
      : s.run(
          'PadV2',
          { x },
          {
            paddings: [
              [0, 0],
              [top, hp - inHeight - top],
              [left, wp - inWidth - left],
              [0, 0],
            ],
            constantValue: 0,
          },
        );
  const xT = s.run('Transpose', { x: xp }, { perm: [3, 0, 1, 2] }); // [ci, B, hp, wp]
  if (xp !== x) s.free(xp);
  const patchesT = s.alloc([1, taps * ci, pixels]);
  s.simd.gatherPatches(
    s.offset(patchesT),
    s.offset(xT),
    0,
    batchSize * oh,
    pixels,
    kh,
    kw,
    ci,
    batchSize,
    oh,
    ow,
    hp,
    wp,
    1,
    1,
    1,
    1,
  );
  s.free(xT);
  // tfjs's Transpose takes ~6 ns an element here (strided writes); the tiled SIMD one a fraction.
  const wT = s.alloc([1, co, taps * ci]);
  s.simd.transpose2d(s.offset(filter), s.offset(wT), taps * ci, co);
  const yT = s.run('BatchMatMul', { a: wT, b: patchesT }, { transposeA: false, transposeB: false });
  s.free(wT);
  s.free(patchesT);
  const y = s.run('Transpose', { x: s.reshape(yT, [co, pixels]) }, { perm: [1, 0] });
  return s.reshape(y, [batchSize, oh, ow, co]);
}

/** Per-matrix multiply-adds above which one XNNPACK call per batch entry beats tfjs's scalar batched loop. */
const MIN_MACS_PER_BATCH_ENTRY = 1 << 18;

/**
 * a x b with transposes and batches. tfjs's wasm kernel only reaches
 * XNNPACK for one un-transposed pair and otherwise runs a scalar loop
 * (~10x slower, and every matMul gradient transposes one side). Here the
 * transposes are done by the Transpose kernel and batch entries go to
 * XNNPACK one by one through views. Returns null where tfjs's kernel is as
 * good: no transpose and one batch entry, or small matrices.
 */
function batchMatMul(s: KernelScope, a: Info, b: Info, attrs: Attrs): Info | null {
  const transposeA = attrs.transposeA === true;
  const transposeB = attrs.transposeB === true;
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2));
  const batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
  const batch = Math.max(batchA, batchB);
  if (batchA !== batchB && Math.min(batchA, batchB) !== 1) return null; // multi-axis broadcast: tfjs's kernel
  if (batch === 1 && !transposeA && !transposeB) return null;
  if (batch > 1 && m * n * k < MIN_MACS_PER_BATCH_ENTRY) return null;
  const outShape = [...tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2)), m, n];

  const asRows = (t: Info, entries: number, transpose: boolean, rows: number, cols: number) => {
    const t3 = s.reshape(t, transpose ? [entries, cols, rows] : [entries, rows, cols]);
    return transpose ? s.run('Transpose', { x: t3 }, { perm: [0, 2, 1] }) : t3;
  };
  const a3 = asRows(a, batchA, transposeA, m, k); // [batchA, m, k]
  const b3 = asRows(b, batchB, transposeB, k, n); // [batchB, k, n]
  const plain = { transposeA: false, transposeB: false };
  if (batch === 1) return s.reshape(s.run('BatchMatMul', { a: a3, b: b3 }, plain), outShape);

  const out = s.alloc([batch, m, n]);
  for (let i = 0; i < batch; i++) {
    const ai = s.view(a3, batchA === 1 ? 0 : i * m * k, [1, m, k]);
    const bi = s.view(b3, batchB === 1 ? 0 : i * k * n, [1, k, n]);
    const yi = s.run('BatchMatMul', { a: ai, b: bi }, plain);
    s.heap(out).set(s.heap(yi), i * m * n);
    s.free(yi);
    s.free(ai);
    s.free(bi);
  }
  return s.reshape(out, outShape);
}

/**
 * tfjs's wasm Reverse computes every element's source index (~80 ns per
 * element, 0.4 s for a 3x3x512x1024 filter flip); the elements after the
 * last reversed axis are one contiguous run, copied whole.
 */
function reverse(s: KernelScope, x: Info, attrs: Attrs): Info | null {
  if (x.dtype === 'string' || x.shape.length === 0) return null;
  const axes = tf.util.parseAxisParam(attrs.dims as number | number[], x.shape);
  if (axes.length === 0) return null;
  const last = Math.max(...axes);
  const outer = x.shape.slice(0, last + 1);
  const run = tf.util.sizeFromShape(x.shape.slice(last + 1));
  const strides = tf.util.computeStrides(outer);
  const flipped = outer.map((_, d) => axes.includes(d));
  const out = s.alloc(x.shape, x.dtype);
  const dst = s.backend.typedArrayFromHeap(out);
  const src = s.backend.typedArrayFromHeap(x);
  const count = tf.util.sizeFromShape(outer);
  for (let o = 0; o < count; o++) {
    let from = 0;
    let rest = o;
    for (let d = 0; d < outer.length; d++) {
      const stride = d === outer.length - 1 ? 1 : strides[d];
      const i = Math.floor(rest / stride);
      rest -= i * stride;
      from += (flipped[d] ? outer[d] - 1 - i : i) * stride;
    }
    if (run === 1) dst[o] = src[from];
    else dst.set(src.subarray(from * run, (from + 1) * run), o * run);
  }
  return out;
}

/**
 * dx of a 2D max pool: each window's first maximum in row-major order (over
 * the positions inside the input) takes that window's dy, summed where
 * windows overlap, as on tfjs's cpu backend. tfjs's wasm MaxPoolGrad takes
 * ~16 ns per input element (113 ms a step at 96x288) and hands ties to
 * another position than cpu does; this is one scan. Dilated pools return
 * null (tfjs's kernel).
 */
function maxPoolGrad(s: KernelScope, dy: Info, input: Info, attrs: Attrs): Info | null {
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    attrs.filterSize as [number, number],
    attrs.strides as [number, number],
    1,
    attrs.pad as 'valid',
    attrs.dimRoundingMode as 'round' | undefined,
  );
  const {
    batchSize: b,
    inHeight: h,
    inWidth: w,
    inChannels: c,
    outHeight: oh,
    outWidth: ow,
    filterHeight: kh,
    filterWidth: kw,
    strideHeight: sh,
    strideWidth: sw,
    dilationHeight,
    dilationWidth,
    padInfo,
  } = info;
  if (input.dtype !== 'float32' || dilationHeight !== 1 || dilationWidth !== 1) return null;
  const dx = s.alloc(input.shape);
  const out = s.heap(dx);
  const x = s.heap(input);
  const g = s.heap(dy);
  out.fill(0);
  for (let n = 0; n < b; n++) {
    for (let oy = 0; oy < oh; oy++) {
      const y0 = Math.max(0, oy * sh - padInfo.top);
      const y1 = Math.min(h, oy * sh - padInfo.top + kh);
      for (let ox = 0; ox < ow; ox++) {
        const x0 = Math.max(0, ox * sw - padInfo.left);
        const x1 = Math.min(w, ox * sw - padInfo.left + kw);
        if (y0 >= y1 || x0 >= x1) continue;
        const corner = ((n * h + y0) * w + x0) * c;
        const o = ((n * oh + oy) * ow + ox) * c;
        for (let ch = 0; ch < c; ch++) {
          let best = corner + ch;
          let max = x[best];
          for (let i = y0; i < y1; i++) {
            for (let j = x0; j < x1; j++) {
              const at = ((n * h + i) * w + j) * c + ch;
              if (x[at] > max) {
                max = x[at];
                best = at;
              }
            }
          }
          out[best] += g[o + ch];
        }
      }
    }
  }
  return dx;
}

/**
 * tfjs's engine clones every tensor it saves for the backward pass, and
 * wasm's Identity copies the data (125 copies of activations and weights a
 * VGG16 step, ~55 ms and as many bytes again). Tensors are immutable, so
 * the clone shares the data as the cpu backend's Identity does.
 */
function identity(s: KernelScope, x: Info): Info | null {
  if (x.dtype === 'string') return null;
  s.backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/** The wasm kernels the ones above are built from, captured before any is replaced. */
const CAPTURED = ['Conv2D', 'BatchMatMul', 'Transpose', 'Slice', 'PadV2', 'Reshape', 'Add'];

type FastKernel = (s: KernelScope, inputs: tf.NamedTensorInfoMap, attrs: Attrs) => Info | null;

const FAST_KERNELS: Record<string, FastKernel> = {
  Conv2D: (s, { x, filter }, attrs) => conv2dByMatMul(s, x!, filter!, attrs),
  Conv2DBackpropFilter: (s, { x, dy }, attrs) => conv2dBackpropFilter(s, x!, dy!, attrs),
  Conv2DBackpropInput: (s, { dy, filter }, attrs) => conv2dBackpropInput(s, dy!, filter!, attrs),
  BatchMatMul: (s, { a, b }, attrs) => batchMatMul(s, a!, b!, attrs),
  Reverse: (s, { x }, attrs) => reverse(s, x!, attrs),
  MaxPoolGrad: (s, { dy, input }, attrs) => maxPoolGrad(s, dy!, input!, attrs),
  Identity: (s, { x }) => identity(s, x!),
};

let registered: Promise<void> | null = null;

/**
 * Registers Conv2DBackpropFilter for 'wasm', replaces its Conv2D,
 * Conv2DBackpropInput, BatchMatMul, Reverse, MaxPoolGrad and Identity with
 * faster ones that hand the cases they do not cover to the originals, and
 * registers the fused Adam update and L2 gradient (src/backend/fused-kernels.ts). Call after
 * `await tf.setBackend('wasm')` (or at least after importing
 * '@tensorflow/tfjs-backend-wasm'); later calls return the first one's promise.
 */
export function registerWasmTrainingKernels(): Promise<void> {
  registered ??= (async () => {
    if (tf.getBackend() === 'wasm') checkWasmInternals(tf.backend() as BackendWasm);
    const kernels = new Map<string, tf.KernelFunc>();
    for (const name of CAPTURED) {
      const k = tf.getKernel(name, 'wasm');
      if (k === undefined)
        throw new BackendError(
          `wasm kernel '${name}' is not registered; import '@tensorflow/tfjs-backend-wasm' before registering training kernels`,
        );
      kernels.set(name, k.kernelFunc);
    }
    await compileSimdKernels();
    for (const [name, fast] of Object.entries(FAST_KERNELS)) {
      const original = tf.getKernel(name, 'wasm');
      if (original !== undefined) tf.unregisterKernel(name, 'wasm');
      tf.registerKernel({
        kernelName: name,
        backendName: 'wasm',
        // The original's setupFunc binds its C++ entry point, which the fallback still calls.
        setupFunc: original?.setupFunc,
        kernelFunc: ({ inputs, backend, attrs = {} }) => {
          const out = withScope(backend as BackendWasm, kernels, (s) => fast(s, inputs, attrs));
          if (out !== null) return out;
          if (original === undefined)
            throw new BackendError(`wasm ${name}: no fallback kernel for attrs ${JSON.stringify(attrs)}`);
          return original.kernelFunc({ inputs, backend, attrs });
        },
      });
    }
    registerFusedKernelsWasm();
  })();
  return registered;
}
