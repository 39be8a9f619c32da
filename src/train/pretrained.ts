import type * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import type { Fcn8Config } from '../model/config';
import { transplantVgg16 } from '../model/surgery';
import { readVgg16H5 } from '../model/vgg16-weights';
import { RunError } from '../util/errors';
import { defaultVgg16WeightsPath } from '../model/weights-file';

/** Where the encoder starts: VGG16's file, or from scratch and why (one line for the log). */
export interface PretrainedPlan {
  readonly file: string | null;
  readonly line: string;
}

/**
 * Decides, without reading the file, whether the encoder starts from VGG16's
 * ImageNet weights: `weights` names a file (it must exist); undefined looks in
 * data/weights/; null means from scratch. Reduced widths cannot take VGG16's
 * weights and train from scratch.
 */
export function pretrainedPlan(config: Fcn8Config, weights: string | null | undefined): PretrainedPlan {
  if (weights === null) return { file: null, line: 'from scratch (asked for)' };
  const file = weights ?? defaultVgg16WeightsPath();
  if (!file || !fs.existsSync(file)) {
    if (weights) throw new RunError(`weights file ${weights} does not exist; get it with: npx fcn weights download`);
    return {
      file: null,
      line: 'no VGG16 file in data/weights/; training from scratch (get it with: npx fcn weights download)',
    };
  }
  if (config.widthMultiplier !== 1) {
    return {
      file: null,
      line: `${file} is there, but width ${config.widthMultiplier} != 1 cannot take VGG16's weights; training from scratch`,
    };
  }
  return { file, line: `the encoder starts from ${file}` };
}

/** Applies pretrainedPlan: transplants VGG16's weights when it names a file. Returns the file used, or null. */
export async function loadPretrainedIfPresent(
  model: tf.LayersModel,
  config: Fcn8Config,
  weights: string | null | undefined,
  log: (line: string) => void,
): Promise<string | null> {
  const plan = pretrainedPlan(config, weights);
  if (!plan.file) {
    log(`weights: ${plan.line}`);
    return null;
  }
  const w = await readVgg16H5(plan.file);
  transplantVgg16(model, w, (line) => log(`weights: ${line}`));
  return plan.file;
}
