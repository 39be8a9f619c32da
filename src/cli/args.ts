import { InvalidArgumentError } from 'commander';
import { DATASET_NAMES } from '../data';
import type { CamvidClassSet } from '../data/camvid-labels';
import type { DatasetName } from '../data/types';
import { parseInputShape } from '../model/config';
import {
  LR_SCHEDULES,
  PRESETS,
  isPresetName,
  type AugmentConfig,
  type ClassWeighting,
  type LrSchedule,
  type PresetName,
} from '../run/config';
import { ConfigError } from '../util/errors';

/**
 * Every command's flag parsers, in one place. Each names the flag and the
 * value the user typed; commander prints the message and exits 1.
 */

const bad = (flag: string, value: string, expected: string) =>
  new InvalidArgumentError(`${flag} ${value}: ${expected}`);

export const wholeNumber =
  (flag: string) =>
  (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw bad(flag, v, 'must be a whole number >= 0, e.g. 200');
    return n;
  };

export const number =
  (flag: string) =>
  (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n)) throw bad(flag, v, 'must be a number');
    return n;
  };

export const positiveNumber =
  (flag: string) =>
  (v: string): number => {
    const n = Number(v);
    if (!(n > 0) || !Number.isFinite(n)) throw bad(flag, v, 'must be a positive number');
    return n;
  };

export const datasetName = (v: string): DatasetName => {
  if (!(DATASET_NAMES as readonly string[]).includes(v))
    throw bad('--dataset', v, `use one of ${DATASET_NAMES.join(', ')}`);
  return v as DatasetName;
};

export const PRESET_CHOICES = Object.keys(PRESETS).join(', ');

export const presetName = (v: string): PresetName => {
  if (!isPresetName(v)) throw bad('--preset', v, `use one of ${PRESET_CHOICES}`);
  return v;
};

export const inputSize = (v: string): [number, number] => {
  try {
    return parseInputShape(v);
  } catch (err) {
    if (err instanceof ConfigError) throw bad('--input', v, err.message);
    throw err;
  }
};

/** "512x256" (width x height, as the reference wrote it) -> [height, width]. */
export const widthHeight =
  (flag: string) =>
  (v: string): [number, number] => {
    const m = /^(\d+)x(\d+)$/.exec(v.trim());
    if (!m) throw bad(flag, v, 'is not WIDTHxHEIGHT; use e.g. 512x256');
    return [Number(m[2]), Number(m[1])];
  };

export const lrSchedule = (v: string): LrSchedule => {
  if (!(LR_SCHEDULES as readonly string[]).includes(v))
    throw bad('--lr-schedule', v, `use one of ${LR_SCHEDULES.join(', ')}`);
  return v as LrSchedule;
};

/** --augment none | flip,jitter=0.1,scale=1-1.5 (any of the three). */
export const augmentation = (v: string): AugmentConfig | null => {
  if (v === 'none') return null;
  let flip = false,
    colorJitter = 0,
    scaleCrop: [number, number] | null = null;
  for (const part of v.split(',')) {
    const [key, value = ''] = part.split('=');
    const range = /^([\d.]+)-([\d.]+)$/.exec(value);
    if (key === 'flip' && !value) flip = true;
    else if (key === 'jitter' && Number(value) >= 0 && Number(value) < 1) colorJitter = Number(value);
    else if (key === 'scale' && range) scaleCrop = [Number(range[1]), Number(range[2])];
    else throw bad('--augment', v, `"${part}" is not flip, jitter=J (0 <= J < 1) or scale=LO-HI; or use none`);
  }
  return { flip, colorJitter, scaleCrop };
};

/** --class-weights none | median-frequency | w0,w1,… */
export const classWeighting = (v: string): ClassWeighting => {
  if (v === 'none') return null;
  if (v === 'median-frequency') return v;
  const w = v.split(',').map(Number);
  if (w.length < 2 || w.some((x) => !Number.isFinite(x) || x < 0)) {
    throw bad('--class-weights', v, 'use none, median-frequency or comma-separated weights >= 0 (one per class)');
  }
  return w;
};

export const camvidClasses = (v: string): CamvidClassSet => {
  if (v !== '11' && v !== '32') throw bad('--classes', v, "CamVid has 11 (SegNet's grouping) or 32");
  return Number(v) as CamvidClassSet;
};

/** Config fields that a `fcn train` flag sets, so that a rejected value is reported under the flag typed. */
const FLAG_OF_FIELD: Record<string, string> = {
  learningRate: '--lr',
  batchSize: '--batch-size',
  epochs: '--epochs',
  workers: '--workers',
  widthMultiplier: '--width',
  inputShape: '--input',
  classWeights: '--class-weights',
  lrSchedule: '--lr-schedule',
  fc6: '--fc6',
};

/**
 * Runs `resolve` (a config built from flags) and, when it rejects a field a
 * flag set, names the flag: `--lr -1: learningRate must be in (0, 1); got -1`.
 */
export function withFlagNames<T>(flags: Record<string, unknown>, resolve: () => T): T {
  try {
    return resolve();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const field = Object.keys(FLAG_OF_FIELD).find((f) => err.message.startsWith(f));
    const flag = field && FLAG_OF_FIELD[field];
    const key = flag?.slice(2).replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
    if (!flag || key === undefined || flags[key] === undefined) throw err;
    const value = flags[key];
    // Values as typed: `--input 96,288`, not JSON.
    const typed = Array.isArray(value)
      ? value.join(',')
      : typeof value === 'string' || typeof value === 'number'
        ? String(value)
        : JSON.stringify(value);
    throw new InvalidArgumentError(`${flag} ${typed}: ${err.message}`);
  }
}
