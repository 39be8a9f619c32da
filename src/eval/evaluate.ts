import type * as tf from '@tensorflow/tfjs';
import { DATASETS } from '../data/registry';
import { IGNORE_INDEX, type Batch, type SampleRef, type SegDataset } from '../data/types';
import { predict } from '../infer/predict';
import { scoreBatch } from './score-batch';
import {
  accumulateConfusion,
  createConfusionMatrix,
  segmentationMetrics,
  type ConfusionMatrix,
  type SegmentationMetrics,
} from './confusion';
import {
  accumulateRoadCurve,
  createRoadCurve,
  roadMetrics,
  type RoadCurveAccumulator,
  type RoadMetrics,
} from './kitti-maxf';

export interface EvalOptions {
  classNames: readonly string[];
  ignoreIndex: number;
  /**
   * Class id scored with the KITTI road metrics (MaxF, AP), null for none.
   * Default: none for batches; for samples, the dataset's (src/data/registry.ts).
   */
  roadClass?: number | null;
}

export interface EvalResult {
  /** Cross-entropy pooled over every valid pixel of every batch. */
  loss: number;
  confusion: ConfusionMatrix;
  metrics: SegmentationMetrics;
  road: RoadMetrics | null;
  /** Set when the predictions collapsed to one class while the labels hold several. */
  collapseWarning: string | null;
  /** Per-sample data loss, for "worst images" analysis. */
  perSample: { id: string; loss: number }[];
}

/** Class ids → the devkit's 1 = road, 0 = not road, IGNORE_INDEX for what the dataset ignores. */
function roadLabelsOf(labels: Uint8Array, roadClass: number, ignoreIndex: number): Uint8Array {
  return labels.map((v) => (v === ignoreIndex ? IGNORE_INDEX : v === roadClass ? 1 : 0));
}

/**
 * Runs the model (inference mode) over `batches` and scores it: pooled loss,
 * confusion matrix and its metrics, KITTI road metrics for the road task.
 */
export async function evaluateBatches(
  model: tf.LayersModel,
  batches: AsyncIterable<Batch>,
  opts: EvalOptions,
): Promise<EvalResult> {
  const numClasses = opts.classNames.length;
  const roadClass = opts.roadClass ?? null;
  const cm = createConfusionMatrix(numClasses);
  const curve: RoadCurveAccumulator | null = roadClass === null ? null : createRoadCurve();
  let lossSum = 0;
  let validSum = 0;
  const perSample: EvalResult['perSample'] = [];
  for await (const batch of batches) {
    const n = batch.ids.length;
    const hw = batch.height * batch.width;
    const { preds: p, probs: pr, losses: l } = await scoreBatch(model, batch, opts.ignoreIndex, roadClass);
    const labels = batch.labels;
    accumulateConfusion(cm, labels, p, opts.ignoreIndex);
    for (let i = 0; i < n; i++) {
      const lab = labels.subarray(i * hw, (i + 1) * hw);
      let valid = 0;
      for (let j = 0; j < hw; j++) if (lab[j] !== opts.ignoreIndex) valid++;
      lossSum += l[i] * valid;
      validSum += valid;
      perSample.push({ id: batch.ids[i], loss: l[i] });
      if (curve && pr && roadClass !== null) {
        accumulateRoadCurve(curve, pr.subarray(i * hw, (i + 1) * hw), roadLabelsOf(lab, roadClass, opts.ignoreIndex));
      }
    }
  }
  const metrics = segmentationMetrics(cm, opts.classNames);
  return {
    loss: validSum ? lossSum / validSum : NaN,
    confusion: cm,
    metrics,
    road: curve ? roadMetrics(curve) : null,
    collapseWarning: collapseWarning(cm, opts.classNames),
    perSample,
  };
}

/**
 * More than 99% of valid pixels predicted as one class while at least two
 * classes each hold 5% of the labels: the model has collapsed.
 */
export function collapseWarning(cm: ConfusionMatrix, classNames: readonly string[]): string | null {
  const n = cm.numClasses;
  const gt = new Float64Array(n);
  const pred = new Float64Array(n);
  let total = 0;
  for (let g = 0; g < n; g++) {
    for (let p = 0; p < n; p++) {
      const c = cm.counts[g * n + p];
      gt[g] += c;
      pred[p] += c;
      total += c;
    }
  }
  if (!total) return null;
  const major = pred.reduce((best, v, i) => (v > pred[best] ? i : best), 0);
  const bigClasses = Array.from(gt).filter((v) => v / total >= 0.05).length;
  if (pred[major] / total > 0.99 && bigClasses >= 2) {
    return (
      `validation predictions collapsed: ${((100 * pred[major]) / total).toFixed(1)}% of pixels predicted as ` +
      `"${classNames[major]}" while ${bigClasses} classes each hold 5% or more of the labels`
    );
  }
  return null;
}

export interface SampleEvalOptions extends EvalOptions {
  /** The training size the images are resized to (see predict); null = native size. */
  inputShape: readonly [number, number] | null;
  /** Called after each image with (done, total). */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Scores the model on labelled samples at their full resolution, the way the
 * KITTI devkit scores a submission: predict per image, compare with the
 * original label map.
 */
export async function evaluateSamples(
  model: tf.LayersModel,
  ds: SegDataset,
  samples: readonly SampleRef[],
  opts: SampleEvalOptions,
): Promise<Omit<EvalResult, 'perSample' | 'loss'> & { images: number }> {
  const roadClass = opts.roadClass === undefined ? DATASETS[ds.name].roadClass : opts.roadClass;
  const cm = createConfusionMatrix(opts.classNames.length);
  const curve = roadClass === null ? null : createRoadCurve();
  let done = 0;
  for (const s of samples) {
    if (!s.labelPath) continue;
    const [image, label] = await Promise.all([ds.loadImage(s.imagePath), ds.decodeLabel(s.labelPath)]);
    const pred = await predict(model, image, { inputShape: opts.inputShape });
    accumulateConfusion(cm, label.data, pred.labels.data, opts.ignoreIndex);
    if (curve && roadClass !== null) {
      const hw = pred.height * pred.width;
      const p = new Float32Array(hw);
      for (let j = 0; j < hw; j++) p[j] = pred.probs[j * pred.numClasses + roadClass];
      accumulateRoadCurve(curve, p, roadLabelsOf(label.data, roadClass, opts.ignoreIndex));
    }
    done++;
    opts.onProgress?.(done, samples.length);
  }
  return {
    images: done,
    confusion: cm,
    metrics: segmentationMetrics(cm, opts.classNames),
    road: curve ? roadMetrics(curve) : null,
    collapseWarning: collapseWarning(cm, opts.classNames),
  };
}
