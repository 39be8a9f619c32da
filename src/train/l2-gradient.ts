import * as tf from '@tensorflow/tfjs';
import { FUSED_L2_GRADIENT } from '../backend/fused-kernels';

/**
 * The L2 penalty sum_i l2_i * sum(w_i^2) and its gradient 2 * l2_i * w_i,
 * written down instead of taped. Differentiating tfjs-layers' regulariser
 * losses costs ~170 ms a step for VGG16's 20M conv weights on wasm (the
 * backward of sum(mul(l2, square(w))) broadcasts, fills ones, casts and
 * multiplies, each a pass over every kernel); the closed form is one
 * multiply-add per kernel and a sum of squares, ~40 ms.
 */

const l2ByModel = new WeakMap<tf.LayersModel, number[] | null>();

/**
 * The L2 factor of each trainable variable (trainableVariables order), or
 * null when a layer regularises in a way this does not reproduce (L1,
 * activity or bias regularisers, a regulariser of another class): then the
 * tape differentiates model.calculateLosses() as usual.
 */
export function l2Factors(model: tf.LayersModel): number[] | null {
  if (l2ByModel.has(model)) return l2ByModel.get(model)!;
  const byVariable = new Map<unknown, number>();
  let ok = true;
  for (const layer of model.layers) {
    const cfg = layer.getConfig() as Record<string, unknown>;
    if (cfg.activityRegularizer != null || cfg.biasRegularizer != null) ok = false;
    const kernelReg = cfg.kernelRegularizer as
      { className: string; config: { l1?: number; l2?: number } } | null | undefined;
    let factor = 0;
    if (kernelReg != null) {
      if (kernelReg.className !== 'L1L2' || (kernelReg.config.l1 ?? 0) !== 0) ok = false;
      factor = kernelReg.config.l2 ?? 0;
    }
    // originalName: `name` has a suffix when another model made the same layer names first (kernel_1).
    for (const w of layer.trainableWeights) byVariable.set(w, w.originalName.endsWith('/kernel') ? factor : 0);
  }
  const factors = ok ? model.trainableWeights.map((w) => byVariable.get(w) ?? NaN) : null;
  const result = factors && factors.every(Number.isFinite) ? factors : null;
  l2ByModel.set(model, result);
  return result;
}

/**
 * Adds 2 * l2[i] * w_i to each variable's gradient in `grads` (keyed by
 * variable name; replaced entries are disposed) and returns the penalty
 * sum_i l2[i] * sum(w_i^2) as a scalar the caller disposes. One variable at
 * a time, so the temporaries never exceed one variable's; on wasm one fused
 * kernel per variable that updates the gradient in place
 * (src/backend/fused-kernels.ts).
 */
export function addL2Gradients(
  grads: tf.NamedTensorMap,
  vars: readonly tf.Variable[],
  l2: readonly number[],
): tf.Scalar {
  const fused = tf.getKernel(FUSED_L2_GRADIENT, tf.getBackend()) !== undefined;
  let penalty: tf.Scalar = tf.scalar(0);
  vars.forEach((w, i) => {
    if (l2[i] === 0) return;
    const old = grads[w.name];
    const [grad, next] = tf.tidy((): [tf.Tensor, tf.Scalar] => {
      const k = 2 * l2[i];
      if (fused && old) {
        const [g, sumSquares] = tf
          .engine()
          .runKernel<tf.Tensor[]>(FUSED_L2_GRADIENT, { gradient: old, value: w }, { factor: k });
        return [g, tf.add(penalty, tf.mul(sumSquares, l2[i]))];
      }
      const term = tf.mul(w, k);
      // Pairwise adds: one addN over all kernels needs more storage buffers than WebGPU allows per program (8).
      return [old ? tf.add(old, term) : term, tf.add(penalty, tf.mul(tf.sum(tf.square(w)), l2[i]))];
    });
    old?.dispose();
    penalty.dispose();
    grads[w.name] = grad;
    penalty = next;
  });
  return penalty;
}
