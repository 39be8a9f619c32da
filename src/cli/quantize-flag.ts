import { InvalidArgumentError } from 'commander';
import { parseWeightQuantization, type WeightQuantization } from '../infer/quantize';

/** Commander's parser for --quantize: a bad value is a usage error, shown with the command's help. */
export function quantizeFlag(v: string): WeightQuantization {
  try {
    return parseWeightQuantization(v);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}
