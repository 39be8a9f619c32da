import type { PlotlyFigure, PlotlyTrace } from './curves';

/** Plotly's default colour cycle, named so that a run keeps its colour in both panels. */
const COLOURS = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
];

/** One run's validation curve: what the compare chart overlays. */
export interface RunCurve {
  /** The legend entry: the settings that set this run apart. */
  readonly name: string;
  readonly epochs: readonly { epoch: number; valLoss: number | null; valMeanIoU: number | null }[];
}

/**
 * Validation loss (left) and validation mean IoU (right) against the epoch,
 * one colour per run in both panels and one legend entry per run: how a
 * reader judges a tweak against the runs before it.
 */
export function compareRunsChart(runs: readonly RunCurve[], opts: { title?: string } = {}): PlotlyFigure {
  const panel = (run: RunCurve, i: number, key: 'valLoss' | 'valMeanIoU', axis: '' | '2'): PlotlyTrace => {
    const points = run.epochs.flatMap((e) => (e[key] === null ? [] : [[e.epoch, e[key]] as const]));
    return {
      type: 'scatter',
      mode: 'lines+markers',
      name: run.name,
      legendgroup: `run${i}`,
      showlegend: axis === '',
      line: { color: COLOURS[i % COLOURS.length] },
      x: points.map((p) => p[0]),
      y: points.map((p) => p[1]),
      xaxis: `x${axis}`,
      yaxis: `y${axis}`,
    };
  };
  return {
    data: [...runs.map((r, i) => panel(r, i, 'valLoss', '')), ...runs.map((r, i) => panel(r, i, 'valMeanIoU', '2'))],
    layout: {
      title: { text: opts.title ?? 'Runs compared' },
      xaxis: { title: { text: 'epoch' }, domain: [0, 0.45] },
      yaxis: { title: { text: 'validation loss' } },
      xaxis2: { title: { text: 'epoch' }, domain: [0.55, 1] },
      yaxis2: { title: { text: 'validation mean IoU' }, anchor: 'x2', range: [0, 1] },
      legend: { orientation: 'h', y: -0.25 },
    },
  };
}
