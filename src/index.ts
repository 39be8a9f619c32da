/**
 * fcn-ts's public API: the functions the CLI and the notebooks call, for use
 * from your own Node code. See README.md for a walk-through.
 */
export { selectBackend, currentBackend, type SelectedBackend, type BackendChoice } from './backend';
export * from './model/config';
export { buildFcn8 } from './model/fcn8';
export { preprocessImages, VGG_MEAN_BGR } from './model/preprocess';
export { pixelCrossEntropy } from './model/loss';
export { readVgg16H5 } from './model/vgg16-weights';
export { transplantVgg16, bilinearUpsampleKernel } from './model/surgery';
export {
  openDataset,
  resolveRoadDataset,
  splitTrainVal,
  loadRgbImage,
  BatchLoader,
  synthesizeRoadSet,
  checkDataset,
  DATASET_NAMES,
  IGNORE_INDEX,
} from './data';
export type { Batch, ClassInfo, DatasetName, LabelMap, RgbImage, SampleRef, SegDataset, Split } from './data';
export { PRESETS, resolveTrainConfig, defaultPresetFor, type TrainConfig, type PresetName } from './run/config';
export { fit, trainStep, type TrainCallbacks, type BatchLogs, type EpochLogs } from './train/loop';
export { runTraining, type RunTrainingOptions, type RunTrainingResult } from './train/run';
export { loadRun, type LoadedRun } from './run/load-run';
export { planMemory, formatMemoryPlan, checkMemoryPlan } from './train/memory-plan';
export * from './eval';
export { predict, type Prediction, type PredictOptions } from './infer/predict';
export { exportForInference } from './infer/export';
export * from './viz';
export * from './util/errors';
