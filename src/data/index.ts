/** The public data API: loaders, batches, the built-in road set, checks and archives. */
export * from './types';
export { openDataset, DATASET_NAMES, type OpenDatasetOptions } from './open';
export type { DatasetLoader, DecodedLabel, SplitScan, UnknownLabelValues } from './dataset';
export { resolveRoadDataset, BUILTIN_ROAD_COUNT, BUILTIN_ROAD_SEED } from './default-dataset';
export { splitTrainVal } from './split';
export { loadRgbImage, loadGray8, loadGray16, readPngInfo } from './png';
export { type AugmentOptions, DEFAULT_AUGMENT, NO_AUGMENT, resizeLabelNearest } from './transforms';
export { BatchLoader, type BatchLoaderOptions, CACHE_LIMIT_BYTES } from './batch-loader';
export { synthesizeRoadSet, renderRoadScene, type RoadScene } from './builtin-road';
export { checkDataset, formatCheckReport, type CheckReport, type CheckProblem } from './check';
export { KITTI_ROAD_CLASSES, decodeKittiRoadLabel, type KittiRoadOptions } from './kitti-road';
export { decodeColorLabel, loadColorTable, type ColorTable, type KittiSemanticOptions } from './kitti-semantic';
export { CITYSCAPES_LABELS, cityscapesClasses, type CityscapesClassSet } from './cityscapes-labels';
export { type CityscapesOptions } from './cityscapes';
export { downsizeCityscapes, type DownsizeOptions } from './cityscapes-downsize';
export { downloadKittiRoad, extractZip, importKittiRoad, KITTI_ROAD_URL } from './kitti-road-archive';
