import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DatasetName } from '../data/types';
import { RUN_FILES, hasCheckpoint, readJson, type TrainState } from '../run/checkpoint';
import { writeJson } from '../util/storage';
import type { TrainConfig } from '../run/config';
import type { EpochLogs } from '../train/loop';
import { runFolderPrefix, type Hyperparameters } from './settings';

/** The notebook's settings of a run, beside runTraining's own files (config.json has no `pretrained`). */
const SETTINGS_FILE = 'notebook-settings.json';

/** A notebook run folder as found on disk: what a restarted kernel and the compare cell read. */
export interface RunFolder {
  dir: string;
  /** Epochs the checkpoint holds. */
  epochsDone: number;
  history: EpochLogs[];
  config: TrainConfig;
  /** The hyperparameters it was started with; null for a folder written before they were saved. */
  settings: Hyperparameters | null;
  /** Training time over all its sessions. */
  minutes: number;
}

/** Records the hyperparameters a run folder trains with. */
export function writeRunSettings(dir: string, hp: Hyperparameters): void {
  fs.mkdirSync(dir, { recursive: true });
  writeJson(path.join(dir, SETTINGS_FILE), hp);
}

/** The run folder's checkpoint, history and settings; null when it holds no checkpoint (nothing to resume). */
export function readRunFolder(dir: string): RunFolder | null {
  if (!hasCheckpoint(dir)) return null;
  const file = (name: string) => path.join(dir, name);
  const history = fs.existsSync(file(RUN_FILES.history)) ? readJson<EpochLogs[]>(file(RUN_FILES.history)) : [];
  return {
    dir,
    epochsDone: readJson<TrainState>(file(RUN_FILES.state)).epoch,
    history,
    config: readJson<TrainConfig>(file(RUN_FILES.config)),
    settings: fs.existsSync(file(SETTINGS_FILE)) ? readJson<Hyperparameters>(file(SETTINGS_FILE)) : null,
    minutes: history.reduce((s, h) => s + h.seconds, 0) / 60,
  };
}

/** The run folders of `dataset` under `root` with a checkpoint, oldest first (by config.json, written at the start). */
export function listRunFolders(root: string, dataset: DatasetName): RunFolder[] {
  if (!fs.existsSync(root)) return [];
  const started = (run: RunFolder) => fs.statSync(path.join(run.dir, RUN_FILES.config)).mtimeMs;
  return fs
    .readdirSync(root)
    .filter((name) => name.startsWith(runFolderPrefix(dataset)))
    .flatMap((name) => readRunFolder(path.join(root, name)) ?? [])
    .sort((a, b) => started(a) - started(b));
}

/** "finished: 16/16 epochs" or "interrupted at epoch 3/16", for a run that should reach `epochs`. */
export function runProgress(run: RunFolder, epochs: number): string {
  return run.epochsDone >= epochs
    ? `finished: ${run.epochsDone}/${epochs} epochs`
    : `interrupted at epoch ${run.epochsDone}/${epochs}`;
}
