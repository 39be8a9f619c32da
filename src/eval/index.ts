export { createConfusionMatrix, accumulateConfusion, segmentationMetrics } from './confusion';
export type { ConfusionMatrix, ClassMetrics, SegmentationMetrics } from './confusion';
export { ROAD_LEVELS, createRoadCurve, accumulateRoadCurve, roadMetrics } from './kitti-maxf';
export type { RoadCurveAccumulator, RoadCurvePoint, RoadMetrics } from './kitti-maxf';
export { formatMetricsTable } from './format';
export { evaluateBatches, evaluateSamples, collapseWarning } from './evaluate';
export type { EvalOptions, EvalResult, SampleEvalOptions } from './evaluate';
export { findWorstSamples, rankWorst, sampleMeanIoU } from './worst';
