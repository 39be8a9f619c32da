import { DataError } from '../util/errors';
import { IGNORE_INDEX } from '../data/types';

/**
 * KITTI Road's pixel metrics (devkit helper.py: evalExp +
 * pxEval_maximizeFMeasure). The devkit reads confidences from 8-bit PNGs, so
 * p is quantised to q = round(p * 255); threshold k/255 (k = 0..255) calls a
 * pixel road iff q >= k. A histogram of q per ground-truth class holds every
 * threshold's counts at once, and pools over images by plain addition.
 */
export const ROAD_LEVELS = 256;

export interface RoadCurveAccumulator {
  /** Road pixels per quantised confidence q. */
  readonly roadHist: Float64Array;
  /** Non-road pixels per quantised confidence q. */
  readonly nonRoadHist: Float64Array;
}

export function createRoadCurve(): RoadCurveAccumulator {
  return { roadHist: new Float64Array(ROAD_LEVELS), nonRoadHist: new Float64Array(ROAD_LEVELS) };
}

/**
 * Adds one image: `roadProb` is p(road) in [0, 1] per pixel, `labels` is
 * 1 = road, 0 = not road, 255 = outside the evaluation area (skipped).
 * Returns `acc` so calls chain.
 */
export function accumulateRoadCurve(
  acc: RoadCurveAccumulator,
  roadProb: Float32Array,
  labels: Uint8Array | Int32Array,
): RoadCurveAccumulator {
  if (roadProb.length !== labels.length) {
    throw new DataError(
      `roadProb has ${roadProb.length} pixels but labels ${labels.length}; pass maps of the same size`,
    );
  }
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i];
    if (label === IGNORE_INDEX) continue;
    const p = roadProb[i];
    const q = Math.round(p * 255);
    // Accepts float overshoot below half a level (a softmax computed as exp(x - logSumExp)
    // can give 1 + 1 ulp); NaN fails both comparisons.
    if (!(q >= 0 && q < ROAD_LEVELS)) {
      throw new DataError(`roadProb[${i}] = ${p} is not a probability in [0, 1]; pass softmax/sigmoid outputs`);
    }
    if (label === 1) acc.roadHist[q] += 1;
    else if (label === 0) acc.nonRoadHist[q] += 1;
    else {
      throw new DataError(
        `road label ${label} at pixel ${i} is not 1 (road), 0 (not road) or ${IGNORE_INDEX} (ignore); ` +
          'decode KITTI Road labels with the road loader',
      );
    }
  }
  return acc;
}

/** One operating point of the precision-recall curve. */
export interface RoadCurvePoint {
  /** k / 255. */
  readonly threshold: number;
  readonly precision: number;
  readonly recall: number;
}

/** Scores as fractions in [0, 1] (the devkit prints them x100). */
export interface RoadMetrics {
  /** Max over thresholds of 2 PRE REC / (PRE + REC). */
  readonly maxF: number;
  /** PRE, REC, FPR, FNR at the MaxF threshold (the devkit's `_wp` values). */
  readonly precision: number;
  readonly recall: number;
  /** FP / (FP + TN); null when no non-road pixel was counted. */
  readonly fpr: number | null;
  readonly fnr: number;
  /** The MaxF threshold, k / 255. */
  readonly threshold: number;
  /** 11-point PASCAL VOC average precision. */
  readonly ap: number;
  /** Counts at the MaxF threshold. */
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
  readonly tn: number;
  /** The curve, ascending threshold, points with PRE = REC = 0 dropped. */
  readonly curve: readonly RoadCurvePoint[];
}

export function roadMetrics(acc: RoadCurveAccumulator): RoadMetrics {
  let roadTotal = 0;
  let nonRoadTotal = 0;
  for (let q = 0; q < ROAD_LEVELS; q++) {
    roadTotal += acc.roadHist[q];
    nonRoadTotal += acc.nonRoadHist[q];
  }
  if (roadTotal === 0) {
    throw new DataError(
      'the road curve holds no road pixels, so recall is undefined; accumulate images that contain road',
    );
  }

  const curve: RoadCurvePoint[] = [];
  let best = { f: -1, k: 0, tp: 0, fp: 0, precision: 0, recall: 0 };
  // At threshold k: FN = road pixels with q < k, FP = non-road pixels with q >= k.
  let fn = 0;
  let fp = nonRoadTotal;
  for (let k = 0; k < ROAD_LEVELS; k++) {
    if (k > 0) {
      fn += acc.roadHist[k - 1];
      fp -= acc.nonRoadHist[k - 1];
    }
    const tp = roadTotal - fn;
    // The devkit divides by (TP + FP + 1e-10): no positive prediction reads as precision 0.
    const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
    const recall = tp / roadTotal;
    if (precision === 0 && recall === 0) continue;
    curve.push({ threshold: k / 255, precision, recall });
    // Exact F; the devkit's 1e-10 guard in the denominator moves it by < 1e-9.
    const f = (2 * precision * recall) / (precision + recall);
    // Strict '>' keeps the lowest threshold on ties, as numpy's argmax does.
    if (f > best.f) best = { f, k, tp, fp, precision, recall };
  }

  // Recall levels as numpy's arange(0, 1.1, 0.1) makes them (0.1 * i, so 0.30000000000000004),
  // which decides ties such as recall exactly 0.3.
  let apSum = 0;
  for (let i = 0; i <= 10; i++) {
    const level = 0.1 * i;
    let maxPrecision = 0;
    for (const pt of curve) if (pt.recall >= level && pt.precision > maxPrecision) maxPrecision = pt.precision;
    apSum += maxPrecision;
  }

  const fnBest = roadTotal - best.tp;
  const tnBest = nonRoadTotal - best.fp;
  return {
    maxF: best.f,
    precision: best.precision,
    recall: best.recall,
    fpr: nonRoadTotal === 0 ? null : best.fp / nonRoadTotal,
    fnr: fnBest / roadTotal,
    threshold: best.k / 255,
    ap: apSum / 11,
    tp: best.tp,
    fp: best.fp,
    fn: fnBest,
    tn: tnBest,
    curve,
  };
}
