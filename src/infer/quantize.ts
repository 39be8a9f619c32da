import type * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../util/errors';

/**
 * tfjs-converter's weight quantization (`--quantize_float16`, `--quantize_uint8`):
 * each float32 tensor is stored as float16, or as uint8 with an affine map
 * (value = q * scale + min) per tensor. The manifest entry's `quantization`
 * field tells tf.loadLayersModel to dequantize, so the model stays float32
 * in memory: only the download and the file shrink.
 */
export type WeightQuantization = 'float16' | 'uint8';
export const WEIGHT_QUANTIZATIONS: readonly WeightQuantization[] = ['float16', 'uint8'];

export function parseWeightQuantization(v: string): WeightQuantization {
  if (!(WEIGHT_QUANTIZATIONS as readonly string[]).includes(v)) {
    throw new ConfigError(`quantization "${v}" is not one of ${WEIGHT_QUANTIZATIONS.join(', ')}`);
  }
  return v as WeightQuantization;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE half from a float32, rounded to nearest even (as numpy's astype(float16), which the converter uses). */
export function float16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // inf, nan
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow: inf
  if (e <= 0) {
    if (e < -10) return sign; // underflow: signed zero
    mant |= 0x800000; // subnormal half: shift the implicit 1 in
    const shift = 14 - e;
    const half = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (half + (rest > mid || (rest === mid && half & 1) ? 1 : 0));
  }
  const half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (and reaches inf at the top).
  return sign | (half + (rest > 0x1000 || (rest === 0x1000 && half & 1) ? 1 : 0));
}

/**
 * The converter's affine uint8 range: the zero point is nudged to an integer
 * so 0.0 stays exact (zero padding, ReLU zeros); a constant tensor gets scale 1.
 */
function affineUint8(values: Float32Array): { scale: number; min: number } {
  let lo = 0,
    hi = 0;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (hi === lo) return { scale: 1, min: lo };
  const scale = (hi - lo) / 255;
  const zero = Math.round(-lo / scale);
  return { scale, min: -zero * scale };
}

function quantizeTensor(
  values: Float32Array,
  dtype: WeightQuantization,
): { bytes: Uint8Array; quantization: NonNullable<tf.io.WeightsManifestEntry['quantization']> } {
  if (dtype === 'float16') {
    const half = new Uint16Array(values.length);
    for (let i = 0; i < values.length; i++) half[i] = float16Bits(values[i]);
    return { bytes: new Uint8Array(half.buffer), quantization: { dtype } };
  }
  const { scale, min } = affineUint8(values);
  const q = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) q[i] = Math.max(0, Math.min(255, Math.round((values[i] - min) / scale)));
  return { bytes: q, quantization: { dtype, scale, min } };
}

/**
 * Quantizes the float32 tensors of a weights buffer (in manifest order) and
 * gives the new buffer with manifest entries that carry `quantization`.
 */
export function quantizeWeights(
  specs: readonly tf.io.WeightsManifestEntry[],
  data: Uint8Array,
  dtype: WeightQuantization,
): { specs: tf.io.WeightsManifestEntry[]; data: Uint8Array } {
  const parts: Uint8Array[] = [];
  const out: tf.io.WeightsManifestEntry[] = [];
  let offset = 0;
  for (const spec of specs) {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    if (spec.quantization) {
      throw new ConfigError(`weight ${spec.name} is already quantized; export from the run folder instead`);
    }
    if (spec.dtype !== 'float32') {
      throw new ConfigError(`weight ${spec.name} is ${spec.dtype}; only float32 weights quantize`);
    }
    // Copied out so the Float32Array view is aligned whatever the buffer's offset.
    const values = new Float32Array(data.slice(offset, offset + 4 * count).buffer);
    offset += 4 * count;
    const q = quantizeTensor(values, dtype);
    parts.push(q.bytes);
    out.push({ ...spec, quantization: q.quantization });
  }
  if (offset !== data.byteLength) {
    throw new ConfigError(`the weights buffer has ${data.byteLength} bytes but its manifest describes ${offset}`);
  }
  const total = parts.reduce((n, p) => n + p.byteLength, 0);
  const buffer = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    buffer.set(p, at);
    at += p.byteLength;
  }
  return { specs: out, data: buffer };
}
