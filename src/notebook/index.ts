/** What the notebooks call: the session (one method per report cell) and the pieces it is made of. */
export { NotebookSession, type SessionOptions, type SessionMetrics } from './session';
export {
  PROJECT_ROOT,
  WRITTEN_PRESET,
  changesInCell,
  describeChanges,
  figuresDir,
  formatHyperparameters,
  hyperparameters,
  notebookRunDir,
  presetFromEnv,
  runsRoot,
  trainConfigOf,
  type Hyperparameters,
} from './settings';
export { settingsSource } from './settings-source';
export { listRunFolders, readRunFolder, type RunFolder } from './run-folder';
export { compareTable, differingSettings, runCurves } from './compare-runs';
export { trainInNotebook, lossPoints, lossTitle, type NotebookTrainingOptions } from './train';
export { saveFigures, writtenFigures, LOSS_FIGURE_SIZE, type FigureSet } from './figures';
export { labelledGrid, predictionGrid, GRID_CELL_WIDTH, type GridLayout } from './grids';
export { paletteFor } from '../viz/palette';
export {
  showFigure,
  showPng,
  showPhotos,
  showStatus,
  embedPlotly,
  loadPlotlyOnce,
  resetPlotlyLoaded,
  tslabDisplay,
  DISPLAY_WIDTH,
  type NotebookDisplay,
  type DisplayFactory,
  type LiveFigure,
  type StatusLine,
} from './display';
