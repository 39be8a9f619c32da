import { ConfigError } from '../util/errors';

/** fc6/fc7 as convolutions. */
export interface Fc6Config {
  /** Output channels of fc6 and fc7 (paper: 4096). */
  readonly filters: number;
  /** Spatial kernel of fc6 (paper: 7). */
  readonly kernelSize: number;
  /** Dilation of fc6 (paper: 1). */
  readonly dilation: number;
}

/** The paper's fc6: 7x7x512x4096, as VGG16's fc1 reshaped to a convolution. */
export const FC6_PAPER: Fc6Config = Object.freeze({ filters: 4096, kernelSize: 7, dilation: 1 });
/**
 * DeepLab-LargeFOV's reduction of the same weights: 3x3 taps (every 3rd of
 * the 7x7) and every 4th channel, dilated so that the field of view stays
 * close to 7x7. About 1/45 of the paper fc6/fc7 parameters.
 */
export const FC6_LITE: Fc6Config = Object.freeze({ filters: 1024, kernelSize: 3, dilation: 3 });

export type Fc6Variant = 'paper' | 'lite';

export interface Fcn8Config {
  /** Classes the model predicts, background included (KITTI Road: 2). */
  readonly numClasses: number;
  /** [height, width] of training inputs; multiples of 32 (default 160x576, the report's). */
  readonly inputShape: readonly [number, number];
  /** fc6/fc7 layout: a preset name or explicit numbers (default 'paper'). */
  readonly fc6: Fc6Variant | Fc6Config;
  /** Dropout after fc6 and fc7 (paper: 0.5). */
  readonly dropout: number;
  /**
   * Scale of the pool4 / pool3 skips before their score layers: 'atonce'
   * multiplies pool4 by 0.01 and pool3 by 0.0001 as voc-fcn8s-atonce does;
   * 'none' uses them unscaled (default 'none').
   */
  readonly skipScale: 'atonce' | 'none';
  /** Channel multiplier of every conv layer (1 = VGG16; tests use small widths). */
  readonly widthMultiplier: number;
  /** L2 factor on conv kernels, 0 = off (the reference used 1e-3). */
  readonly l2: number;
  /** Seed for the random initialisers, so a build is reproducible. */
  readonly seed: number;
}

export const DEFAULT_FCN8_CONFIG: Fcn8Config = Object.freeze({
  numClasses: 2,
  inputShape: [160, 576] as const,
  fc6: 'paper',
  dropout: 0.5,
  skipScale: 'none',
  widthMultiplier: 1,
  l2: 0,
  seed: 0,
});

/** The encoder's total stride: inputs must be multiples of it. */
export const FCN_STRIDE = 32;

export function resolveFc6(fc6: Fcn8Config['fc6']): Fc6Config {
  if (fc6 === 'paper') return FC6_PAPER;
  if (fc6 === 'lite') return FC6_LITE;
  if (typeof fc6 === 'object' && fc6 !== null) return fc6;
  throw new ConfigError(`fc6 must be 'paper', 'lite' or {filters, kernelSize, dilation}; got ${JSON.stringify(fc6)}`);
}

/** Rounds `n` up to a multiple of the encoder stride. */
export function padToStride(n: number): number {
  return Math.ceil(n / FCN_STRIDE) * FCN_STRIDE;
}

/** Parses "160x576" (height x width) as used by the CLI's --input. */
export function parseInputShape(text: string): [number, number] {
  const m = /^(\d+)x(\d+)$/.exec(text.trim());
  if (!m) throw new ConfigError(`input size "${text}" is not HEIGHTxWIDTH; use e.g. 160x576`);
  const shape: [number, number] = [Number(m[1]), Number(m[2])];
  checkInputShape(shape);
  return shape;
}

export function checkInputShape(shape: readonly [number, number]): void {
  const [h, w] = shape;
  if (!Number.isInteger(h) || !Number.isInteger(w) || h <= 0 || w <= 0) {
    throw new ConfigError(`input size ${h}x${w} must be two positive integers, e.g. 160x576`);
  }
  if (h % FCN_STRIDE !== 0 || w % FCN_STRIDE !== 0) {
    throw new ConfigError(`input ${h}x${w} is not divisible by ${FCN_STRIDE}; use ${padToStride(h)}x${padToStride(w)}`);
  }
}

/** Copies `partial` over the defaults, validates, and freezes (style.md "Config flow"). */
export function resolveFcn8Config(partial: Partial<Fcn8Config> = {}): Fcn8Config {
  const c = { ...DEFAULT_FCN8_CONFIG, ...partial };
  if (!Number.isInteger(c.numClasses) || c.numClasses < 2) {
    throw new ConfigError(`numClasses must be an integer >= 2; got ${c.numClasses}`);
  }
  checkInputShape(c.inputShape);
  resolveFc6(c.fc6);
  if (!(c.dropout >= 0 && c.dropout < 1)) throw new ConfigError(`dropout must be in [0, 1); got ${c.dropout}`);
  if (c.skipScale !== 'atonce' && c.skipScale !== 'none') {
    throw new ConfigError(`skipScale must be 'atonce' or 'none'; got ${JSON.stringify(c.skipScale)}`);
  }
  if (!(c.widthMultiplier > 0 && c.widthMultiplier <= 1)) {
    throw new ConfigError(`widthMultiplier must be in (0, 1]; got ${c.widthMultiplier}`);
  }
  if (!(c.l2 >= 0)) throw new ConfigError(`l2 must be >= 0; got ${c.l2}`);
  return Object.freeze({
    ...c,
    inputShape: Object.freeze<[number, number]>([c.inputShape[0], c.inputShape[1]]),
  });
}

/** VGG16's conv blocks: [layer name, filters at width 1]. Keras names are the contract with the weight files. */
export const VGG16_BLOCKS: readonly (readonly [string, number])[][] = [
  [
    ['block1_conv1', 64],
    ['block1_conv2', 64],
  ],
  [
    ['block2_conv1', 128],
    ['block2_conv2', 128],
  ],
  [
    ['block3_conv1', 256],
    ['block3_conv2', 256],
    ['block3_conv3', 256],
  ],
  [
    ['block4_conv1', 512],
    ['block4_conv2', 512],
    ['block4_conv3', 512],
  ],
  [
    ['block5_conv1', 512],
    ['block5_conv2', 512],
    ['block5_conv3', 512],
  ],
];

/** Channels of a layer at a width multiplier (at least 1). */
export function scaledWidth(filters: number, widthMultiplier: number): number {
  return Math.max(1, Math.round(filters * widthMultiplier));
}
