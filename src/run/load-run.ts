import type * as tf from '@tensorflow/tfjs';
import * as path from 'node:path';
import type { OpenDatasetOptions } from '../data/open';
import type { DatasetName } from '../data/types';
import { ConfigError, RunError } from '../util/errors';
import { RUN_FILES, loadRunModel, readJson, requireCheckpoint } from './checkpoint';
import { resolveTrainConfig, type TrainConfig } from './config';

/** Which data a run was trained on (runs/<name>/dataset.json). */
export interface RunDataset {
  name: DatasetName;
  dir: string;
  classes: { name: string; color: readonly [number, number, number] }[];
  /** The loader options it was opened with (e.g. CamVid's class set). */
  options?: OpenDatasetOptions;
}

export interface LoadedRun {
  dir: string;
  config: TrainConfig;
  dataset: RunDataset;
  model: tf.LayersModel;
}

/**
 * A run folder's config.json, checked by the same rules as a new config, so
 * that one edited by hand into an invalid one names its file and field.
 */
export function readRunConfig(dir: string): TrainConfig {
  const file = path.join(dir, RUN_FILES.config);
  const saved = readJson<TrainConfig>(file);
  if (typeof saved !== 'object' || saved === null || typeof saved.model !== 'object' || saved.model === null) {
    throw new RunError(`${file} has no "model" object; the run folder is damaged. Restore the file or train again.`);
  }
  try {
    return resolveTrainConfig(saved.preset, saved);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new RunError(`${file}: ${err.message}. Fix that field (it must match the checkpoint), or train again.`);
  }
}

/** Loads a run folder's model, config and dataset record, for eval and predict. */
export async function loadRun(dir: string): Promise<LoadedRun> {
  requireCheckpoint(dir);
  const config = readRunConfig(dir);
  const model = await loadRunModel(dir);
  const dataset = readJson<RunDataset>(path.join(dir, RUN_FILES.dataset));
  return { dir, config, dataset, model };
}
