import * as fs from 'node:fs';
import { ConfigError } from '../util/errors';

/**
 * Plotly figures as plain JSON specs: a notebook hands them to its Plotly
 * display, `figureHtml` turns them into a page that renders offline.
 */
export interface PlotlyTrace {
  readonly type: 'scatter' | 'heatmap';
  readonly name?: string;
  readonly [key: string]: unknown;
}

export interface PlotlyFigure {
  readonly data: readonly PlotlyTrace[];
  readonly layout: Readonly<Record<string, unknown>>;
}

export interface EpochLosses {
  readonly epoch: number;
  readonly trainLoss: number;
  /** null for epochs without a validation pass. */
  readonly valLoss: number | null;
  /** The L2 term alone, where the run has one. */
  readonly regLoss?: number;
}

/** Train and validation loss per epoch; the regularisation term as a dashed third trace when recorded. */
export function lossChart(history: readonly EpochLosses[], opts: { title?: string } = {}): PlotlyFigure {
  const lines = (name: string, points: readonly (readonly [number, number])[], dash?: string): PlotlyTrace => ({
    type: 'scatter',
    mode: 'lines+markers',
    name,
    x: points.map((p) => p[0]),
    y: points.map((p) => p[1]),
    ...(dash ? { line: { dash } } : {}),
  });
  const data = [
    lines(
      'train',
      history.map((h) => [h.epoch, h.trainLoss] as const),
    ),
    lines(
      'validation',
      history.flatMap((h) => (h.valLoss === null ? [] : [[h.epoch, h.valLoss] as const])),
    ),
  ];
  const reg = history.flatMap((h) => (h.regLoss === undefined ? [] : [[h.epoch, h.regLoss] as const]));
  if (reg.length > 0) data.push(lines('regularisation', reg, 'dash'));
  return {
    data,
    layout: {
      title: { text: opts.title ?? 'Loss' },
      xaxis: { title: { text: 'epoch' } },
      yaxis: { title: { text: 'loss' } },
    },
  };
}

/** A square count matrix, row-major, rows = ground truth (src/eval ConfusionMatrix fits). */
export interface ConfusionCounts {
  readonly numClasses: number;
  readonly counts: ArrayLike<number>;
}

/**
 * Each row divided by its ground-truth total, so cell (i, j) is the share of
 * class i's pixels predicted as j; rows of classes absent from the ground
 * truth are null (blank), not 0.
 */
export function confusionHeatmap(cm: ConfusionCounts, classNames: readonly string[]): PlotlyFigure {
  const n = cm.numClasses;
  if (classNames.length !== n || cm.counts.length !== n * n) {
    throw new ConfigError(
      `confusion matrix has ${n} classes and ${cm.counts.length} cells, but ${classNames.length} names were given; pass one name per class`,
    );
  }
  const z: (number | null)[][] = [];
  for (let gt = 0; gt < n; gt++) {
    let total = 0;
    for (let pred = 0; pred < n; pred++) total += cm.counts[gt * n + pred];
    const row: (number | null)[] = [];
    for (let pred = 0; pred < n; pred++) row.push(total === 0 ? null : cm.counts[gt * n + pred] / total);
    z.push(row);
  }
  return {
    data: [
      {
        type: 'heatmap',
        name: 'confusion',
        z,
        x: [...classNames],
        y: [...classNames],
        zmin: 0,
        zmax: 1,
        colorscale: 'Blues',
        reversescale: true, // Plotly's Blues runs dark to light; a perfect row should be dark
        texttemplate: '%{z:.2f}',
        hovertemplate: 'ground truth %{y}<br>predicted %{x}<br>%{z:.3f}<extra></extra>',
      },
    ],
    layout: {
      title: { text: 'Confusion (row-normalised)' },
      xaxis: { title: { text: 'predicted' } },
      // Row 0 at the top, as the matrix is printed.
      yaxis: { title: { text: 'ground truth' }, autorange: 'reversed' },
    },
  };
}

let plotlySource: string | null = null;

/** plotly.js-dist-min's bundle (4.9 MB; the unminified one is 11 MB), read once per process. */
function readPlotly(): string {
  plotlySource ??= fs.readFileSync(require.resolve('plotly.js-dist-min'), 'utf8');
  return plotlySource;
}

/** JSON that is safe inside a <script> element (no "</script>", no HTML comment openers). */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The <script> element with plotly.js inlined, for pages that hold one figure or several. */
export function plotlyScriptElement(): string {
  // Inlined as is: plotly.js-dist-min 3.7.0 contains no "</script" that would end the element early.
  return `<script>${readPlotly()}</script>`;
}

/** The <script> element that draws `spec` into the element with id `divId`. */
export function newPlotScript(divId: string, spec: PlotlyFigure): string {
  if (!/^[A-Za-z][\w-]*$/.test(divId))
    throw new ConfigError(`plot element id "${divId}" must be letters, digits, _ or -, e.g. "confusion"`);
  return `<script>Plotly.newPlot('${divId}', ${scriptJson(spec.data)}, ${scriptJson(spec.layout)}, {responsive: true});</script>`;
}

export interface FigureHtmlOptions {
  /** Page title (default: the figure's layout title, else 'figure'). */
  title?: string;
  /** Plot size in CSS pixels (default 900x500). */
  width?: number;
  height?: number;
}

/** A standalone HTML page with plotly.js inlined, so it renders with no network. */
export function figureHtml(spec: PlotlyFigure, opts: FigureHtmlOptions = {}): string {
  const layoutTitle = spec.layout.title;
  const titleText =
    typeof layoutTitle === 'object' && layoutTitle !== null ? (layoutTitle as { text?: unknown }).text : layoutTitle;
  const title = opts.title ?? (typeof titleText === 'string' ? titleText : 'figure');
  const width = opts.width ?? 900;
  const height = opts.height ?? 500;
  return [
    '<!DOCTYPE html>',
    '<html><head><meta charset="utf-8">',
    `<title>${escapeHtml(title)}</title>`,
    plotlyScriptElement(),
    '</head><body>',
    `<div id="figure" style="width:${width}px;height:${height}px"></div>`,
    newPlotScript('figure', spec),
    '</body></html>',
  ].join('\n');
}
