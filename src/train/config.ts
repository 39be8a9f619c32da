import { Fcn8Config, checkInputShape, resolveFcn8Config } from '../model/config';
import type { BackendChoice } from '../backend';
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
  /** Adam learning rate (report: 1e-4). */
  readonly learningRate: number;
  /** Share of the training split held out for validation, split deterministically by seed. */
  readonly valFraction: number;
  /** Seeds the split, the shuffling, augmentation, init and dropout. */
  readonly seed: number;
  /** Per-class loss weights (length numClasses) or null for none. */
  readonly classWeights: readonly number[] | null;
  readonly augment: AugmentConfig | null;
  /** Worker threads for data-parallel training on wasm; 0 = one per core. */
  readonly workers: number;
}

export type PresetName = 'paper' | 'cpu' | 'smoke';

type Overrides = Partial<Omit<TrainConfig, 'model' | 'preset'>> & { model?: Partial<Fcn8Config> };

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
    batchSize: 10, epochs: 75, learningRate: 1e-4, valFraction: 0.1, seed: 0,
    classWeights: null, augment: NO_AUGMENT, workers: 0,
  },
  cpu: {
    preset: 'cpu',
    model: { inputShape: [96, 288], fc6: 'lite', dropout: 0.1, widthMultiplier: 0.25, l2: 0 },
    batchSize: 4, epochs: 16, learningRate: 1e-3, valFraction: 0.1, seed: 0,
    classWeights: null, augment: { flip: true, colorJitter: 0.1, scaleCrop: null }, workers: 0,
  },
  smoke: {
    preset: 'smoke',
    model: { inputShape: [64, 96], fc6: 'lite', dropout: 0, widthMultiplier: 1 / 16, l2: 0 },
    batchSize: 2, epochs: 2, learningRate: 1e-3, valFraction: 0.25, seed: 0,
    classWeights: null, augment: NO_AUGMENT, workers: 1,
  },
};

/** The preset when none is named: the paper's on a GPU backend, the CPU one otherwise. */
export function defaultPresetFor(backend: BackendChoice): PresetName {
  return backend === 'gpu' || backend === 'webgpu' ? 'paper' : 'cpu';
}

export function isPresetName(name: string): name is PresetName {
  return Object.prototype.hasOwnProperty.call(PRESETS, name);
}

/** Defaults → preset → overrides; validated once, frozen. */
export function resolveTrainConfig(preset: string, overrides: Overrides = {}): TrainConfig {
  if (!isPresetName(preset)) {
    throw new ConfigError(`preset "${preset}" is unknown; use one of ${Object.keys(PRESETS).join(', ')}`);
  }
  const base = PRESETS[preset];
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
  if (!(c.valFraction >= 0 && c.valFraction < 1)) {
    throw new ConfigError(`valFraction must be in [0, 1); got ${c.valFraction}`);
  }
  if (!Number.isInteger(c.workers) || c.workers < 0) {
    throw new ConfigError(`workers must be 0 (one per core) or a positive integer; got ${c.workers}`);
  }
  if (c.classWeights && c.classWeights.length !== model.numClasses) {
    throw new ConfigError(`classWeights has ${c.classWeights.length} entries; the model has ${model.numClasses} classes`);
  }
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
