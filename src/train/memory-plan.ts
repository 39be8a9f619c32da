import { VGG16_BLOCKS, resolveFc6, scaledWidth, type Fcn8Config } from '../model/config';
import { MemoryPlanError } from '../util/errors';
import type { SelectedBackend } from '../backend';
import type { TrainConfig } from './config';

/** Bytes of one float32. */
const F32 = 4;
/** The wasm backend's heap cannot grow past 4 GiB (32-bit addresses); keep room for the runtime. */
export const WASM_HEAP_LIMIT = 4 * 1024 ** 3;
const WASM_USABLE = 0.9;

export interface MemoryPlan {
  params: number;
  /** Weights, their gradients and Adam's two slots. */
  paramBytes: number;
  gradBytes: number;
  optimizerBytes: number;
  /** Activations a training step keeps for the backward pass, at the peak. */
  activationBytes: number;
  totalBytes: number;
  /** What the backend can hold, or null when it sets no known limit. */
  limitBytes: number | null;
  limitSource: string;
  config: TrainConfig;
}

/** Parameter count of buildFcn8(config), without building it. */
export function countFcn8Params(model: Fcn8Config): number {
  const wm = model.widthMultiplier;
  const conv = (k: number, cin: number, cout: number, bias = true) => k * k * cin * cout + (bias ? cout : 0);
  let n = 0;
  let cin = 3;
  const poolChannels: number[] = [];
  for (const block of VGG16_BLOCKS) {
    for (const [, filters] of block) {
      const cout = scaledWidth(filters, wm);
      n += conv(3, cin, cout);
      cin = cout;
    }
    poolChannels.push(cin);
  }
  const fc6 = resolveFc6(model.fc6);
  const f = scaledWidth(fc6.filters, wm);
  const c = model.numClasses;
  n += conv(fc6.kernelSize, cin, f) + conv(1, f, f);
  n += conv(1, f, c) + conv(1, poolChannels[3], c) + conv(1, poolChannels[2], c);  // score_fr, score_pool4, score_pool3
  n += conv(4, c, c, false) * 2 + conv(16, c, c, false);                          // upscore2, upscore_pool4, upscore8
  return n;
}

/** Floats of every layer output for one image at [h, w]. */
export function activationFloatsPerImage(model: Fcn8Config, h: number, w: number): number {
  const wm = model.widthMultiplier;
  let total = 0;
  let scale = 1;
  let cin = 0;
  for (const block of VGG16_BLOCKS) {
    for (const [, filters] of block) {
      cin = scaledWidth(filters, wm);
      total += (h / scale) * (w / scale) * cin;
    }
    scale *= 2;
    total += (h / scale) * (w / scale) * cin;   // pool
  }
  const f = scaledWidth(resolveFc6(model.fc6).filters, wm);
  const c = model.numClasses;
  const at = (s: number) => (h / s) * (w / s);
  total += at(32) * f * 4;                     // fc6, drop6, fc7, drop7
  total += at(32) * c + at(16) * c * 3 + at(8) * c * 3 + at(1) * c * 4;  // scores, fuses, upsamplings, softmax/loss
  return total + h * w * 3;
}

/**
 * Measured on wasm with tf.profile: a step's peak holds about this many
 * times the forward activations (kept inputs of every op, plus the largest
 * gradients in flight).
 */
const ACTIVATION_FACTOR = 2.5;

/** What the backend can hold. */
function backendLimit(backend: Pick<SelectedBackend, 'choice'> & { limitBytes?: number | null }): { bytes: number | null; source: string } {
  if (backend.limitBytes) return { bytes: backend.limitBytes, source: `${backend.choice} reported limit` };
  if (backend.choice === 'wasm') return { bytes: WASM_HEAP_LIMIT * WASM_USABLE, source: 'wasm heap (4 GiB, 90% usable)' };
  return { bytes: null, source: `${backend.choice}: no fixed limit known` };
}

export function planMemory(config: TrainConfig, backend: Pick<SelectedBackend, 'choice'> & { limitBytes?: number | null }): MemoryPlan {
  const params = countFcn8Params(config.model);
  const [h, w] = config.model.inputShape;
  const activationBytes = activationFloatsPerImage(config.model, h, w) * config.batchSize * F32 * ACTIVATION_FACTOR;
  const paramBytes = params * F32;
  const gradBytes = params * F32;
  const optimizerBytes = 2 * params * F32;
  const limit = backendLimit(backend);
  return {
    params, paramBytes, gradBytes, optimizerBytes, activationBytes,
    totalBytes: paramBytes + gradBytes + optimizerBytes + activationBytes,
    limitBytes: limit.bytes, limitSource: limit.source, config,
  };
}

const gib = (b: number) => `${(b / 1024 ** 3).toFixed(2)} GiB`;

/** The one line printed at the start of every run. */
export function formatMemoryPlan(p: MemoryPlan): string {
  const m = p.config.model;
  const fc6 = typeof m.fc6 === 'string' ? m.fc6 : `${m.fc6.filters}x${m.fc6.kernelSize}`;
  return `memory plan: ${m.inputShape[0]}x${m.inputShape[1]} batch ${p.config.batchSize} fc6 ${fc6} width ${m.widthMultiplier}: ` +
    `${(p.params / 1e6).toFixed(2)}M params; weights ${gib(p.paramBytes)} + grads ${gib(p.gradBytes)} + Adam ${gib(p.optimizerBytes)} ` +
    `+ activations ${gib(p.activationBytes)} = ${gib(p.totalBytes)}` +
    (p.limitBytes ? ` of ${gib(p.limitBytes)} (${p.limitSource})` : ` (${p.limitSource})`);
}

/** Throws MemoryPlanError with alternatives that fit when the plan exceeds the backend's limit. */
export function checkMemoryPlan(p: MemoryPlan): void {
  if (p.limitBytes === null || p.totalBytes <= p.limitBytes) return;
  const c = p.config;
  const alternatives: string[] = [];
  const fits = (model: Partial<Fcn8Config>, batchSize: number) => {
    const trial = planMemory({ ...c, model: { ...c.model, ...model }, batchSize }, { choice: 'wasm', limitBytes: p.limitBytes });
    return trial.totalBytes <= (p.limitBytes as number) ? trial.totalBytes : null;
  };
  for (let b = c.batchSize - 1; b >= 1; b--) {
    const t = fits({}, b);
    if (t) { alternatives.push(`--batch-size ${b} (${gib(t)})`); break; }
  }
  if (c.model.fc6 !== 'lite') {
    const t = fits({ fc6: 'lite' }, c.batchSize);
    if (t) alternatives.push(`the lite fc6, --fc6 lite (${gib(t)})`);
  }
  const [h, w] = c.model.inputShape;
  if (h > 96 || w > 288) {
    const t = fits({ inputShape: [96, 288] }, c.batchSize);
    if (t) alternatives.push(`--input 96x288 (${gib(t)})`);
  }
  const t = fits({ fc6: 'lite', inputShape: [96, 288] }, 2);
  if (t && !alternatives.length) alternatives.push(`--fc6 lite --input 96x288 --batch-size 2 (${gib(t)})`);
  throw new MemoryPlanError(
    `this training needs about ${gib(p.totalBytes)} but ${p.limitSource} holds ${gib(p.limitBytes)}. ` +
    `Alternatives that fit: ${alternatives.length ? alternatives.join('; ') : 'none found; use a GPU backend'}. ` +
    `The cpu preset (--preset cpu) is sized for this machine.`);
}
