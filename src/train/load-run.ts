import type * as tf from '@tensorflow/tfjs';
import * as path from 'node:path';
import type { OpenDatasetOptions } from '../data/open';
import type { DatasetName } from '../data/types';
import { RUN_FILES, loadRunModel, readJson } from './checkpoint';
import type { TrainConfig } from './config';

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

/** Loads a run folder's model, config and dataset record, for eval and predict. */
export async function loadRun(dir: string): Promise<LoadedRun> {
  const model = await loadRunModel(dir);
  const config = readJson<TrainConfig>(path.join(dir, RUN_FILES.config));
  const dataset = readJson<RunDataset>(path.join(dir, RUN_FILES.dataset));
  return { dir, config, dataset, model };
}
