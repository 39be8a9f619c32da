import { ConfigError } from '../util/errors';
import { createRng, shuffled } from './rng';
import type { SampleRef } from './types';

/**
 * Splits off a validation set deterministically: the samples are sorted by
 * id first, so the split depends only on (ids, valFraction, seed), not on the
 * order the file system listed them in. At least one sample stays on each
 * side when there are two or more.
 */
export function splitTrainVal(
  samples: readonly SampleRef[], valFraction: number, seed: number,
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
