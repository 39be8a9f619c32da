import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { strict as assert } from 'node:assert';

import { simdKernels } from '../../src/backend/simd-module';
import { registerWasmTrainingKernels } from '../../src/backend/wasm-kernels';
import { buildFcn8 } from '../../src/model/fcn8';
import { relNormError, useBackend } from '../helpers';
import { seededNormal } from './tiny-fcn';

type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
type Shape4 = [number, number, number, number];

interface ConvCase {
  /** conv2d: x [B, H, W, Cin]; conv2dTranspose: its (small) input [B, h, w, Cin]. */
  x: Shape4;
  kernel: number;
  filters: number;
  stride: number;
  pad: Pad;
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const title = (c: ConvCase) =>
  `x ${c.x.join('x')}, k${c.kernel}, ${c.filters} filters, stride ${c.stride}, pad ${JSON.stringify(c.pad)}`;

/** max |a - b| / max |b|: the error relative to the gradient's scale, so entries near zero do not dominate. */
function scaledMaxError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  assert.ok(scale > 0, 'reference is all zeros; the case tests nothing');
  return diff / scale;
}

/**
 * Forward output and gradients of sum(op(x, w) * r) for a fixed random r, on
 * the active backend, as plain arrays: the same numbers go to every backend.
 */
async function convGradients(c: ConvCase, transposed: boolean) {
  const [b, h, w, cin] = c.x;
  const k = c.kernel;
  // A transposed conv's filter is [k, k, out, in].
  const wShape: Shape4 = transposed ? [k, k, c.filters, cin] : [k, k, cin, c.filters];
  // The transposed conv's output: the conv input that maps back onto x.
  const grow = (n: number) => (c.pad === 'valid' ? (n - 1) * c.stride + k : n * c.stride);
  const outShape: Shape4 = [b, grow(h), grow(w), c.filters];
  const x = tf.tensor4d(seededNormal(1, size(c.x), 1), c.x);
  const filter = tf.tensor4d(seededNormal(2, size(wShape), 0.3), wShape);
  const op = (xi: tf.Tensor, wi: tf.Tensor) =>
    transposed
      ? tf.conv2dTranspose(xi as tf.Tensor4D, wi as tf.Tensor4D, outShape, c.stride, c.pad)
      : tf.conv2d(xi as tf.Tensor4D, wi as tf.Tensor4D, c.stride, c.pad);
  const y = op(x, filter);
  const r = tf.tensor(seededNormal(3, y.size, 1), y.shape);
  const [dx, dw] = tf.grads((xi: tf.Tensor, wi: tf.Tensor) => tf.sum(tf.mul(op(xi, wi), r)))([x, filter]);
  const out = { y: await y.data(), dx: await dx.data(), dw: await dw.data() };
  tf.dispose([x, filter, y, r, dx, dw]);
  return out;
}

/** conv2d cases: strides 1/2/8, kernels 1/3/4/7/16, odd sizes, every padding form. */
const CONV_CASES: ConvCase[] = [
  { x: [1, 9, 11, 3], kernel: 3, filters: 5, stride: 1, pad: 'same' },
  { x: [2, 7, 13, 4], kernel: 3, filters: 6, stride: 1, pad: 'valid' },
  { x: [3, 5, 7, 2], kernel: 1, filters: 3, stride: 1, pad: 'same' },
  { x: [2, 11, 9, 3], kernel: 7, filters: 4, stride: 1, pad: 'same' },
  { x: [1, 12, 10, 3], kernel: 4, filters: 2, stride: 1, pad: 'same' },
  { x: [2, 9, 11, 3], kernel: 3, filters: 4, stride: 2, pad: 'same' },
  { x: [1, 13, 9, 2], kernel: 3, filters: 3, stride: 2, pad: 'valid' },
  { x: [2, 10, 12, 3], kernel: 4, filters: 2, stride: 2, pad: 'same' },
  { x: [1, 9, 9, 2], kernel: 1, filters: 3, stride: 2, pad: 'valid' },
  { x: [1, 33, 41, 2], kernel: 16, filters: 3, stride: 8, pad: 'same' },
  { x: [2, 7, 9, 3], kernel: 3, filters: 4, stride: 1, pad: 1 },
  {
    x: [1, 8, 9, 2],
    kernel: 3,
    filters: 3,
    stride: 2,
    pad: [
      [0, 0],
      [1, 2],
      [0, 1],
      [0, 0],
    ],
  },
  // More output pixels (2*45*61) than one filter-grad chunk, so partial products are summed.
  { x: [2, 45, 61, 2], kernel: 3, filters: 3, stride: 1, pad: 'same' },
  // A pad of K or more: the input grad goes to tfjs's own kernel.
  { x: [1, 6, 7, 2], kernel: 3, filters: 2, stride: 1, pad: 4 },
  // At least as many filters as output pixels: the input grad is a matmul and col2im (VGG16's last blocks, fc6, fc7).
  { x: [1, 3, 5, 6], kernel: 3, filters: 16, stride: 1, pad: 'same' },
  { x: [2, 2, 3, 5], kernel: 7, filters: 13, stride: 1, pad: 'same' },
  { x: [2, 4, 5, 3], kernel: 3, filters: 20, stride: 1, pad: 'valid' },
  { x: [3, 2, 2, 7], kernel: 1, filters: 12, stride: 1, pad: 'same' },
  { x: [1, 3, 4, 3], kernel: 3, filters: 12, stride: 1, pad: 1 },
  // Over 2^20 weights as well: the forward is a matmul with the weights streamed, not packed (fc6).
  { x: [1, 2, 3, 64], kernel: 3, filters: 2048, stride: 1, pad: 'same' },
  { x: [2, 3, 4, 128], kernel: 3, filters: 1024, stride: 1, pad: 'valid' },
];

/** conv2dTranspose cases: FCN-8's x2 (k4) and x8 (k16) upsampling and others. */
const TRANSPOSED_CASES: ConvCase[] = [
  { x: [2, 3, 5, 3], kernel: 4, filters: 3, stride: 2, pad: 'same' },
  { x: [1, 3, 4, 2], kernel: 16, filters: 2, stride: 8, pad: 'same' },
  { x: [3, 5, 3, 2], kernel: 3, filters: 4, stride: 1, pad: 'same' },
  { x: [1, 4, 5, 3], kernel: 3, filters: 2, stride: 2, pad: 'valid' },
  { x: [2, 3, 3, 2], kernel: 7, filters: 3, stride: 2, pad: 'same' },
  { x: [1, 5, 7, 4], kernel: 1, filters: 3, stride: 1, pad: 'valid' },
  // More input channels than pixels: the matmul route.
  { x: [1, 2, 3, 10], kernel: 3, filters: 3, stride: 1, pad: 'same' },
];

async function compareWithCpu(c: ConvCase, transposed: boolean): Promise<void> {
  await useBackend('cpu');
  const ref = await convGradients(c, transposed);
  await useBackend('wasm');
  const got = await convGradients(c, transposed);
  for (const key of ['y', 'dx', 'dw'] as const) {
    const err = scaledMaxError(got[key], ref[key]);
    assert.ok(err < 1e-5, `${key}: error ${err.toExponential(2)} vs cpu`);
  }
}

/** Runs Conv2DBackpropFilter directly: the only way to pass dilations, which tfjs's conv2d gradient refuses. */
function filterGradKernel(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: Shape4, pad: Pad, dilation: number): tf.Tensor {
  return tf.engine().runKernel<tf.Tensor>(
    'Conv2DBackpropFilter',
    { x, dy },
    {
      strides: [1, 1],
      pad,
      dataFormat: 'NHWC',
      filterShape,
      dilations: [dilation, dilation],
    },
  );
}

describe('SIMD module', function () {
  before(() => useBackend('wasm'));

  it('transposes matrices of any shape, tiles and ragged edges', async () => {
    const backend = tf.backend() as BackendWasm;
    for (const [rows, cols] of [
      [37, 21],
      [16, 5],
      [3, 40],
      [32, 48],
      [1, 1],
      [50, 67],
    ]) {
      const values = Float32Array.from({ length: rows * cols }, (_, i) => i + 0.5);
      const src = tf.tensor2d(values, [rows, cols]);
      const dst = backend.makeOutput([cols, rows], 'float32');
      simdKernels(backend).transpose2d(
        backend.getMemoryOffset(src.dataId),
        backend.getMemoryOffset(dst.dataId),
        rows,
        cols,
      );
      const got = tf.engine().makeTensorFromTensorInfo(dst);
      const expected = tf.transpose(src);
      assert.deepEqual(await got.data(), await expected.data(), `${rows}x${cols}`);
      tf.dispose([src, got, expected]);
    }
  });
});

describe('wasm training kernels', function () {
  before(() => useBackend('wasm'));
  after(() => useBackend('wasm'));

  it('registers Conv2DBackpropFilter and is idempotent', async () => {
    const first = registerWasmTrainingKernels();
    assert.strictEqual(registerWasmTrainingKernels(), first);
    await first;
    assert.ok(tf.getKernel('Conv2DBackpropFilter', 'wasm'));
    assert.ok(tf.getKernel('Conv2DBackpropInput', 'wasm'));
  });

  describe('conv2d gradients match cpu', () => {
    for (const c of CONV_CASES) it(title(c), () => compareWithCpu(c, false));
  });

  describe('conv2dTranspose output and gradients match cpu', () => {
    for (const c of TRANSPOSED_CASES) it(title(c), () => compareWithCpu(c, true));
  });

  describe('dilated filter gradient matches every d-th tap of the undilated one on cpu', () => {
    const cases: [Shape4, number, number, Pad][] = [
      [[2, 9, 11, 3], 3, 4, 'same'],
      [[1, 12, 10, 2], 3, 3, 'valid'],
      [[1, 11, 13, 2], 4, 2, 'same'],
    ];
    for (const [xShape, k, filters, pad] of cases) {
      it(`x ${xShape.join('x')}, k${k}, dilation 2, pad ${JSON.stringify(pad)}`, async () => {
        const d = 2;
        const e = (k - 1) * d + 1; // effective kernel
        const filterShape: Shape4 = [k, k, xShape[3], filters];
        const xv = seededNormal(4, size(xShape), 1);
        const outShape = tf.backend_util.computeConv2DInfo(xShape, filterShape, 1, d, pad).outShape;
        const dyv = seededNormal(5, size(outShape), 1);

        await useBackend('cpu');
        const ref = await tf
          .tidy(() => {
            const full = filterGradKernel(
              tf.tensor4d(xv, xShape),
              tf.tensor4d(dyv, outShape),
              [e, e, xShape[3], filters],
              pad,
              1,
            );
            return tf.stridedSlice(full, [0, 0, 0, 0], [e, e, xShape[3], filters], [d, d, 1, 1]);
          })
          .data();
        await useBackend('wasm');
        const got = await tf
          .tidy(() => filterGradKernel(tf.tensor4d(xv, xShape), tf.tensor4d(dyv, outShape), filterShape, pad, d))
          .data();
        const err = scaledMaxError(got, ref);
        assert.ok(err < 1e-5, `error ${err.toExponential(2)}`);
      });
    }
  });

  describe('matMul with transposes and batches matches cpu', () => {
    // [a shape, b shape, transposeA, transposeB]: 2-D, batched, broadcast, and small (tfjs's own kernel).
    // tfjs's matMul gradient does not reduce a broadcast batch, so that case checks the value only.
    const cases: [number[], number[], boolean, boolean][] = [
      [[70, 90], [90, 65], false, false],
      [[90, 70], [90, 65], true, false],
      [[70, 90], [65, 90], false, true],
      [[90, 70], [65, 90], true, true],
      [[3, 90, 70], [3, 90, 65], true, false],
      [[2, 2, 70, 90], [1, 65, 90], false, true],
      [[3, 5, 4], [3, 5, 6], true, false],
    ];
    for (const [aShape, bShape, ta, tb] of cases) {
      const withGrads = size(aShape.slice(0, -2)) === size(bShape.slice(0, -2));
      it(`${aShape.join('x')} x ${bShape.join('x')}, transposeA ${ta}, transposeB ${tb}: value${withGrads ? ' and gradients' : ''}`, async () => {
        const av = seededNormal(11, size(aShape), 1);
        const bv = seededNormal(12, size(bShape), 1);
        const run = async () => {
          const a = tf.tensor(av, aShape);
          const b = tf.tensor(bv, bShape);
          const y = tf.matMul(a, b, ta, tb);
          const r = tf.tensor(seededNormal(13, y.size, 1), y.shape);
          const grads = withGrads
            ? tf.grads((x: tf.Tensor, w: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, w, ta, tb), r)))([a, b])
            : [tf.zeros([1]), tf.zeros([1])];
          const out = { y: await y.data(), da: await grads[0].data(), db: await grads[1].data(), shape: y.shape };
          tf.dispose([a, b, y, r, ...grads]);
          return out;
        };
        await useBackend('cpu');
        const ref = await run();
        await useBackend('wasm');
        const got = await run();
        assert.deepEqual(got.shape, ref.shape);
        for (const key of withGrads ? (['y', 'da', 'db'] as const) : (['y'] as const)) {
          const err = scaledMaxError(got[key], ref[key]);
          assert.ok(err < 1e-5, `${key}: error ${err.toExponential(2)}`);
        }
      });
    }
  });

  describe('reverse matches cpu', () => {
    const cases: [number[], number[], 'float32' | 'int32'][] = [
      [[3, 3, 4, 5], [0, 1], 'float32'],
      [[4, 5, 6], [2], 'float32'],
      [[4, 5, 6], [0, 2], 'int32'],
      [[7], [0], 'float32'],
    ];
    for (const [shape, dims, dtype] of cases) {
      it(`${dtype} ${shape.join('x')} along ${dims.join(',')}`, async () => {
        const values = Array.from(seededNormal(14, size(shape), 10), (v) => (dtype === 'int32' ? Math.round(v) : v));
        await useBackend('cpu');
        const ref = await tf.tidy(() => tf.reverse(tf.tensor(values, shape, dtype), dims)).data();
        await useBackend('wasm');
        const got = await tf.tidy(() => tf.reverse(tf.tensor(values, shape, dtype), dims)).data();
        assert.deepEqual(Array.from(got), Array.from(ref));
      });
    }
  });

  describe('maxPool gradient matches cpu', () => {
    // [x shape, window, stride, pad]: tiling (VGG16's), ragged, padded and overlapping windows.
    const cases: [Shape4, number, number, 'valid' | 'same'][] = [
      [[2, 8, 12, 5], 2, 2, 'valid'],
      [[1, 7, 9, 3], 2, 2, 'valid'], // odd sizes: the last row and column get no gradient
      [[2, 9, 6, 4], 3, 3, 'same'],
      [[1, 7, 9, 3], 2, 2, 'same'],
      [[1, 9, 9, 2], 3, 2, 'valid'], // overlapping: a position can take several windows' dy
      [[2, 8, 7, 3], 3, 2, 'same'],
    ];
    for (const [shape, k, stride, pad] of cases) {
      it(`x ${shape.join('x')}, window ${k}, stride ${stride}, pad ${pad}, with ties`, async () => {
        // ReLU-like input: many exact zeros, so ties decide where the gradient goes.
        const values = Array.from(seededNormal(21, size(shape), 1), (v, i) => (i % 3 === 0 ? 0 : Math.max(v, 0)));
        const run = async () => {
          const x = tf.tensor4d(values, shape);
          const y = tf.tidy(() => tf.maxPool(x, k, stride, pad));
          const r = tf.tensor(seededNormal(22, y.size, 1), y.shape);
          const dx = tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(xi as tf.Tensor4D, k, stride, pad), r)))(x);
          const out = await dx.data();
          tf.dispose([x, y, r, dx]);
          return out;
        };
        await useBackend('cpu');
        const ref = await run();
        await useBackend('wasm');
        const got = await run();
        // The same positions take a gradient (ties included); overlapping windows' sums may round differently.
        assert.deepEqual(
          Array.from(got, (v) => v !== 0),
          Array.from(ref, (v) => v !== 0),
        );
        assert.ok(scaledMaxError(got, ref) < 1e-6, `error ${scaledMaxError(got, ref)}`);
      });
    }
  });

  it('clones share data on wasm (the tape saves tensors by cloning) and stay valid after the original is freed', async () => {
    const t = tf.tensor([1, -2, 3, 4], [2, 2]);
    const buffers = () => (tf.memory() as tf.MemoryInfo & { numDataBuffers: number }).numDataBuffers;
    const before = buffers();
    const c = tf.clone(t);
    assert.equal(buffers(), before, 'a clone allocates no new buffer');
    t.dispose();
    assert.equal(buffers(), before);
    assert.deepEqual(Array.from(await c.data()), [1, -2, 3, 4]);
    c.dispose();
    assert.equal(buffers(), before - 1, 'the buffer is freed with its last tensor');
  });

  it('relu gradient matches cpu, zeros included', async () => {
    const values = [-1, 0, 2, -0.5, 3, 0, 1e-30, -1e-30];
    const grad = async () => {
      const x = tf.tensor(values);
      const dy = tf.tensor([1, 2, 3, 4, 5, 6, 7, 8]);
      const dx = tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(tf.relu(xi), dy)))(x);
      const out = Array.from(await dx.data());
      tf.dispose([x, dy, dx]);
      return out;
    };
    await useBackend('cpu');
    const ref = await grad();
    await useBackend('wasm');
    assert.deepEqual(await grad(), ref);
    assert.deepEqual(ref, [0, 0, 3, 0, 5, 0, 7, 0]);
  });

  it('rejects NCHW with a BackendError that names the fix', () => {
    const x: tf.Tensor4D = tf.zeros([1, 2, 5, 5]);
    const dy: tf.Tensor4D = tf.zeros([1, 2, 5, 5]);
    assert.throws(
      () =>
        tf.engine().runKernel(
          'Conv2DBackpropFilter',
          { x, dy },
          {
            strides: [1, 1],
            pad: 'same',
            dataFormat: 'NCHW',
            filterShape: [3, 3, 2, 2],
          },
        ),
      /NHWC.*got "NCHW".*transpose/,
    );
    tf.dispose([x, dy]);
  });

  it('leaks no tensor and does not grow the wasm heap across repeated gradient steps', async () => {
    const backend = tf.backend() as BackendWasm;
    const x = tf.tensor4d(seededNormal(6, 2 * 16 * 24 * 8, 1), [2, 16, 24, 8]);
    const w = tf.tensor4d(seededNormal(7, 3 * 3 * 8 * 8, 0.2), [3, 3, 8, 8]);
    const up = tf.tensor4d(seededNormal(8, 4 * 4 * 8 * 8, 0.2), [4, 4, 8, 8]);
    const m = tf.tensor3d(seededNormal(15, 2 * 96 * 64, 0.2), [2, 96, 64]);
    // A conv, a x2 transposed conv, a batched matMul, a reverse and their gradients: every replaced kernel.
    const step = () =>
      tf.tidy(() => {
        const [dx, dw, dup, dm] = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, d: tf.Tensor) => {
          const y = tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same');
          const z = tf.conv2dTranspose(y, tf.reverse(c, [0, 1]) as tf.Tensor4D, [2, 16, 24, 8], 2, 'same');
          return tf.add(tf.sum(tf.square(z)), tf.sum(tf.matMul(d, d, true, false)));
        })([x, w, up, m]);
        return tf.addN([tf.sum(dx), tf.sum(dw), tf.sum(dup), tf.sum(dm)]);
      });
    const warm = step();
    await warm.data();
    warm.dispose();
    const tensors = tf.memory().numTensors;
    const bytes = tf.memory().numBytes;
    const dataIds = backend.numDataIds();
    const heap = backend.wasm.HEAPU8.length;
    for (let i = 0; i < 5; i++) {
      const s = step();
      await s.data();
      s.dispose();
    }
    assert.equal(tf.memory().numTensors, tensors);
    assert.equal(tf.memory().numBytes, bytes);
    assert.equal(backend.numDataIds(), dataIds, 'wasm data buckets (kernel intermediates or views) leaked');
    assert.equal(backend.wasm.HEAPU8.length, heap, 'wasm heap grew');
    tf.dispose([x, w, up, m]);
  });

  describe('a small FCN-8 (width 1/16, 64x96, lite fc6, dropout 0)', () => {
    const config = {
      numClasses: 2,
      inputShape: [64, 96] as [number, number],
      fc6: 'lite' as const,
      dropout: 0,
      widthMultiplier: 1 / 16,
    };

    /**
     * Every weight random (the score layers start at zero, which would zero every gradient), then d sum(logits * r).
     */
    async function fcnGradients(): Promise<Map<string, Float32Array>> {
      const model = buildFcn8(config);
      model.trainableWeights.forEach((v, i) => {
        const shape = v.shape as number[];
        const std = shape.length === 4 ? Math.sqrt(2 / (shape[0] * shape[1] * shape[2])) : 0.1;
        const value = tf.tensor(seededNormal(100 + i, size(shape), std), shape);
        v.write(value);
        value.dispose();
      });
      const image = tf.tensor4d(seededNormal(9, 2 * 64 * 96 * 3, 1), [2, 64, 96, 3]);
      const r = tf.tensor4d(seededNormal(10, 2 * 64 * 96 * 2, 1), [2, 64, 96, 2]);
      const vars = model.trainableWeights.map((v) => v.read() as tf.Variable);
      const { value, grads } = tf.variableGrads(
        () => tf.sum<tf.Scalar>(tf.mul(model.apply(image) as tf.Tensor, r)),
        vars,
      );
      const out = new Map<string, Float32Array>();
      for (let i = 0; i < vars.length; i++)
        out.set(model.trainableWeights[i].originalName, (await grads[vars[i].name].data()) as Float32Array);
      tf.dispose([value, image, r, ...Object.values(grads)]);
      model.dispose();
      return out;
    }

    it('has the same gradient for every variable on wasm as on cpu (relative error < 1e-4 of its norm)', async () => {
      await useBackend('cpu');
      const ref = await fcnGradients();
      await useBackend('wasm');
      const got = await fcnGradients();
      assert.equal(got.size, ref.size);
      for (const [name, g] of ref) {
        assert.ok(
          g.some((v) => v !== 0),
          `${name}: zero gradient on cpu; the check would be empty`,
        );
        const err = relNormError(got.get(name)!, g);
        assert.ok(err < 1e-4, `${name}: relative error ${err.toExponential(2)}`);
      }
    });
  });
});
