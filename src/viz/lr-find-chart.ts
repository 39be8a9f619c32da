import type { PlotlyFigure } from './curves';

/** A learning-rate sweep as src/train/lr-find.ts records it. */
export interface LrSweep {
  points: readonly { lr: number; loss: number; smoothed: number }[];
  suggestion: number | null;
}

/** Loss against learning rate on a log axis, the suggestion as a marker. */
export function lrFindChart(result: LrSweep): PlotlyFigure {
  const x = result.points.map((p) => p.lr);
  const data: PlotlyFigure['data'][number][] = [
    { type: 'scatter', mode: 'lines', name: 'loss', x, y: result.points.map((p) => p.loss), opacity: 0.4 },
    { type: 'scatter', mode: 'lines', name: 'smoothed', x, y: result.points.map((p) => p.smoothed) },
  ];
  const s = result.suggestion;
  if (s !== null) {
    const at = result.points.find((p) => p.lr === s);
    data.push({
      type: 'scatter',
      mode: 'markers',
      name: `suggested ${s.toExponential(1)}`,
      x: [s],
      y: [at?.smoothed ?? null],
      marker: { size: 12 },
    });
  }
  return {
    data,
    layout: {
      title: { text: 'Learning-rate range test' },
      xaxis: { title: { text: 'learning rate' }, type: 'log' },
      yaxis: { title: { text: 'loss' } },
    },
  };
}
