import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { selectBackend, type SelectedBackend } from '../backend';
import { BatchLoader, openDataset, resolveRoadDataset, trainValSamples, type OpenDatasetOptions } from '../data';
import type { DatasetName, SegDataset } from '../data/types';
import { DATASETS } from '../data/registry';
import { evaluateBatches, type EvalResult } from '../eval/evaluate';
import { scoredSplit, writeRunMetrics } from '../eval/scored-split';
import { buildFcn8 } from '../model/fcn8';
import { RunError, StorageError } from '../util/errors';
import { writeJson } from '../util/storage';
import { loadPretrainedIfPresent } from './pretrained';
import {
  RUN_FILES,
  TRAINER_FILE,
  checkCheckpointSpace,
  checkpointBytes,
  hasCheckpoint,
  loadRunModel,
  loadTrainState,
  otherTrainer,
  readJson,
  recoverCheckpoint,
  saveCheckpoint,
  type TrainState,
} from '../run/checkpoint';
import { readRunConfig } from '../run/load-run';
import { resolveClassWeights } from './class-weights';
import { resolveTrainConfig, type TrainConfig } from '../run/config';
import { adamOptimizer } from './adam';
import { fit, type EpochLogs, type FitOutcome, type StopFlag, type TrainCallbacks } from './loop';
import { planMemory, formatMemoryPlan, checkMemoryPlan } from './memory-plan';
import { createDataParallelStepper, resolveLanes, type DataParallelStepper } from './workers';

export interface DatasetChoice {
  name: DatasetName;
  dir: string;
  /** Loader options (e.g. CamVid's class set); saved in dataset.json so evaluation opens it the same way. */
  options?: OpenDatasetOptions;
}

export interface RunTrainingOptions {
  config: TrainConfig;
  /** The dataset; null/undefined = KITTI Road in data/data_road, else the built-in road set. */
  dataset?: DatasetChoice | null;
  /** The run folder (runs/<name>). */
  runDir: string;
  /** Continue from the run folder's last checkpoint. */
  resume?: boolean;
  /** VGG16 .h5 to start from; undefined = data/weights/ if present, null = from scratch. */
  weights?: string | null;
  callbacks?: TrainCallbacks;
  stop?: StopFlag;
  /** One line at a time: backend, data, plan, checkpoints. Defaults to console.error. */
  log?: (line: string) => void;
  /** Progress bar while a set is first decoded. */
  progress?: boolean;
  /** Decode training images from disk every epoch instead of keeping them in memory (default: by size). */
  stream?: boolean;
}

export interface RunTrainingResult {
  runDir: string;
  backend: SelectedBackend;
  outcome: FitOutcome;
  history: EpochLogs[];
  /** Validation scores of the final model (null when there is no validation split). */
  evaluation: EvalResult | null;
  /** Outputs that could not be written (disk full), one message each; the checkpoint is not among them. */
  notSaved: string[];
}

/** Opens the named dataset, or the default road set with its one-line note. */
export async function openTrainingDataset(
  choice: DatasetChoice | null | undefined,
  log: (l: string) => void,
): Promise<SegDataset> {
  if (choice) return openDataset(choice.name, choice.dir, choice.options);
  const road = await resolveRoadDataset();
  log(road.note);
  return openDataset(road.name, road.dir);
}

/** The same config with the dataset's class count (the one thing the data decides). */
function withClasses(config: TrainConfig, numClasses: number): TrainConfig {
  if (config.model.numClasses === numClasses) return config;
  const { preset, model, ...rest } = config;
  return resolveTrainConfig(preset, { ...rest, model: { ...model, numClasses } });
}

/**
 * Trains an FCN-8 into a run folder, end to end: backend, data, memory plan,
 * model (fresh, pretrained encoder, or resumed), the loop with a checkpoint
 * every epoch, and a final validation. The CLI and the notebooks call this.
 */
export async function runTraining(opts: RunTrainingOptions): Promise<RunTrainingResult> {
  const log = opts.log ?? ((l: string) => console.error(l));
  const backend = await selectBackend({ log });
  const ds = await openTrainingDataset(opts.dataset, log);
  const runDir = opts.runDir;
  const trainer = otherTrainer(runDir);
  if (trainer !== null) {
    throw new RunError(
      `run folder ${runDir} is being trained by process ${trainer}; wait for it, stop it, or pick another --out`,
    );
  }
  recoverCheckpoint(runDir);
  const resuming = Boolean(opts.resume) && hasCheckpoint(runDir);
  if (!opts.resume && hasCheckpoint(runDir)) {
    throw new RunError(
      `run folder ${runDir} already holds a checkpoint; continue it with --resume, or pick another --out`,
    );
  }
  let config = withClasses(opts.config, ds.classes.length);
  if (resuming) {
    const saved = readRunConfig(runDir);
    // Only the epoch count (train longer) and the worker threads may change on resume; the rest must match.
    config = resolveTrainConfig(saved.preset, { ...saved, epochs: opts.config.epochs, workers: opts.config.workers });
  }

  const plan = planMemory(config, backend);
  log(formatMemoryPlan(plan));
  checkMemoryPlan(plan);
  const spaceWarning = checkCheckpointSpace(runDir, checkpointBytes(plan.params));
  if (spaceWarning) log(`warning: ${spaceWarning}`);

  const { train, val, valName } = await trainValSamples(ds, config);
  log(
    `data: ${ds.name} at ${ds.dir}: ${train.length} training, ${val.length} validation images, ${ds.classes.length} classes`,
  );
  if (config.classWeights === 'median-frequency') {
    config = await resolveClassWeights(config, ds, train, { progress: opts.progress });
    log(
      `class weights (median frequency): ${(config.classWeights as readonly number[]).map((w, i) => `${ds.classes[i].name} ${w}`).join(', ')}`,
    );
  }
  const trainLoader = new BatchLoader(ds, train, {
    inputShape: config.model.inputShape,
    batchSize: config.batchSize,
    shuffle: true,
    seed: config.seed,
    augment: config.augment ?? false,
    progress: opts.progress,
    stream: opts.stream,
  });
  const valLoader = val.length
    ? new BatchLoader(ds, val, {
        inputShape: config.model.inputShape,
        batchSize: config.batchSize,
        shuffle: false,
        seed: config.seed,
        augment: false,
        progress: opts.progress,
      })
    : null;

  const optimizer = adamOptimizer(config.learningRate);
  let model: tf.LayersModel;
  let state: TrainState;
  let history: EpochLogs[] = [];
  if (resuming) {
    model = await loadRunModel(runDir);
    state = await loadTrainState(runDir, optimizer);
    const historyPath = path.join(runDir, RUN_FILES.history);
    // A checkpoint copied back from previous/ is older than the history written after it.
    history = (fs.existsSync(historyPath) ? readJson<EpochLogs[]>(historyPath) : []).slice(0, state.epoch);
    log(
      `resume: ${runDir} at epoch ${state.epoch}${state.batchInEpoch ? `, batch ${state.batchInEpoch}` : ''}, step ${state.step}`,
    );
  } else {
    fs.mkdirSync(runDir, { recursive: true });
    model = buildFcn8(config.model);
    await loadPretrainedIfPresent(model, config.model, opts.weights, log);
    state = { epoch: 0, step: 0, batchInEpoch: 0, partial: { lossSum: 0, regSum: 0, batches: 0 } };
    writeJson(path.join(runDir, RUN_FILES.config), config);
    writeJson(path.join(runDir, RUN_FILES.dataset), {
      name: ds.name,
      dir: ds.dir,
      classes: ds.classes,
      ...(opts.dataset?.options && { options: opts.dataset.options }),
    });
  }

  const classNames = ds.classes.map((c) => c.name);
  const { roadClass } = DATASETS[ds.name];
  const save = async (s: TrainState) => {
    await saveCheckpoint(runDir, model, optimizer, s);
    writeJson(
      path.join(runDir, RUN_FILES.history),
      history,
      `The checkpoint (epoch ${s.epoch}) is complete; free some space, then continue with: npx fcn train --out ${runDir} --resume`,
    );
  };
  const callbacks: TrainCallbacks = {
    onBatchEnd: opts.callbacks?.onBatchEnd,
    async onEpochEnd(epoch, logs, s) {
      history.push(logs);
      for (const w of logs.warnings) log(`warning: ${w}`);
      await opts.callbacks?.onEpochEnd?.(epoch, logs, s);
    },
  };
  // wasm runs one core per process: split each batch over worker threads, one lane per core.
  const lanes = Math.min(resolveLanes(config.workers), config.batchSize);
  let parallel: DataParallelStepper | null = null;
  if (backend.choice === 'wasm' && lanes > 1) {
    parallel = await createDataParallelStepper({
      model,
      optimizer,
      config,
      workers: lanes,
      ignoreIndex: ds.ignoreIndex,
    });
    log(`train: data-parallel over ${lanes} lanes (this thread + ${lanes - 1} worker thread${lanes > 2 ? 's' : ''})`);
  }
  let outcome: FitOutcome;
  const trainerFile = path.join(runDir, TRAINER_FILE);
  try {
    writeJson(trainerFile, process.pid);
    outcome = await fit({
      config,
      model,
      optimizer,
      train: trainLoader,
      val: valLoader,
      classNames,
      ignoreIndex: ds.ignoreIndex,
      roadClass,
      state,
      callbacks,
      save,
      stop: opts.stop,
      stepper: parallel?.stepper,
    });
  } catch (err) {
    model.dispose();
    optimizer.dispose();
    throw err;
  } finally {
    fs.rmSync(trainerFile, { force: true });
    await parallel?.close();
  }
  for (const s of [...trainLoader.skipped, ...(valLoader?.skipped ?? [])])
    log(`warning: skipped ${s.path}: ${s.reason}`);

  let evaluation: EvalResult | null = null;
  const notSaved: string[] = [];
  if (outcome === 'done' && valLoader) {
    evaluation = await evaluateBatches(model, valLoader.epoch(0), {
      classNames,
      ignoreIndex: ds.ignoreIndex,
      roadClass,
    });
    try {
      writeRunMetrics(
        runDir,
        scoredSplit(evaluation, { split: valName, dataset: ds.name, dir: ds.dir, images: val.length }),
        'The trained model is saved; the scores are printed here, and `npx fcn eval` computes them again.',
      );
    } catch (err) {
      if (!(err instanceof StorageError)) throw err;
      notSaved.push(err.message);
      log(`warning: ${err.message}`);
    }
  }
  model.dispose();
  optimizer.dispose();
  return { runDir, backend, outcome, history, evaluation, notSaved };
}
