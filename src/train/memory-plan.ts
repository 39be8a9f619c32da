import { FCN_STRIDE, VGG16_BLOCKS, resolveFc6, scaledWidth, type Fcn8Config } from '../model/config';
import { fcn8ConvLayers } from '../model/conv-layers';
import { MemoryPlanError } from '../util/errors';
import { streamsWeights } from '../backend/wasm-kernels';
import type { SelectedBackend } from '../backend';
import type { TrainConfig } from '../run/config';

/** Bytes of one float32. */
const F32 = 4;
/** The wasm backend's heap cannot grow past 4 GiB (32-bit addresses); keep room for the runtime. */
export const WASM_HEAP_LIMIT = 4 * 1024 ** 3;
const WASM_USABLE = 0.9;

export interface MemoryPlan {
  params: number;
  /** The weights. */
  paramBytes: number;
  /** Gradients and the temporaries computed from them, at the step's peak. */
  gradBytes: number;
  /** Adam's two slots (m, v). */
  optimizerBytes: number;
  /** Activations the backward pass holds at the peak, plus the input batch. */
  activationBytes: number;
  /**
   * Memory the backend holds outside tfjs's tensors, which tf.profile does
   * not see: on wasm, XNNPACK's packed copy of every conv's weights, plus
   * tfjs's transposed copy of the largest kernel while it is packed.
   */
  backendBytes: number;
  /** Where the step peaks: in the backward pass (activations) or in Adam's update (per-parameter temporaries). */
  peakPhase: 'backward' | 'update';
  totalBytes: number;
  /** What the backend can hold, or null when it sets no known limit. */
  limitBytes: number | null;
  limitSource: string;
  config: TrainConfig;
}

/** Parameter count of buildFcn8(config), without building it. */
export function countFcn8Params(model: Fcn8Config): number {
  return fcn8ConvLayers(model, FCN_STRIDE, FCN_STRIDE).reduce(
    (n, l) => n + l.kernel * l.kernel * l.cin * l.cout + (l.bias ? l.cout : 0),
    0,
  );
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
    total += (h / scale) * (w / scale) * cin; // pool
  }
  const f = scaledWidth(resolveFc6(model.fc6).filters, wm);
  const c = model.numClasses;
  const at = (s: number) => (h / s) * (w / s);
  total += at(32) * f * 4; // fc6, drop6, fc7, drop7
  total += at(32) * c + at(16) * c * 3 + at(8) * c * 3 + at(1) * c * 4; // scores, fuses, upsamplings, softmax/loss
  return total + h * w * 3;
}

/*
 * Calibrated on wasm against tf.profile(() => trainStep(...)).peakBytes
 * (test/train/memory-plan.test.ts; widths 1/16-1/4, 32x64 to 160x288,
 * batch 1-4, both fc6 variants). A step peaks in one of two places:
 *  - the backward pass: the tape's saved inputs and the gradients in
 *    flight come to about 5.3x the forward layer outputs (5.1-5.7 measured),
 *    plus 1 float per parameter (the gradients, kept to the end); the
 *    L2 term is added after the tape, one kernel at a time
 *    (src/train/l2-gradient.ts), so it adds nothing to either peak;
 *  - Adam's update: tfjs runs it in one tidy over all variables, so the
 *    gradients and 11 temporaries per parameter (new m, v, bias corrections,
 *    sqrt, ...) are alive together: 15 floats per parameter. On wasm the
 *    trainer's Adam (src/train/adam.ts) is one fused kernel per variable
 *    that updates in place: only the gradients, 1 float per parameter.
 * Weights and Adam's m and v (3 floats per parameter) are there throughout.
 * On wasm, XNNPACK also keeps each conv's weights packed for as long as
 * they live (1 float per weight, outside tfjs's count), and packing a
 * kernel first makes a transposed copy of it; the weight-heavy convs
 * (fc6, fc7, the last blocks at small sizes) run as matmuls that stream
 * their weights and keep no copy (src/backend/wasm-kernels.ts
 * streamsWeights). The fused Adam and L2 gradient work in place. Measured
 * wasm heap high-water marks with the paper fc6 (3 steps): 2.49 GiB at
 * 96x288 batch 2, 2.90 GiB at 160x576 batch 1, 3.50 GiB at 160x576 batch 2,
 * of the 4 GiB the heap can reach; the heap runs 0.1-0.3 GiB above the plan.
 */
const BACKWARD_ACTIVATION_FACTOR = 5.3;
const BACKWARD_FLOATS_PER_PARAM = 1;
const UPDATE_FLOATS_PER_PARAM = 15;
const FUSED_UPDATE_FLOATS_PER_PARAM = 1;
const WASM_PACKED_FLOATS_PER_PARAM = 1;
/** The batch as the step holds it: float32 RGB input and int32 labels. */
const INPUT_BYTES_PER_PIXEL = 3 * F32 + 4;

/**
 * Floats of XNNPACK's packed weight copies on wasm: one per weight of each
 * conv it runs (not those our kernels stream through a matmul), plus
 * tfjs's transposed copy of the largest while it is packed.
 */
function packedWeightFloats(config: TrainConfig): number {
  const [h, w] = config.model.inputShape;
  const weights = fcn8ConvLayers(config.model, h, w)
    .filter(
      (l) =>
        l.transposed ||
        l.stride !== 1 ||
        l.dilation !== 1 ||
        !streamsWeights(config.batchSize * l.at[0] * l.at[1], l.kernel * l.kernel, l.cin, l.cout),
    )
    .map((l) => l.kernel * l.kernel * l.cin * l.cout);
  return WASM_PACKED_FLOATS_PER_PARAM * weights.reduce((a, b) => a + b, 0) + Math.max(0, ...weights);
}

/** What the backend can hold. */
function backendLimit(backend: Pick<SelectedBackend, 'choice'> & { limitBytes?: number | null }): {
  bytes: number | null;
  source: string;
} {
  if (backend.limitBytes) return { bytes: backend.limitBytes, source: `${backend.choice} reported limit` };
  if (backend.choice === 'wasm')
    return { bytes: WASM_HEAP_LIMIT * WASM_USABLE, source: 'wasm heap (4 GiB, 90% usable)' };
  return { bytes: null, source: `${backend.choice}: no fixed limit known` };
}

/** Bytes a training step of `config` holds at its peak, by part, against what `backend` can hold. */
export function planMemory(
  config: TrainConfig,
  backend: Pick<SelectedBackend, 'choice'> & { limitBytes?: number | null },
): MemoryPlan {
  const params = countFcn8Params(config.model);
  const [h, w] = config.model.inputShape;
  const inputBytes = h * w * config.batchSize * INPUT_BYTES_PER_PIXEL;
  const forwardBytes = activationFloatsPerImage(config.model, h, w) * config.batchSize * F32;
  const backward = {
    grads: params * F32 * BACKWARD_FLOATS_PER_PARAM,
    activations: forwardBytes * BACKWARD_ACTIVATION_FACTOR,
  };
  const updateGrads =
    params * F32 * (backend.choice === 'wasm' ? FUSED_UPDATE_FLOATS_PER_PARAM : UPDATE_FLOATS_PER_PARAM);
  const peakPhase = backward.grads + backward.activations >= updateGrads ? 'backward' : 'update';
  const gradBytes = peakPhase === 'backward' ? backward.grads : updateGrads;
  const activationBytes = inputBytes + (peakPhase === 'backward' ? backward.activations : 0);
  const paramBytes = params * F32;
  const optimizerBytes = 2 * params * F32;
  const backendBytes = backend.choice === 'wasm' ? packedWeightFloats(config) * F32 : 0;
  const limit = backendLimit(backend);
  return {
    params,
    paramBytes,
    gradBytes,
    optimizerBytes,
    activationBytes,
    backendBytes,
    peakPhase,
    totalBytes: paramBytes + gradBytes + optimizerBytes + activationBytes + backendBytes,
    limitBytes: limit.bytes,
    limitSource: limit.source,
    config,
  };
}

const gib = (b: number) => `${(b / 1024 ** 3).toFixed(2)} GiB`;

/** The one line printed at the start of every run. */
export function formatMemoryPlan(p: MemoryPlan): string {
  const m = p.config.model;
  const fc6 = typeof m.fc6 === 'string' ? m.fc6 : `${m.fc6.filters}x${m.fc6.kernelSize}`;
  return (
    `memory plan: ${m.inputShape[0]}x${m.inputShape[1]} batch ${p.config.batchSize} fc6 ${fc6} width ${m.widthMultiplier}: ` +
    `${(p.params / 1e6).toFixed(2)}M params; weights ${gib(p.paramBytes)} + grads ${gib(p.gradBytes)} + Adam ${gib(p.optimizerBytes)} ` +
    `+ activations ${gib(p.activationBytes)}${p.backendBytes ? ` + XNNPACK copies ${gib(p.backendBytes)}` : ''} = ${gib(p.totalBytes)} at the peak (${p.peakPhase === 'backward' ? 'backward pass' : "Adam's update"})` +
    (p.limitBytes ? ` of ${gib(p.limitBytes)} (${p.limitSource})` : ` (${p.limitSource})`)
  );
}

/** Throws MemoryPlanError with alternatives that fit when the plan exceeds the backend's limit. */
export function checkMemoryPlan(p: MemoryPlan): void {
  if (p.limitBytes === null || p.totalBytes <= p.limitBytes) return;
  const c = p.config;
  const alternatives: string[] = [];
  /** The largest batch up to the current one at which `model` fits, with its plan size. */
  const largestBatch = (model: Partial<Fcn8Config>): { batch: number; bytes: number } | null => {
    for (let b = c.batchSize; b >= 1; b--) {
      const trial = planMemory(
        { ...c, model: { ...c.model, ...model }, batchSize: b },
        { choice: 'wasm', limitBytes: p.limitBytes },
      );
      if (trial.totalBytes <= (p.limitBytes as number)) return { batch: b, bytes: trial.totalBytes };
    }
    return null;
  };
  const flags = (model: Partial<Fcn8Config>, prefix: string) => {
    const fit = largestBatch(model);
    if (!fit) return;
    const batch = fit.batch === c.batchSize ? '' : `${prefix ? ' ' : ''}--batch-size ${fit.batch}`;
    alternatives.push(`${prefix}${batch} (${gib(fit.bytes)})`);
  };
  flags({}, '');
  if (c.model.fc6 !== 'lite') flags({ fc6: 'lite' }, '--fc6 lite');
  const [h, w] = c.model.inputShape;
  if (h > 96 || w > 288) flags({ inputShape: [96, 288] }, '--input 96x288');
  if (!alternatives.length && c.model.fc6 !== 'lite' && (h > 96 || w > 288))
    flags({ fc6: 'lite', inputShape: [96, 288] }, '--fc6 lite --input 96x288');
  throw new MemoryPlanError(
    `this training needs about ${gib(p.totalBytes)} but ${p.limitSource} holds ${gib(p.limitBytes)}. ` +
      `Alternatives that fit: ${alternatives.length ? alternatives.join('; ') : 'none found; use a GPU backend'}. ` +
      `The cpu preset (--preset cpu) is sized for this machine.`,
  );
}
