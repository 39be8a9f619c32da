import sharp from 'sharp';
import { newPlotScript, plotlyScriptElement, type PlotlyFigure } from '../viz/curves';

/**
 * The part of tslab's Display the notebooks use. Each call on one display
 * replaces what it showed before (Jupyter update_display_data), so a chart
 * or a progress line updates in place instead of piling up outputs.
 */
export interface NotebookDisplay {
  html(s: string): void;
  text(s: string): void;
  png(b: Uint8Array): void;
  jpeg(b: Uint8Array): void;
}

/** Makes a new in-place display; tests pass their own. */
export type DisplayFactory = () => NotebookDisplay;

/**
 * tslab's own display, loaded on first use: requiring tslab pulls in its
 * TypeScript compiler, which the CLI and the tests of this module never need.
 */
export const tslabDisplay: DisplayFactory = () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: see above
  const tslab = require('tslab') as { newDisplay(): NotebookDisplay };
  return tslab.newDisplay();
};

// On globalThis, not in this module, so that the import cell's reload of dist/ does not load plotly.js a second time.
const PLOTLY_LOADED = Symbol.for('fcn-ts.notebook.plotlyLoaded');
type PlotlyFlag = { [PLOTLY_LOADED]?: boolean };

/**
 * Puts the minified plotly.js into the notebook as an output of its own, so
 * the saved notebook (and its HTML export) renders every later chart with no
 * network. The hyperparameters cell calls it on each run: its output then
 * always holds the one copy, even when the training cell is re-run.
 * plotly.js-dist-min sets window.Plotly; it has no AMD branch that the
 * notebook's require.js could capture.
 */
export function embedPlotly(makeDisplay: DisplayFactory = tslabDisplay): void {
  makeDisplay().html(plotlyScriptElement());
  (globalThis as PlotlyFlag)[PLOTLY_LOADED] = true;
}

/** embedPlotly unless this kernel has sent plotly.js already. */
export function loadPlotlyOnce(makeDisplay: DisplayFactory = tslabDisplay): void {
  if (!(globalThis as PlotlyFlag)[PLOTLY_LOADED]) embedPlotly(makeDisplay);
}

/** Forgets that plotly.js was sent (a test's fresh "kernel"). */
export function resetPlotlyLoaded(): void {
  delete (globalThis as PlotlyFlag)[PLOTLY_LOADED];
}

let figureCount = 0;

/** A chart shown in one output; `update` redraws it there. */
export interface LiveFigure {
  update(spec: PlotlyFigure): void;
}

/**
 * Shows a Plotly figure inline and returns a handle that replaces it in
 * place. Each update gets a fresh element id: Jupyter swaps the whole output,
 * and a reused id could point Plotly at the element being removed.
 */
export function showFigure(
  spec: PlotlyFigure,
  opts: { height?: number; makeDisplay?: DisplayFactory } = {},
): LiveFigure {
  const makeDisplay = opts.makeDisplay ?? tslabDisplay;
  loadPlotlyOnce(makeDisplay);
  const display = makeDisplay();
  const height = opts.height ?? 420;
  const draw = (s: PlotlyFigure) => {
    const id = `fcn-figure-${process.pid}-${++figureCount}`;
    display.html(
      `<div id="${id}" class="fcn-figure" style="width:100%;height:${height}px"></div>\n${newPlotScript(id, s)}`,
    );
  };
  draw(spec);
  return { update: draw };
}

/** Shows a PNG inline (it is saved in the notebook as image/png): charts, masks, anything with sharp edges. */
export function showPng(png: Uint8Array, makeDisplay: DisplayFactory = tslabDisplay): void {
  makeDisplay().png(png);
}

/** Widest image the notebooks show: about the width of a Jupyter output area. */
export const DISPLAY_WIDTH = 960;

/**
 * Shows a grid of photos inline as a JPEG at display width (never enlarged):
 * a 2x2 grid of KITTI frames is about 1 MB as a full-size PNG and a tenth of
 * that as this JPEG, which keeps the saved notebook small.
 */
export async function showPhotos(image: Uint8Array, makeDisplay: DisplayFactory = tslabDisplay): Promise<void> {
  const jpeg = await sharp(image)
    .resize({ width: DISPLAY_WIDTH, withoutEnlargement: true })
    .flatten({ background: '#ffffff' })
    .jpeg({ quality: 85, mozjpeg: true })
    .toBuffer();
  makeDisplay().jpeg(jpeg);
}

/** A line of text that each `set` replaces: the training progress line. */
export interface StatusLine {
  set(text: string): void;
}

export function showStatus(text: string, makeDisplay: DisplayFactory = tslabDisplay): StatusLine {
  const display = makeDisplay();
  display.text(text);
  return { set: (t) => display.text(t) };
}
