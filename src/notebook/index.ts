/** What the notebooks call: the session (one method per report cell) and the pieces it is made of. */
export { NotebookSession, type SessionOptions, type SessionMetrics } from './session';
export {
  PROJECT_ROOT, figuresDir, formatHyperparameters, hyperparameters, notebookRunDir, presetFromEnv,
  trainConfigOf, type Hyperparameters,
} from './settings';
export { trainInNotebook, lossPoints, type NotebookTrainingOptions } from './train';
export { saveFigures, LOSS_FIGURE_SIZE, type FigureSet } from './figures';
export { labelledGrid, predictionGrid, GRID_CELL_WIDTH, type GridLayout } from './grids';
export { paletteFor } from '../viz/palette';
export {
  showFigure, showPng, showStatus, loadPlotlyOnce, resetPlotlyLoaded, tslabDisplay,
  type NotebookDisplay, type DisplayFactory, type LiveFigure, type StatusLine,
} from './display';
export { rebuildIfStale } from './load';
