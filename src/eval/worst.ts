import type * as tf from '@tensorflow/tfjs';
import type { Batch, LabelMap, RgbImage } from '../data/types';
import { ConfigError } from '../util/errors';
import { accumulateConfusion, createConfusionMatrix } from './confusion';
import { scoreBatch } from './score-batch';

/** How bad one validation image is. */
export interface SampleScore {
  readonly id: string;
  /** Data loss over the image's valid pixels. */
  readonly loss: number;
  /** Mean IoU over the classes in the image's labels or prediction; null when every pixel is ignored. */
  readonly meanIoU: number | null;
}

/** A worst image with what the error grid draws, at the model's input size. */
export interface WorstSample extends SampleScore {
  readonly image: RgbImage;
  readonly label: LabelMap;
  readonly prediction: LabelMap;
}

export type WorstBy = 'loss' | 'iou';

export interface WorstOptions {
  /** How many images to keep. */
  k: number;
  /** 'loss': highest loss first; 'iou': lowest mean IoU first. */
  by: WorstBy;
  numClasses: number;
  ignoreIndex: number;
}

/**
 * Mean IoU of one image: classes absent from both its labels and its
 * prediction are left out, as in the split's mean IoU (src/eval/confusion.ts).
 */
export function sampleMeanIoU(
  labels: Uint8Array,
  preds: Uint8Array | Int32Array,
  numClasses: number,
  ignoreIndex: number,
): number | null {
  const cm = accumulateConfusion(createConfusionMatrix(numClasses), labels, preds, ignoreIndex);
  let sum = 0;
  let classes = 0;
  for (let c = 0; c < numClasses; c++) {
    let row = 0;
    let col = 0;
    for (let j = 0; j < numClasses; j++) {
      row += cm.counts[c * numClasses + j];
      col += cm.counts[j * numClasses + c];
    }
    const tp = cm.counts[c * numClasses + c];
    const union = row + col - tp;
    if (union > 0) {
      sum += tp / union;
      classes++;
    }
  }
  return classes ? sum / classes : null;
}

/** The order of "worse": higher loss, or lower IoU (unscored images last); ties by id so the order is fixed. */
function worseFirst(by: WorstBy): (a: SampleScore, b: SampleScore) => number {
  // A NaN loss (no valid pixel) and a null IoU rank as the least bad.
  const key =
    by === 'loss'
      ? (s: SampleScore) => (Number.isNaN(s.loss) ? Infinity : -s.loss)
      : (s: SampleScore) => s.meanIoU ?? Infinity;
  return (a, b) => {
    const ka = key(a);
    const kb = key(b);
    if (ka !== kb) return ka < kb ? -1 : 1;
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  };
}

/** The `k` worst of `scores` by loss or IoU. */
export function rankWorst<T extends SampleScore>(scores: readonly T[], k: number, by: WorstBy): T[] {
  if (!Number.isInteger(k) || k < 1) throw new ConfigError(`worst k must be a positive integer; got ${k}`);
  if (by !== 'loss' && by !== 'iou')
    throw new ConfigError(`worst images are ranked by 'loss' or 'iou'; got ${JSON.stringify(by)}`);
  return [...scores].sort(worseFirst(by)).slice(0, k);
}

/**
 * Runs the model (inference mode) over `batches`, scores every image and
 * keeps the k worst with their image, labels and prediction. Only k images
 * are held at a time, so it runs over a whole validation split.
 */
export async function findWorstSamples(
  model: tf.LayersModel,
  batches: AsyncIterable<Batch>,
  opts: WorstOptions,
): Promise<{ worst: WorstSample[]; scores: SampleScore[] }> {
  rankWorst([], opts.k, opts.by); // validates k and by before any work
  const scores: SampleScore[] = [];
  let worst: WorstSample[] = [];
  for await (const batch of batches) {
    const n = batch.ids.length;
    const { height: h, width: w } = batch;
    const hw = h * w;
    const { preds: p, losses: l } = await scoreBatch(model, batch, opts.ignoreIndex);
    for (let i = 0; i < n; i++) {
      const label = batch.labels.slice(i * hw, (i + 1) * hw);
      const prediction = Uint8Array.from(p.subarray(i * hw, (i + 1) * hw));
      const score: SampleScore = {
        id: batch.ids[i],
        loss: l[i],
        meanIoU: sampleMeanIoU(label, prediction, opts.numClasses, opts.ignoreIndex),
      };
      scores.push(score);
      const candidate: WorstSample = {
        ...score,
        image: { data: batch.images.slice(i * hw * 3, (i + 1) * hw * 3), height: h, width: w },
        label: { data: label, height: h, width: w },
        prediction: { data: prediction, height: h, width: w },
      };
      worst = rankWorst([...worst, candidate], opts.k, opts.by);
    }
  }
  return { worst, scores };
}
