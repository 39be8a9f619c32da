import { BatchLoader } from '../data/batch-loader';
import type { Batch, SegDataset } from '../data/types';
import { buildFcn8 } from '../model/fcn8';
import { ConfigError } from '../util/errors';
import { resolveTrainConfig, type TrainConfig } from '../run/config';
import { adamOptimizer } from './adam';
import { trainStep } from './loop';

/**
 * `fcn train --overfit-batch`: a model that cannot drive a single batch to
 * near-zero loss will not learn the dataset either, so this is the quick
 * check that the model, the labels and the loss fit together (Karpathy,
 * "A Recipe for Training Neural Networks": overfit one batch).
 */

export interface OverfitOptions {
  /** Most steps to try (default 300). */
  maxSteps?: number;
  /** Pass once the batch's data loss is at or below this (default 0.05). */
  targetLoss?: number;
  /** Default: the config's. */
  learningRate?: number;
  /** Called after each step. */
  onStep?: (step: number, loss: number) => void | Promise<void>;
}

export interface OverfitResult {
  passed: boolean;
  /** Data loss after each step, the curve to plot. */
  losses: number[];
  steps: number;
  targetLoss: number;
  /** Sample ids of the batch. */
  ids: readonly string[];
  /** The one line printed: pass or fail, with the numbers and what to look at on a fail. */
  line: string;
}

/** The first batch of the train split, in id order and without augmentation. */
async function firstBatch(ds: SegDataset, config: TrainConfig): Promise<Batch> {
  const samples = (await ds.samples('train')).filter((s) => s.labelPath).slice(0, config.batchSize);
  if (!samples.length)
    throw new ConfigError(
      `${ds.dir} has no labelled training images to overfit; check it with \`fcn data check ${ds.dir}\``,
    );
  const loader = new BatchLoader(ds, samples, {
    inputShape: config.model.inputShape,
    batchSize: config.batchSize,
    shuffle: false,
    seed: config.seed,
    augment: false,
    progress: false,
  });
  for await (const batch of loader.epoch(0)) return batch;
  throw new ConfigError(`no image of ${ds.dir} could be decoded; check it with \`fcn data check ${ds.dir}\``);
}

/**
 * Trains a fresh model of `config` on one batch of `dataset` until its loss
 * reaches `targetLoss` or `maxSteps` run out. Dropout and L2 are switched
 * off: they exist to stop exactly this memorising.
 */
export async function overfitBatch(
  config: TrainConfig,
  dataset: SegDataset,
  opts: OverfitOptions = {},
): Promise<OverfitResult> {
  const maxSteps = opts.maxSteps ?? 300;
  const targetLoss = opts.targetLoss ?? 0.05;
  if (!Number.isInteger(maxSteps) || maxSteps < 1)
    throw new ConfigError(`overfit maxSteps must be a positive integer; got ${maxSteps}`);
  if (!(targetLoss > 0)) throw new ConfigError(`overfit targetLoss must be > 0; got ${targetLoss}`);
  const { preset, model: modelConfig, ...rest } = config;
  const check = resolveTrainConfig(preset, {
    ...rest,
    learningRate: opts.learningRate ?? config.learningRate,
    model: { ...modelConfig, numClasses: dataset.classes.length, dropout: 0, l2: 0 },
  });
  const batch = await firstBatch(dataset, check);
  const model = buildFcn8(check.model);
  const optimizer = adamOptimizer(check.learningRate);
  const losses: number[] = [];
  try {
    for (let step = 0; step < maxSteps; step++) {
      const { loss } = await trainStep(model, optimizer, batch, check, step, dataset.ignoreIndex);
      losses.push(loss);
      await opts.onStep?.(step + 1, loss);
      if (!Number.isFinite(loss) || loss <= targetLoss) break;
    }
  } finally {
    model.dispose();
    optimizer.dispose();
  }
  const last = losses[losses.length - 1];
  const passed = Number.isFinite(last) && last <= targetLoss;
  const what = `${batch.ids.length} image(s) at ${batch.height}x${batch.width}, lr ${check.learningRate}`;
  const line = passed
    ? `overfit-batch: pass: loss ${losses[0].toFixed(4)} -> ${last.toFixed(4)} <= ${targetLoss} in ${losses.length} steps (${what})`
    : `overfit-batch: fail: loss ${losses[0].toFixed(4)} -> ${last.toFixed(4)} after ${losses.length} steps, target ${targetLoss} (${what}); ` +
      (Number.isFinite(last)
        ? 'check the labels (`fcn data check`), the class count and the ignore index, or try another --lr'
        : 'the loss is not finite: lower --lr');
  return { passed, losses, steps: losses.length, targetLoss, ids: batch.ids, line };
}
