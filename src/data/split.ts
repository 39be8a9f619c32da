import { ConfigError } from '../util/errors';
import { createRng, shuffled } from './rng';
import type { SampleRef, SegDataset } from './types';

/**
 * Splits off a validation set deterministically: the samples are sorted by
 * id first, so the split depends only on (ids, valFraction, seed), not on the
 * order the file system listed them in. At least one sample stays on each
 * side when there are two or more.
 */
export function splitTrainVal(
  samples: readonly SampleRef[],
  valFraction: number,
  seed: number,
): { train: SampleRef[]; val: SampleRef[] } {
  if (!(valFraction >= 0 && valFraction < 1)) {
    throw new ConfigError(`validation fraction ${valFraction} must be in [0, 1), e.g. 0.1`);
  }
  const sorted = samples.slice().sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  let numVal = Math.round(sorted.length * valFraction);
  if (valFraction > 0 && sorted.length >= 2) numVal = Math.min(Math.max(numVal, 1), sorted.length - 1);
  const order = shuffled(sorted, createRng(seed));
  const valIds = new Set(order.slice(0, numVal).map((s) => s.id));
  return {
    train: sorted.filter((s) => !valIds.has(s.id)),
    val: sorted.filter((s) => valIds.has(s.id)),
  };
}

/** The training and validation samples of a dataset, and the validation's name for reports. */
export interface TrainValSamples {
  train: SampleRef[];
  val: SampleRef[];
  /** 'val', or e.g. 'holdout (25% of train, seed 0)'. */
  valName: string;
}

/**
 * The one policy for validation: a dataset's own `val` split when it has
 * one, else valFraction of its train split held out by seed (the same
 * images for training, evaluation and the notebooks).
 */
export async function trainValSamples(
  ds: Pick<SegDataset, 'splits' | 'samples'>,
  opts: { valFraction: number; seed: number },
): Promise<TrainValSamples> {
  if (ds.splits.includes('val'))
    return { train: await ds.samples('train'), val: await ds.samples('val'), valName: 'val' };
  const { train, val } = splitTrainVal(await ds.samples('train'), opts.valFraction, opts.seed);
  return { train, val, valName: `holdout (${Math.round(opts.valFraction * 100)}% of train, seed ${opts.seed})` };
}
