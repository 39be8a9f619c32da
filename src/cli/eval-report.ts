import * as path from 'node:path';
import { BatchLoader, openDataset, trainValSamples } from '../data';
import { evaluateSamples } from '../eval/evaluate';
import { findWorstSamples, type WorstBy } from '../eval/worst';
import { loadRun } from '../run/load-run';
import { FcnError } from '../util/errors';
import { errorGrid } from '../viz/error-grid';
import { paletteFor } from '../viz/palette';
import { writeEvalReport } from '../viz/report';

export interface RunReportOptions {
  /** Worst images shown (default 6). */
  k?: number;
  /** Rank them by 'loss' (default) or 'iou'. */
  by?: WorstBy;
  /** Called after each image scored at full resolution. */
  onProgress?: (done: number, total: number) => void;
}

export interface RunReport {
  html: string;
  worst: string | null;
  split: string;
  images: number;
  meanIoU: number;
}

/**
 * `fcn eval --report <dir>`: scores a run folder's model on its evaluation
 * split and writes the error-analysis page into `outDir` (index.html with
 * the IoU table and the confusion heatmap, worst.png beside it). Scores are
 * at full resolution, as `fcn eval` prints them; the worst images are ranked
 * and drawn at the training size. `dataDir` null = the folder the run trained on.
 */
export async function writeRunReport(
  runDir: string,
  dataDir: string | null | undefined,
  outDir: string,
  opts: RunReportOptions = {},
): Promise<RunReport> {
  const run = await loadRun(runDir);
  try {
    const ds = await openDataset(run.dataset.name, dataDir ?? run.dataset.dir, run.dataset.options);
    const { val: samples, valName: split } = await trainValSamples(ds, run.config);
    const labelled = samples.filter((s) => s.labelPath);
    if (!labelled.length) throw new FcnError(`split ${split} of ${ds.dir} has no labelled images to report on`);
    const classNames = ds.classes.map((c) => c.name);
    const scored = await evaluateSamples(run.model, ds, labelled, {
      classNames,
      ignoreIndex: ds.ignoreIndex,
      inputShape: run.config.model.inputShape,
      onProgress: opts.onProgress,
    });
    const loader = new BatchLoader(ds, labelled, {
      inputShape: run.config.model.inputShape,
      batchSize: run.config.batchSize,
      shuffle: false,
      seed: run.config.seed,
      augment: false,
      progress: false,
    });
    const by = opts.by ?? 'loss';
    const { worst } = await findWorstSamples(run.model, loader.epoch(0), {
      k: opts.k ?? 6,
      by,
      numClasses: ds.classes.length,
      ignoreIndex: ds.ignoreIndex,
    });
    const palette = paletteFor(ds.classes);
    const [h, w] = run.config.model.inputShape;
    const written = writeEvalReport(outDir, {
      title: `${path.basename(path.resolve(runDir))}: ${ds.name} ${split}`,
      subtitle: `${labelled.length} images of ${ds.dir}, scored at full resolution; worst images ranked and drawn at the training size ${h}x${w}`,
      metrics: scored.metrics,
      confusion: scored.confusion,
      ignoreIndex: ds.ignoreIndex,
      worst: worst.length
        ? { png: await errorGrid(worst, ds.classes, { palette, ignoreIndex: ds.ignoreIndex }), by, samples: worst }
        : null,
    });
    return { ...written, split, images: labelled.length, meanIoU: scored.metrics.meanIoU };
  } finally {
    run.model.dispose();
  }
}
