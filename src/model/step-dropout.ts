import * as tf from '@tensorflow/tfjs';

/**
 * Dropout whose mask is a function of (seed, step). tfjs's own dropout with a
 * seed repeats one mask every call, and without one it cannot be replayed; a
 * step-keyed mask gives fresh noise each step and lets a resumed run match an
 * uninterrupted one exactly. The training loop sets `step` before each step.
 */
export class StepDropout extends tf.layers.Layer {
  static className = 'FcnStepDropout';
  readonly rate: number;
  readonly seed: number;
  step = 0;

  constructor(args: { rate: number; seed: number; name?: string }) {
    super({ name: args.name });
    this.rate = args.rate;
    this.seed = args.seed;
  }

  call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (!kwargs.training || this.rate === 0) return x;
    return tf.tidy(() => {
      // Two seeds per layer and step never collide across layers of one model (seeds differ by layer).
      const noise = tf.randomUniform(x.shape, 0, 1, 'float32', this.seed * 1_000_003 + this.step);
      const keep = tf.cast(tf.greaterEqual(noise, this.rate), 'float32');
      return tf.mul(x, tf.mul(keep, 1 / (1 - this.rate)));
    });
  }

  getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate, seed: this.seed };
  }
}
tf.serialization.registerClass(StepDropout);

/** Sets the dropout step of every StepDropout layer in `model`. */
export function setDropoutStep(model: tf.LayersModel, step: number): void {
  for (const layer of model.layers) {
    if (layer instanceof StepDropout) layer.step = step;
  }
}
