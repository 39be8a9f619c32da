import type { SampleRef, SegDataset } from '../data/types';
import { startProgress } from '../util/progress';
import type { TrainConfig } from '../run/config';

/**
 * SegNet's median-frequency balancing (Eigen & Fergus 2015): freq(c) is the
 * pixels of class c over all pixels of the images where c appears, and
 * weight(c) = median(freq) / freq(c). Classes absent from every label get 0:
 * they add nothing to the loss and cannot be learnt anyway.
 */
export function medianFrequencyWeights(classPixels: ArrayLike<number>, imagePixelsWhere: ArrayLike<number>): number[] {
  const n = classPixels.length;
  const freq = Array.from({ length: n }, (_, c) =>
    imagePixelsWhere[c] > 0 ? classPixels[c] / imagePixelsWhere[c] : 0,
  );
  const present = freq.filter((f) => f > 0).sort((a, b) => a - b);
  if (present.length === 0) return new Array<number>(n).fill(0);
  const mid = present.length >> 1;
  const median = present.length % 2 ? present[mid] : (present[mid - 1] + present[mid]) / 2;
  return freq.map((f) => (f > 0 ? median / f : 0));
}

/** Pixel counts per class over the labels of `samples` at full resolution (void and unknown values not counted). */
export async function classPixelCounts(
  ds: SegDataset,
  samples: readonly SampleRef[],
  opts: { progress?: boolean } = {},
): Promise<{ classPixels: Float64Array; imagePixelsWhere: Float64Array }> {
  const k = ds.classes.length;
  const classPixels = new Float64Array(k);
  const imagePixelsWhere = new Float64Array(k);
  const labelled = samples.filter((s) => s.labelPath !== null);
  const bar = startProgress('class weights', labelled.length, { enabled: opts.progress ?? false });
  const counts = new Float64Array(256);
  for (const [i, s] of labelled.entries()) {
    const label = await ds.decodeLabel(s.labelPath!);
    counts.fill(0);
    for (let p = 0; p < label.data.length; p++) counts[label.data[p]]++;
    let valid = 0;
    for (let c = 0; c < k; c++) valid += counts[c];
    for (let c = 0; c < k; c++) {
      classPixels[c] += counts[c];
      if (counts[c] > 0) imagePixelsWhere[c] += valid;
    }
    bar.update(i + 1);
  }
  bar.stop();
  return { classPixels, imagePixelsWhere };
}

/**
 * The config with its class weighting turned into numbers: 'median-frequency'
 * is computed from the training samples' labels; null and explicit values
 * pass through.
 */
export async function resolveClassWeights(
  config: TrainConfig,
  ds: SegDataset,
  train: readonly SampleRef[],
  opts: { progress?: boolean } = {},
): Promise<TrainConfig> {
  if (config.classWeights !== 'median-frequency') return config;
  const { classPixels, imagePixelsWhere } = await classPixelCounts(ds, train, opts);
  const weights = medianFrequencyWeights(classPixels, imagePixelsWhere).map((w) => Number(w.toFixed(4)));
  return Object.freeze({ ...config, classWeights: Object.freeze(weights) });
}
