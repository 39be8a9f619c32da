import * as tf from '@tensorflow/tfjs';
import { FUSED_ADAM, type FusedAdamAttrs } from '../backend/fused-kernels';

/** What tfjs's Optimizer.applyGradients takes (its NamedTensor[] | NamedVariableMap, not exported by name). */
type VariableGradients = Parameters<tf.AdamOptimizer['applyGradients']>[0];

/** tfjs's AdamOptimizer fields that applyGradients works on (private in its typings). */
interface AdamState {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: { originalName: string; variable: tf.Variable }[];
  accumulatedSecondMoment: { originalName: string; variable: tf.Variable }[];
}

/**
 * tfjs's Adam (same slots, names, serialisation and checkpoints) whose
 * update runs as one fused kernel per variable where the backend has one
 * (wasm: src/backend/fused-kernels.ts), with the same float32 arithmetic, and
 * one variable at a time, so the update holds no temporaries beyond one
 * variable's. On other backends it is tfjs's Adam unchanged.
 */
export class FusedAdam extends tf.AdamOptimizer {
  override applyGradients(variableGradients: VariableGradients): void {
    if (tf.getKernel(FUSED_ADAM, tf.getBackend()) === undefined) {
      super.applyGradients(variableGradients);
      return;
    }
    const state = this as unknown as AdamState;
    const list = Array.isArray(variableGradients)
      ? variableGradients
      : Object.keys(variableGradients).map((name) => ({ name, tensor: variableGradients[name] }));
    const attrs: FusedAdamAttrs = {
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: this.epsilon,
      learningRate: this.learningRate,
    };
    tf.tidy(() => {
      const correction1 = tf.sub(1, state.accBeta1);
      const correction2 = tf.sub(1, state.accBeta2);
      list.forEach(({ name, tensor: gradient }, i) => {
        const value = tf.engine().registeredVariables[name];
        // Slots as tfjs makes them: by position, named after the variable, created on first sight.
        state.accumulatedFirstMoment[i] ??= {
          originalName: `${name}/m`,
          variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
        };
        state.accumulatedSecondMoment[i] ??= {
          originalName: `${name}/v`,
          variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
        };
        if (gradient == null) return;
        const m = state.accumulatedFirstMoment[i].variable;
        const v = state.accumulatedSecondMoment[i].variable;
        tf.tidy(() => {
          const [newValue, newM, newV] = tf
            .engine()
            .runKernel<tf.Tensor[]>(
              FUSED_ADAM,
              { value, gradient, m, v, correction1, correction2 },
              attrs as unknown as tf.NamedAttrMap,
            );
          m.assign(newM);
          v.assign(newV);
          value.assign(newValue);
        });
      });
      state.accBeta1.assign(tf.mul(state.accBeta1, this.beta1));
      state.accBeta2.assign(tf.mul(state.accBeta2, this.beta2));
    });
    this.incrementIterations();
  }
}

/** Adam with tfjs's defaults (beta1 0.9, beta2 0.999, the backend's epsilon), fused where the backend allows. */
export function adamOptimizer(learningRate: number): FusedAdam {
  return new FusedAdam(learningRate, 0.9, 0.999);
}
