import * as path from 'node:path';
import type { DatasetName } from '../data/types';
import { RUN_FILES } from '../run/checkpoint';
import { writeJson } from '../util/storage';
import type { SegmentationMetrics } from './confusion';
import type { EvalResult } from './evaluate';
import type { RoadMetrics } from './kitti-maxf';

/**
 * One scoring of a model on one split, in the one shape every writer uses:
 * runs/<name>/metrics.json (the end of training, `fcn eval`) and the
 * `metrics` of figures/<name>_metrics.json (the notebooks).
 */
export interface ScoredSplit {
  /** 'val', 'test', or e.g. 'holdout (25% of train, seed 0)'. */
  split: string;
  dataset: DatasetName;
  dir: string;
  images: number;
  /** Pooled cross-entropy at the training size; null when scored at full resolution. */
  loss: number | null;
  metrics: SegmentationMetrics;
  road: RoadMetrics | null;
  /** The confusion matrix, row-major: rows ground truth, columns prediction. */
  confusion: number[];
}

export function scoredSplit(
  result: Pick<EvalResult, 'metrics' | 'road' | 'confusion'> & { loss?: number },
  where: { split: string; dataset: DatasetName; dir: string; images: number },
): ScoredSplit {
  return {
    ...where,
    loss: result.loss ?? null,
    metrics: result.metrics,
    road: result.road,
    confusion: Array.from(result.confusion.counts),
  };
}

/** Writes runs/<name>/metrics.json; a full disk is a StorageError that ends with `advice`. */
export function writeRunMetrics(runDir: string, scored: ScoredSplit, advice: string): string {
  const file = path.join(runDir, RUN_FILES.metrics);
  writeJson(file, scored, advice);
  return file;
}
