import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../util/errors';
import type { TrainConfig } from '../run/config';
import { FusedAdam } from './adam';
import { trainStep, type BatchSource } from './loop';

/**
 * The learning-rate range test (Smith, "Cyclical Learning Rates", sec. 3.3):
 * train from the current weights while the learning rate grows
 * exponentially, record the loss, and suggest the rate where the loss falls
 * fastest. The weights are put back afterwards, so it can run before `fit`.
 */

export interface LrFindOptions {
  /** The run's config: the loss's class weights. */
  config: TrainConfig;
  /** First learning rate (default 1e-7). */
  start?: number;
  /** Last learning rate (default 1). */
  end?: number;
  /** Steps from start to end (default 100); batches cycle when the source has fewer. */
  steps?: number;
  ignoreIndex?: number;
  /** Stop once the smoothed loss exceeds this multiple of its best (default 4): the rest is divergence. */
  divergeFactor?: number;
  /** Called after each step, e.g. for a progress bar. */
  onStep?: (point: LrPoint, steps: number) => void | Promise<void>;
}

export interface LrPoint {
  step: number;
  lr: number;
  /** The batch's data loss at this learning rate. */
  loss: number;
  /** Exponential moving average of the loss (bias-corrected), what the suggestion reads. */
  smoothed: number;
}

export interface LrFindResult {
  points: LrPoint[];
  /** The rate of steepest descent of the smoothed loss, or null when the loss never fell. */
  suggestion: number | null;
  /** Why the sweep ended before `end`, or null. */
  stoppedEarly: string | null;
}

/** Adam whose rate can change between steps; its slots carry over as in training. */
class SweptAdam extends FusedAdam {
  setLearningRate(lr: number): void {
    this.learningRate = lr;
  }
}

const SMOOTHING = 0.98;
/** Points skipped at each end of the curve when looking for the steepest descent: the average is still settling. */
const EDGE_POINTS = 3;

/**
 * Runs the range test on `model` with a fresh Adam. Takes the model, the
 * batches and the sweep; gives the (lr, loss) points and a suggested rate.
 * The model's weights are restored before it returns, also on an error.
 */
export async function findLearningRate(
  model: tf.LayersModel,
  batches: BatchSource,
  opts: LrFindOptions,
): Promise<LrFindResult> {
  const start = opts.start ?? 1e-7;
  const end = opts.end ?? 1;
  const steps = opts.steps ?? 100;
  const divergeFactor = opts.divergeFactor ?? 4;
  if (!(start > 0 && end > start))
    throw new ConfigError(`lr-find needs 0 < start < end; got start ${start}, end ${end}`);
  if (!Number.isInteger(steps) || steps < 2)
    throw new ConfigError(`lr-find steps must be an integer >= 2; got ${steps}`);
  if (batches.numBatches < 1)
    throw new ConfigError('lr-find got a batch source with no batches; pass the training batches');

  const saved = model.getWeights().map((w) => w.clone());
  const optimizer = new SweptAdam(start, 0.9, 0.999);
  const points: LrPoint[] = [];
  let stoppedEarly: string | null = null;
  try {
    let avg = 0;
    let best = Infinity;
    let step = 0;
    for (let epoch = 0; step < steps && !stoppedEarly; epoch++) {
      for await (const batch of batches.epoch(epoch)) {
        const lr = start * (end / start) ** (step / (steps - 1));
        optimizer.setLearningRate(lr);
        const { loss } = await trainStep(model, optimizer, batch, opts.config, step, opts.ignoreIndex);
        if (!Number.isFinite(loss)) {
          stoppedEarly = `loss became ${loss} at lr ${lr.toExponential(2)}`;
          break;
        }
        avg = SMOOTHING * avg + (1 - SMOOTHING) * loss;
        const smoothed = avg / (1 - SMOOTHING ** (step + 1));
        const point = { step, lr, loss, smoothed };
        points.push(point);
        await opts.onStep?.(point, steps);
        best = Math.min(best, smoothed);
        step++;
        if (smoothed > divergeFactor * best) {
          stoppedEarly = `loss diverged at lr ${lr.toExponential(2)} (${smoothed.toFixed(4)} > ${divergeFactor} x best ${best.toFixed(4)})`;
          break;
        }
        if (step >= steps) break;
      }
    }
  } finally {
    model.setWeights(saved);
    tf.dispose(saved);
    optimizer.dispose();
  }
  return { points, suggestion: suggestLearningRate(points), stoppedEarly };
}

/**
 * The rate where the smoothed loss falls fastest per decade of learning
 * rate, looked for before the loss's minimum (past it, the descent is
 * divergence starting). Null when the loss never fell.
 */
export function suggestLearningRate(points: readonly LrPoint[]): number | null {
  if (points.length < 2 * EDGE_POINTS + 2) return null;
  let minAt = 0;
  for (let i = 1; i < points.length; i++) if (points[i].smoothed < points[minAt].smoothed) minAt = i;
  let bestSlope = 0;
  let bestAt = -1;
  for (let i = EDGE_POINTS; i < Math.min(minAt, points.length - EDGE_POINTS); i++) {
    // Central difference, so the slope belongs to point i itself.
    const slope =
      (points[i + 1].smoothed - points[i - 1].smoothed) / (Math.log10(points[i + 1].lr) - Math.log10(points[i - 1].lr));
    if (slope < bestSlope) {
      bestSlope = slope;
      bestAt = i;
    }
  }
  return bestAt < 0 ? null : points[bestAt].lr;
}
