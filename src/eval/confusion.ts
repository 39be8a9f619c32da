import { ConfigError, DataError } from '../util/errors';
import { IGNORE_INDEX } from '../data/types';

/**
 * An n x n histogram of valid pixels: counts[gt * n + pred], rows = ground
 * truth, columns = prediction. Float64 counts stay exact integers up to 2^53
 * per cell (about 2e10 KITTI frames), so no BigInt is needed.
 */
export interface ConfusionMatrix {
  readonly numClasses: number;
  /** Row-major [numClasses, numClasses]. */
  readonly counts: Float64Array;
}

export function createConfusionMatrix(numClasses: number): ConfusionMatrix {
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new ConfigError(`numClasses must be a positive integer; got ${numClasses}`);
  }
  return { numClasses, counts: new Float64Array(numClasses * numClasses) };
}

/**
 * Adds one label map and its prediction (same length, row-major) to `cm`.
 * Pixels whose label is `ignoreIndex` count nowhere; any other label or any
 * prediction outside [0, numClasses) is a bug upstream and throws.
 * Returns `cm` so calls chain.
 */
export function accumulateConfusion(
  cm: ConfusionMatrix,
  labels: Uint8Array | Int32Array,
  preds: Uint8Array | Int32Array,
  ignoreIndex: number = IGNORE_INDEX,
): ConfusionMatrix {
  const n = cm.numClasses;
  if (labels.length !== preds.length) {
    throw new DataError(
      `labels have ${labels.length} pixels but predictions ${preds.length}; pass maps of the same size`,
    );
  }
  for (let i = 0; i < labels.length; i++) {
    const gt = labels[i];
    if (gt === ignoreIndex) continue;
    const pred = preds[i];
    if (gt < 0 || gt >= n) {
      throw new DataError(
        `label ${gt} at pixel ${i} is not a class id in [0, ${n - 1}] nor the ignore index ${ignoreIndex}; ` +
          'map it to a class or to the ignore index in the loader',
      );
    }
    if (pred < 0 || pred >= n) {
      throw new DataError(`prediction ${pred} at pixel ${i} is not a class id in [0, ${n - 1}]; pass argmax class ids`);
    }
    cm.counts[gt * n + pred] += 1;
  }
  return cm;
}

/** Per-class scores; null where the score's denominator is 0 (undefined, not 0). */
export interface ClassMetrics {
  readonly name: string;
  /** tp / (tp + fp + fn); null for a class absent from both ground truth and prediction. */
  readonly iou: number | null;
  /** tp / (tp + fp); null for a class never predicted. */
  readonly precision: number | null;
  /** tp / (tp + fn); null for a class absent from the ground truth. */
  readonly recall: number | null;
  /** 2tp / (2tp + fp + fn); null where iou is null. */
  readonly f1: number | null;
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
  /** Ground-truth pixels of the class (tp + fn). */
  readonly gtPixels: number;
  /** Pixels predicted as the class (tp + fp). */
  readonly predPixels: number;
}

export interface SegmentationMetrics {
  /** Valid (non-ignored) pixels counted. */
  readonly totalPixels: number;
  /** Sum of tp over all valid pixels. */
  readonly pixelAccuracy: number;
  /** Mean of the non-null per-class IoUs. */
  readonly meanIoU: number;
  /** Number of classes that entered the mean. */
  readonly classesInMean: number;
  /** Sum over classes of (gtPixels / totalPixels) * IoU. */
  readonly frequencyWeightedIoU: number;
  readonly classes: readonly ClassMetrics[];
}

function ratio(num: number, den: number): number | null {
  return den === 0 ? null : num / den;
}

/**
 * Derives every score from tp/fp/fn computed once per class, as
 * segmentation_models.pytorch's get_stats does, so the scores cannot disagree.
 */
export function segmentationMetrics(cm: ConfusionMatrix, classNames: readonly string[]): SegmentationMetrics {
  const n = cm.numClasses;
  if (classNames.length !== n) {
    throw new ConfigError(
      `got ${classNames.length} class names for a ${n}-class confusion matrix; pass one name per class`,
    );
  }
  const rowSum = new Float64Array(n);
  const colSum = new Float64Array(n);
  let total = 0;
  let correct = 0;
  for (let gt = 0; gt < n; gt++) {
    for (let pred = 0; pred < n; pred++) {
      const c = cm.counts[gt * n + pred];
      rowSum[gt] += c;
      colSum[pred] += c;
      total += c;
      if (gt === pred) correct += c;
    }
  }
  if (total === 0) {
    throw new DataError(
      'the confusion matrix holds no valid pixels; accumulate at least one labelled, non-ignored pixel',
    );
  }
  const classes: ClassMetrics[] = [];
  let iouSum = 0;
  let classesInMean = 0;
  let fwIoU = 0;
  for (let c = 0; c < n; c++) {
    const tp = cm.counts[c * n + c];
    const fp = colSum[c] - tp;
    const fn = rowSum[c] - tp;
    const iou = ratio(tp, tp + fp + fn);
    if (iou !== null) {
      iouSum += iou;
      classesInMean++;
      fwIoU += (rowSum[c] / total) * iou;
    }
    classes.push({
      name: classNames[c],
      iou,
      precision: ratio(tp, tp + fp),
      recall: ratio(tp, tp + fn),
      f1: ratio(2 * tp, 2 * tp + fp + fn),
      tp,
      fp,
      fn,
      gtPixels: rowSum[c],
      predPixels: colSum[c],
    });
  }
  return {
    totalPixels: total,
    pixelAccuracy: correct / total,
    meanIoU: iouSum / classesInMean,
    classesInMean,
    frequencyWeightedIoU: fwIoU,
    classes,
  };
}
