import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SelectedBackend } from '../backend';
import { DATASETS } from '../data/registry';
import type { DatasetName } from '../data/types';
import type { Fc6Config, Fc6Variant } from '../model/config';
import {
  PRESETS, isPresetName, resolveTrainConfig, type AugmentConfig, type ClassWeighting, type LrSchedule, type PresetName, type TrainConfig,
} from '../train/config';
import { ConfigError } from '../util/errors';

/** The project folder (dist/notebook/ or src/notebook/ is two levels down). */
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

/**
 * The notebook's hyperparameters cell: the knobs a reader changes, in one
 * typed object. Fields left out take the preset's values; `paper` holds the
 * report's (160x576, batch 10, 75 epochs, Adam 1e-4, fc6 7x7x4096).
 */
export interface Hyperparameters {
  /** [height, width] of the training input, multiples of 32. */
  readonly inputShape: readonly [number, number];
  readonly batchSize: number;
  readonly epochs: number;
  /** Adam learning rate (the schedule's peak). */
  readonly learningRate: number;
  /** 'constant', 'poly' or 'cosine' decay over the run's steps. */
  readonly lrSchedule: LrSchedule;
  /** 'paper' (7x7x4096), 'lite' (3x3x1024 dilated) or explicit numbers. */
  readonly fc6: Fc6Variant | Fc6Config;
  /** Flip / colour jitter / scale-crop of training pairs; null = off. */
  readonly augment: AugmentConfig | null;
  /** Loss weights per class: null, 'median-frequency' (SegNet's) or one number per class. */
  readonly classWeights: ClassWeighting;
  /** Dataset folder; default: FCN_DATA, else the first of the dataset's folders under data/ that exists. */
  readonly dataDir: string;
}

/** FCN_PRESET when set, else the report's preset on a GPU backend and the CPU one otherwise. */
export function presetFromEnv(backend: SelectedBackend, env: NodeJS.ProcessEnv = process.env): PresetName {
  const named = env.FCN_PRESET?.trim();
  if (named) {
    if (!isPresetName(named)) {
      throw new ConfigError(`FCN_PRESET=${named} is not a preset; use one of ${Object.keys(PRESETS).join(', ')}`);
    }
    return named;
  }
  return backend.choice === 'gpu' || backend.choice === 'webgpu' ? 'paper' : 'cpu';
}

/** The preset's values as Hyperparameters, overlaid with `changes`. */
export function hyperparameters(
  preset: PresetName, dataset: DatasetName, changes: Partial<Hyperparameters> = {}, env: NodeJS.ProcessEnv = process.env,
): Hyperparameters {
  const p = resolveTrainConfig(preset, {}, dataset);
  const candidates = DATASETS[dataset].dataDirs.map((d) => path.join(PROJECT_ROOT, d));
  const dataDir = env.FCN_DATA?.trim() || (candidates.find((d) => fs.existsSync(d)) ?? candidates[0]);
  return {
    inputShape: p.model.inputShape, batchSize: p.batchSize, epochs: p.epochs, learningRate: p.learningRate, lrSchedule: p.lrSchedule,
    fc6: p.model.fc6, augment: p.augment, classWeights: p.classWeights, dataDir, ...changes,
  };
}

/** Hyperparameters → the validated TrainConfig that runTraining takes. */
export function trainConfigOf(preset: PresetName, hp: Hyperparameters, dataset: DatasetName): TrainConfig {
  return resolveTrainConfig(preset, {
    batchSize: hp.batchSize, epochs: hp.epochs, learningRate: hp.learningRate, lrSchedule: hp.lrSchedule, augment: hp.augment,
    classWeights: hp.classWeights, model: { inputShape: hp.inputShape, fc6: hp.fc6 },
  }, dataset);
}

/**
 * The run folder for a config on a dataset: the same settings give the same
 * folder (so re-running the training cell resumes), changed settings a new
 * one. The epoch count is left out of the key: raising it trains on.
 */
export function notebookRunDir(config: TrainConfig, dataset: DatasetName, dataDir: string, env: NodeJS.ProcessEnv = process.env): string {
  const { epochs: _epochs, ...rest } = config;
  const key = createHash('sha256').update(JSON.stringify({ rest, dataDir: path.resolve(dataDir) })).digest('hex').slice(0, 8);
  const runs = env.FCN_RUNS?.trim() || path.join(PROJECT_ROOT, 'runs');
  return path.join(runs, `notebook-${dataset}-${config.preset}-${key}`);
}

/** Where the figures go: FCN_FIGURES, else figures/. */
export function figuresDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.FCN_FIGURES?.trim() || path.join(PROJECT_ROOT, 'figures');
}

/** The hyperparameters as aligned "name  value" lines. */
export function formatHyperparameters(
  preset: PresetName, hp: Hyperparameters, config: TrainConfig, env: NodeJS.ProcessEnv = process.env,
): string {
  const fc6 = typeof hp.fc6 === 'string' ? hp.fc6 : `${hp.fc6.kernelSize}x${hp.fc6.kernelSize}x${hp.fc6.filters} dilation ${hp.fc6.dilation}`;
  const aug = hp.augment
    ? [hp.augment.flip && 'flip', hp.augment.colorJitter > 0 && `colour jitter ${hp.augment.colorJitter}`,
      hp.augment.scaleCrop && `scale-crop ${hp.augment.scaleCrop.join('-')}`].filter(Boolean).join(', ') || 'none'
    : 'none';
  const rows: [string, string][] = [
    ['preset', `${preset}${env.FCN_PRESET?.trim() ? ' (FCN_PRESET)' : ''}`],
    ['input size', `${hp.inputShape[0]}x${hp.inputShape[1]}`],
    ['batch size', String(hp.batchSize)],
    ['epochs', String(hp.epochs)],
    ['learning rate', `${hp.learningRate} (${hp.lrSchedule})`],
    ['fc6', fc6],
    ['width multiplier', String(config.model.widthMultiplier)],
    ['augmentation', aug],
    ['class weights', hp.classWeights === null ? 'none' : Array.isArray(hp.classWeights) ? hp.classWeights.join(', ') : String(hp.classWeights)],
    ['dataset folder', hp.dataDir],
  ];
  const w = Math.max(...rows.map((r) => r[0].length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
}
