import * as fs from 'node:fs';
import type { PlotlyFigure } from '../viz/curves';

/**
 * The part of tslab's Display the notebooks use. Each call on one display
 * replaces what it showed before (Jupyter update_display_data), so a chart
 * or a progress line updates in place instead of piling up outputs.
 */
export interface NotebookDisplay {
  html(s: string): void;
  text(s: string): void;
  png(b: Uint8Array): void;
}

/** Makes a new in-place display; tests pass their own. */
export type DisplayFactory = () => NotebookDisplay;

/**
 * tslab's own display, loaded on first use: requiring tslab pulls in its
 * TypeScript compiler, which the CLI and the tests of this module never need.
 */
export const tslabDisplay: DisplayFactory = () => {
  const tslab = require('tslab') as { newDisplay(): NotebookDisplay };
  return tslab.newDisplay();
};

// On globalThis, not in this module, so that the import cell's reload of dist/ does not load plotly.js a second time.
const PLOTLY_LOADED = Symbol.for('fcn-ts.notebook.plotlyLoaded');
type PlotlyFlag = { [PLOTLY_LOADED]?: boolean };

/**
 * Puts plotly.js into the notebook once per kernel, as an output of its own,
 * so the saved notebook (and its HTML export) renders charts with no network.
 * plotly.js-dist sets window.Plotly; it has no AMD branch that the notebook's
 * require.js could capture.
 */
export function loadPlotlyOnce(makeDisplay: DisplayFactory = tslabDisplay): void {
  const flag = globalThis as PlotlyFlag;
  if (flag[PLOTLY_LOADED]) return;
  const source = fs.readFileSync(require.resolve('plotly.js-dist'), 'utf8');
  makeDisplay().html(`<script type="text/javascript">${source}</script>`);
  flag[PLOTLY_LOADED] = true;
}

/** Forgets that plotly.js was sent (a test's fresh "kernel"). */
export function resetPlotlyLoaded(): void {
  delete (globalThis as PlotlyFlag)[PLOTLY_LOADED];
}

/** JSON that is safe inside a <script> element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
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
export function showFigure(spec: PlotlyFigure, opts: { height?: number; makeDisplay?: DisplayFactory } = {}): LiveFigure {
  const makeDisplay = opts.makeDisplay ?? tslabDisplay;
  loadPlotlyOnce(makeDisplay);
  const display = makeDisplay();
  const height = opts.height ?? 420;
  const draw = (s: PlotlyFigure) => {
    const id = `fcn-figure-${process.pid}-${++figureCount}`;
    display.html(
      `<div id="${id}" class="fcn-figure" style="width:100%;height:${height}px"></div>\n` +
      `<script type="text/javascript">Plotly.newPlot(${scriptJson(id)}, ${scriptJson(s.data)}, ${scriptJson(s.layout)}, {responsive: true});</script>`);
  };
  draw(spec);
  return { update: draw };
}

/** Shows a PNG inline (it is saved in the notebook as image/png). */
export function showPng(png: Uint8Array, makeDisplay: DisplayFactory = tslabDisplay): void {
  makeDisplay().png(png);
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
