import { Fcn8Config, checkInputShape, resolveFcn8Config } from '../model/config';
import type { BackendChoice } from '../backend';
import type { DatasetName } from '../data/types';
import { ConfigError } from '../util/errors';

/** Augmentation of training pairs (see src/data). */
export interface AugmentConfig {
  /** Random horizontal flip. */
  readonly flip: boolean;
  /** Strength of brightness/contrast/saturation jitter, 0 = off. */
  readonly colorJitter: number;
  /** Random scale-crop range, e.g. [1, 1.25]; null = off. */
  readonly scaleCrop: readonly [number, number] | null;
}

/**
 * Everything a run needs, in one typed object with the report's values as
 * defaults. Saved as runs/<name>/config.json so a resume is exact.
 */
export interface TrainConfig {
  /** The preset it started from ('paper', 'cpu', 'smoke'). */
  readonly preset: PresetName;
  /** The model (see Fcn8Config); inputShape is the training size. */
  readonly model: Fcn8Config;
  /** Images per step (report: 10). */
  readonly batchSize: number;
  /** Passes over the training split (report: 75). */
  readonly epochs: number;
  /** Adam learning rate (report: 1e-4); the schedule's peak. */
  readonly learningRate: number;
  /**
   * How the learning rate moves over the run's steps: 'constant' (report),
   * 'poly' (lr * (1 - step/steps)^0.9, DeepLab's), or 'cosine' (to 0).
   */
  readonly lrSchedule: LrSchedule;
  /** Share of the training split held out for validation, split deterministically by seed. */
  readonly valFraction: number;
  /** Seeds the split, the shuffling, augmentation, init and dropout. */
  readonly seed: number;
  /**
   * Per-class loss weights: null for none, 'median-frequency' (SegNet's:
   * median class frequency / class frequency, from the training labels) or
   * explicit values, one per class.
   */
  readonly classWeights: ClassWeighting;
  readonly augment: AugmentConfig | null;
  /** Worker threads for data-parallel training on wasm; 0 = one per core. */
  readonly workers: number;
}

export type PresetName = 'paper' | 'cpu' | 'smoke';

export type LrSchedule = 'constant' | 'poly' | 'cosine';

export const LR_SCHEDULES: readonly LrSchedule[] = ['constant', 'poly', 'cosine'];

export type ClassWeighting = null | 'median-frequency' | readonly number[];

export type TrainOverrides = Partial<Omit<TrainConfig, 'model' | 'preset'>> & { model?: Partial<Fcn8Config> };
type Overrides = TrainOverrides;

const NO_AUGMENT = null;

/**
 * Named presets. `paper` is the reference's setting; `cpu` trains a useful
 * road model from scratch in minutes on 2 cores (fewer channels, smaller
 * input, lite fc6); `smoke` runs in seconds for tests and CI.
 */
export const PRESETS: Record<PresetName, Omit<TrainConfig, 'model'> & { model: Partial<Fcn8Config> }> = {
  paper: {
    preset: 'paper',
    model: { inputShape: [160, 576], fc6: 'paper', dropout: 0.5, widthMultiplier: 1, l2: 1e-3 },
    batchSize: 10,
    epochs: 75,
    learningRate: 1e-4,
    lrSchedule: 'constant',
    valFraction: 0.1,
    seed: 0,
    classWeights: null,
    augment: NO_AUGMENT,
    workers: 0,
  },
  cpu: {
    preset: 'cpu',
    model: { inputShape: [96, 288], fc6: 'lite', dropout: 0.1, widthMultiplier: 0.25, l2: 0 },
    batchSize: 4,
    epochs: 16,
    learningRate: 1e-3,
    lrSchedule: 'constant',
    valFraction: 0.1,
    seed: 0,
    classWeights: null,
    augment: { flip: true, colorJitter: 0.1, scaleCrop: null },
    workers: 0,
  },
  smoke: {
    preset: 'smoke',
    model: { inputShape: [64, 96], fc6: 'lite', dropout: 0, widthMultiplier: 1 / 16, l2: 0 },
    batchSize: 2,
    epochs: 2,
    learningRate: 1e-3,
    lrSchedule: 'constant',
    valFraction: 0.25,
    seed: 0,
    classWeights: null,
    augment: NO_AUGMENT,
    workers: 1,
  },
};

/**
 * What a preset changes for a dataset: the input keeps the dataset's aspect
 * ratio (KITTI's 3:1 is the presets' own), and CamVid's `cpu` preset is the
 * recipe measured on its val split (bench/camvid-recipe.md).
 */
export const DATASET_PRESETS: Readonly<Partial<Record<DatasetName, Partial<Record<PresetName, Overrides>>>>> = {
  cityscapes: {
    paper: { model: { inputShape: [256, 512] } },
    cpu: { model: { inputShape: [128, 256] } },
    smoke: { model: { inputShape: [64, 128] } },
  },
  camvid: {
    paper: { model: { inputShape: [384, 512] } },
    cpu: { model: { inputShape: [192, 256] }, lrSchedule: 'poly', epochs: 8 },
    smoke: { model: { inputShape: [96, 128] } },
  },
};

/** The preset when none is named: the paper's on a GPU backend, the CPU one otherwise. */
export function defaultPresetFor(backend: BackendChoice): PresetName {
  return backend === 'gpu' || backend === 'webgpu' ? 'paper' : 'cpu';
}

export function isPresetName(name: string): name is PresetName {
  return Object.prototype.hasOwnProperty.call(PRESETS, name);
}

/** Defaults → preset → the dataset's changes to it → overrides; validated once, frozen. */
export function resolveTrainConfig(preset: string, overrides: Overrides = {}, dataset?: DatasetName): TrainConfig {
  if (!isPresetName(preset)) {
    throw new ConfigError(`preset "${preset}" is unknown; use one of ${Object.keys(PRESETS).join(', ')}`);
  }
  const forData = (dataset && DATASET_PRESETS[dataset]?.[preset]) || {};
  const base = { ...PRESETS[preset], ...forData, model: { ...PRESETS[preset].model, ...(forData.model ?? {}) } };
  const modelPartial = { ...base.model, ...(overrides.model ?? {}) };
  const model = resolveFcn8Config(modelPartial);
  const c: TrainConfig = { ...base, ...overrides, preset, model };
  const positiveInt = (name: string, v: number) => {
    if (!Number.isInteger(v) || v < 1) throw new ConfigError(`${name} must be a positive integer; got ${v}`);
  };
  positiveInt('batchSize', c.batchSize);
  positiveInt('epochs', c.epochs);
  if (!(c.learningRate > 0 && c.learningRate < 1)) {
    throw new ConfigError(`learningRate must be in (0, 1); got ${c.learningRate}`);
  }
  if (!LR_SCHEDULES.includes(c.lrSchedule)) {
    throw new ConfigError(`lrSchedule must be one of ${LR_SCHEDULES.join(', ')}; got ${JSON.stringify(c.lrSchedule)}`);
  }
  if (!(c.valFraction >= 0 && c.valFraction < 1)) {
    throw new ConfigError(`valFraction must be in [0, 1); got ${c.valFraction}`);
  }
  if (!Number.isInteger(c.workers) || c.workers < 0) {
    throw new ConfigError(`workers must be 0 (one per core) or a positive integer; got ${c.workers}`);
  }
  checkClassWeights(c.classWeights, model.numClasses);
  checkInputShape(model.inputShape);
  return deepFreeze(c);
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

function checkClassWeights(w: ClassWeighting, numClasses: number): void {
  if (w === null || w === 'median-frequency') return;
  if (!Array.isArray(w)) {
    throw new ConfigError(
      `classWeights must be null, 'median-frequency' or one number per class; got ${JSON.stringify(w)}`,
    );
  }
  if (w.length !== numClasses) {
    throw new ConfigError(`classWeights has ${w.length} entries; the model has ${numClasses} classes`);
  }
  const bad = w.findIndex((v) => !(Number.isFinite(v) && v >= 0));
  if (bad >= 0) throw new ConfigError(`classWeights[${bad}] must be a finite number >= 0; got ${w[bad]}`);
}

/** The loss weights of a config whose weighting has been resolved against the data (src/train/class-weights.ts). */
export function lossClassWeights(config: TrainConfig): readonly number[] | null {
  if (config.classWeights === 'median-frequency') {
    throw new ConfigError(
      "classWeights is still 'median-frequency'; resolve it with resolveClassWeights(config, dataset, samples) first",
    );
  }
  return config.classWeights;
}

/** The learning rate at `step` of a run of `totalSteps` steps. */
export function learningRateAt(
  config: Pick<TrainConfig, 'learningRate' | 'lrSchedule'>,
  step: number,
  totalSteps: number,
): number {
  const t = Math.min(1, step / Math.max(1, totalSteps));
  switch (config.lrSchedule) {
    case 'constant':
      return config.learningRate;
    case 'poly':
      return config.learningRate * (1 - t) ** 0.9;
    case 'cosine':
      return config.learningRate * 0.5 * (1 + Math.cos(Math.PI * t));
  }
}
