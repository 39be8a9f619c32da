import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SelectedBackend } from '../backend';
import { DATASETS } from '../data/registry';
import type { DatasetName } from '../data/types';
import type { Fc6Config, Fc6Variant } from '../model/config';
import {
  PRESETS,
  defaultPresetFor,
  isPresetName,
  resolveTrainConfig,
  type AugmentConfig,
  type ClassWeighting,
  type LrSchedule,
  type PresetName,
  type TrainConfig,
} from '../run/config';
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
  /** Channels of every conv layer relative to VGG16 (1 = VGG16, the only width that takes its weights). */
  readonly widthMultiplier: number;
  /** Dropout after fc6 and fc7. */
  readonly dropout: number;
  /** L2 factor on conv kernels, 0 = off. */
  readonly l2: number;
  /** Seeds the validation split, shuffling, augmentation and initialisation. */
  readonly seed: number;
  /** Flip / colour jitter / scale-crop of training pairs; null = off. */
  readonly augment: AugmentConfig | null;
  /** Loss weights per class: null, 'median-frequency' (SegNet's) or one number per class. */
  readonly classWeights: ClassWeighting;
  /** Start the encoder from VGG16's ImageNet weights (data/weights/); needs widthMultiplier 1. */
  readonly pretrained: boolean;
  /** Dataset folder; default: FCN_DATA, else the first of the dataset's folders under data/ that exists. */
  readonly dataDir: string;
}

/** The preset the notebooks' hyperparameters cells write out (see settingsSource). */
export const WRITTEN_PRESET: PresetName = 'cpu';

/** FCN_PRESET when set, else the report's preset on a GPU backend and the CPU one otherwise. */
export function presetFromEnv(backend: SelectedBackend, env: NodeJS.ProcessEnv = process.env): PresetName {
  const named = env.FCN_PRESET?.trim();
  if (named) {
    if (!isPresetName(named)) {
      throw new ConfigError(`FCN_PRESET=${named} is not a preset; use one of ${Object.keys(PRESETS).join(', ')}`);
    }
    return named;
  }
  return defaultPresetFor(backend.choice);
}

/** The preset's values as Hyperparameters, overlaid with `changes`. */
export function hyperparameters(
  preset: PresetName,
  dataset: DatasetName,
  changes: Partial<Hyperparameters> = {},
  env: NodeJS.ProcessEnv = process.env,
): Hyperparameters {
  const p = resolveTrainConfig(preset, {}, dataset);
  const candidates = DATASETS[dataset].dataDirs.map((d) => path.join(PROJECT_ROOT, d));
  const dataDir = env.FCN_DATA?.trim() || (candidates.find((d) => fs.existsSync(d)) ?? candidates[0]);
  const { inputShape, fc6, widthMultiplier, dropout, l2 } = p.model;
  return {
    inputShape,
    batchSize: p.batchSize,
    epochs: p.epochs,
    learningRate: p.learningRate,
    lrSchedule: p.lrSchedule,
    fc6,
    widthMultiplier,
    dropout,
    l2,
    seed: p.seed,
    augment: p.augment,
    classWeights: p.classWeights,
    pretrained: widthMultiplier === 1,
    dataDir,
    ...changes,
  };
}

/** The fields of `hp` whose values differ from `base`'s (compared as JSON). */
export function differingFields<T extends object>(base: T, hp: Partial<T>): (keyof T)[] {
  return (Object.keys(hp) as (keyof T)[]).filter(
    (k) => hp[k] !== undefined && JSON.stringify(hp[k]) !== JSON.stringify(base[k]),
  );
}

/**
 * What the hyperparameters cell changes: its fields that differ from the
 * written-out preset's values. Applied to the preset in force, they keep
 * their meaning when FCN_PRESET or a GPU picks another preset.
 */
export function changesInCell(
  dataset: DatasetName,
  cell: Partial<Hyperparameters>,
  env: NodeJS.ProcessEnv = process.env,
): Partial<Hyperparameters> {
  const written = hyperparameters(WRITTEN_PRESET, dataset, {}, env);
  return Object.fromEntries(differingFields(written, cell).map((k) => [k, cell[k]]));
}

/** "learningRate 0.001 → 0.0005, epochs 16 → 20", or null when nothing differs. */
export function describeChanges(base: Hyperparameters, hp: Hyperparameters): string | null {
  const fields = differingFields(base, hp);
  return fields.length
    ? fields.map((k) => `${k} ${JSON.stringify(base[k])} → ${JSON.stringify(hp[k])}`).join(', ')
    : null;
}

/** Hyperparameters → the validated TrainConfig that runTraining takes. */
export function trainConfigOf(preset: PresetName, hp: Hyperparameters, dataset: DatasetName): TrainConfig {
  if (hp.pretrained && hp.widthMultiplier !== 1) {
    throw new ConfigError(
      `pretrained: true needs widthMultiplier 1 (VGG16's channels), got ${hp.widthMultiplier}; ` +
        'set widthMultiplier: 1 or pretrained: false in the hyperparameters cell',
    );
  }
  return resolveTrainConfig(
    preset,
    {
      batchSize: hp.batchSize,
      epochs: hp.epochs,
      learningRate: hp.learningRate,
      lrSchedule: hp.lrSchedule,
      augment: hp.augment,
      classWeights: hp.classWeights,
      seed: hp.seed,
      model: {
        inputShape: hp.inputShape,
        fc6: hp.fc6,
        widthMultiplier: hp.widthMultiplier,
        dropout: hp.dropout,
        l2: hp.l2,
      },
    },
    dataset,
  );
}

/** Where the notebooks' run folders go: FCN_RUNS, else runs/. */
export function runsRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.FCN_RUNS?.trim() || path.join(PROJECT_ROOT, 'runs');
}

/** The prefix of a dataset's notebook run folders, e.g. notebook-kitti-road-. */
export function runFolderPrefix(dataset: DatasetName): string {
  return `notebook-${dataset}-`;
}

/**
 * The run folder for a config on a dataset: the same settings give the same
 * folder (so re-running the training cell resumes), changed settings a new
 * one. The epoch count is left out of the key: raising it trains on.
 * `pretrained` joins the key only when true, so from-scratch runs keep the
 * folders they had before it was a setting.
 */
export function notebookRunDir(
  config: TrainConfig,
  dataset: DatasetName,
  dataDir: string,
  pretrained: boolean,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const { epochs: _epochs, ...rest } = config;
  const key = createHash('sha256')
    .update(JSON.stringify({ rest, dataDir: path.resolve(dataDir), ...(pretrained ? { pretrained } : {}) }))
    .digest('hex')
    .slice(0, 8);
  return path.join(runsRoot(env), `${runFolderPrefix(dataset)}${config.preset}-${key}`);
}

/** Where the figures go: FCN_FIGURES, else figures/. */
export function figuresDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.FCN_FIGURES?.trim() || path.join(PROJECT_ROOT, 'figures');
}

/** The hyperparameters as aligned "name  value" lines. */
export function formatHyperparameters(
  preset: PresetName,
  hp: Hyperparameters,
  config: TrainConfig,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const fc6 =
    typeof hp.fc6 === 'string'
      ? hp.fc6
      : `${hp.fc6.kernelSize}x${hp.fc6.kernelSize}x${hp.fc6.filters} dilation ${hp.fc6.dilation}`;
  const aug = hp.augment
    ? [
        hp.augment.flip && 'flip',
        hp.augment.colorJitter > 0 && `colour jitter ${hp.augment.colorJitter}`,
        hp.augment.scaleCrop && `scale-crop ${hp.augment.scaleCrop.join('-')}`,
      ]
        .filter(Boolean)
        .join(', ') || 'none'
    : 'none';
  const rows: [string, string][] = [
    ['preset', `${preset}${env.FCN_PRESET?.trim() ? ' (FCN_PRESET)' : ''}`],
    ['input size', `${hp.inputShape[0]}x${hp.inputShape[1]}`],
    ['batch size', String(hp.batchSize)],
    ['epochs', String(hp.epochs)],
    ['learning rate', `${hp.learningRate} (${hp.lrSchedule})`],
    ['fc6', fc6],
    ['width multiplier', String(config.model.widthMultiplier)],
    ['dropout', String(config.model.dropout)],
    ['L2', String(config.model.l2)],
    ['seed', String(config.seed)],
    ['augmentation', aug],
    [
      'class weights',
      hp.classWeights === null
        ? 'none'
        : Array.isArray(hp.classWeights)
          ? hp.classWeights.join(', ')
          : String(hp.classWeights),
    ],
    ['pretrained', hp.pretrained ? 'VGG16 encoder weights' : 'no (from scratch)'],
    ['dataset folder', hp.dataDir],
  ];
  const w = Math.max(...rows.map((r) => r[0].length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
}
