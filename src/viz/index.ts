export { paletteFromClasses, ROAD_PALETTE } from './palette';
export type { Palette, Rgb } from './palette';
export { overlay } from './overlay';
export type { OverlayOptions } from './overlay';
export { imageGrid, legendStrip } from './grid';
export type { GridOptions } from './grid';
export { encodePng, sharpFromRgb } from './png';
export { lossChart, confusionHeatmap, figureHtml } from './curves';
export type { PlotlyFigure, PlotlyTrace, EpochLosses, ConfusionCounts, FigureHtmlOptions } from './curves';
