import type * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import type { Fcn8Config } from '../model/config';
import { transplantVgg16 } from '../model/surgery';
import { readVgg16H5 } from '../model/vgg16-weights';
import { RunError } from '../util/errors';
import { defaultVgg16WeightsPath } from '../model/weights-file';

/**
 * Starts the encoder from VGG16's ImageNet weights when a weight file is
 * there: `weights` names one; undefined looks in data/weights/; null means
 * from scratch. Reduced widths cannot take VGG16's weights and train from
 * scratch. Returns the file used, or null.
 */
export async function loadPretrainedIfPresent(
  model: tf.LayersModel,
  config: Fcn8Config,
  weights: string | null | undefined,
  log: (line: string) => void,
): Promise<string | null> {
  if (weights === null) {
    log('weights: from scratch (asked for)');
    return null;
  }
  const file = weights ?? defaultVgg16WeightsPath();
  if (!file || !fs.existsSync(file)) {
    if (weights) throw new RunError(`weights file ${weights} does not exist; get it with: npx fcn weights download`);
    log('weights: no VGG16 file in data/weights/; training from scratch (get it with: npx fcn weights download)');
    return null;
  }
  if (config.widthMultiplier !== 1) {
    log(
      `weights: ${file} is there, but width ${config.widthMultiplier} != 1 cannot take VGG16's weights; training from scratch`,
    );
    return null;
  }
  const w = await readVgg16H5(file);
  transplantVgg16(model, w, (line) => log(`weights: ${line}`));
  return file;
}
