import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../util/errors';
import { confusionHeatmap, escapeHtml, newPlotScript, plotlyScriptElement, type ConfusionCounts } from './curves';

/** Per-class scores as src/eval's ClassMetrics has them (null = undefined, not 0). */
export interface ReportClassRow {
  readonly name: string;
  readonly iou: number | null;
  readonly precision: number | null;
  readonly recall: number | null;
  readonly gtPixels: number;
}

/** The split's scores as src/eval's SegmentationMetrics has them. */
export interface ReportMetrics {
  readonly totalPixels: number;
  readonly pixelAccuracy: number;
  readonly meanIoU: number;
  readonly classesInMean: number;
  readonly frequencyWeightedIoU: number;
  readonly classes: readonly ReportClassRow[];
}

export interface ReportWorst {
  /** The error grid (src/viz/error-grid.ts), rows in the order of `samples`. */
  readonly png: Buffer;
  readonly by: 'loss' | 'iou';
  readonly samples: readonly { id: string; loss: number; meanIoU: number | null }[];
}

export interface EvalReportInput {
  /** e.g. "runs/kitti-road-cpu on kitti-road holdout". */
  readonly title: string;
  /** One line under the title: split, image count, resolution. */
  readonly subtitle?: string;
  readonly metrics: ReportMetrics;
  readonly confusion: ConfusionCounts;
  readonly ignoreIndex: number;
  readonly worst?: ReportWorst | null;
}

/** What the IoU table's numbers mean for ignored pixels and absent classes (matches src/eval/confusion.ts). */
export function ioUPolicy(ignoreIndex?: number): string {
  return (
    `Pixels labelled ${ignoreIndex ?? 'with the ignore label'}${ignoreIndex === undefined ? '' : ' (ignore)'} count nowhere: not in the confusion matrix, the scores or the loss. ` +
    'A class absent from both the ground truth and the predictions of this split has no IoU ("-") and is left out of ' +
    'the mean IoU; a class absent from the ground truth but predicted has IoU 0 and counts. Rows of the confusion ' +
    'matrix are divided by their ground-truth pixels; a row without any is blank.'
  );
}

/** File names inside the report folder. */
export const REPORT_FILES = { html: 'index.html', worst: 'worst.png' } as const;

const percent = (x: number | null) => (x === null ? '-' : (100 * x).toFixed(2));

function iouTable(m: ReportMetrics): string {
  const rows = m.classes.map(
    (c) =>
      `<tr><td>${escapeHtml(c.name)}</td><td>${percent(c.iou)}</td><td>${percent(c.precision)}</td>` +
      `<td>${percent(c.recall)}</td><td>${c.gtPixels}</td></tr>`,
  );
  return [
    '<table id="iou"><thead><tr><th>class</th><th>IoU %</th><th>precision %</th><th>recall %</th><th>gt pixels</th></tr></thead><tbody>',
    ...rows,
    '</tbody><tfoot>',
    `<tr><th>mean IoU</th><td>${percent(m.meanIoU)}</td><td colspan="3">${m.classesInMean} of ${m.classes.length} classes</td></tr>`,
    `<tr><th>freq.-weighted IoU</th><td>${percent(m.frequencyWeightedIoU)}</td><td colspan="3"></td></tr>`,
    `<tr><th>pixel accuracy</th><td>${percent(m.pixelAccuracy)}</td><td colspan="3">${m.totalPixels} valid pixels</td></tr>`,
    '</tfoot></table>',
  ].join('\n');
}

function worstSection(w: ReportWorst): string {
  const rows = w.samples.map(
    (s, i) =>
      `<tr><td>${i + 1}</td><td>${escapeHtml(s.id)}</td><td>${s.loss.toFixed(4)}</td><td>${percent(s.meanIoU)}</td></tr>`,
  );
  return [
    `<h2>The ${w.samples.length} worst images by ${w.by === 'loss' ? 'loss' : 'mean IoU'}</h2>`,
    '<p>Each row: image | ground truth | prediction | error map (red: wrong, grey: ignored), in the order of the table.</p>',
    '<table id="worst"><thead><tr><th>row</th><th>sample id</th><th>loss</th><th>mean IoU %</th></tr></thead><tbody>',
    ...rows,
    '</tbody></table>',
    `<img id="worst-grid" src="${REPORT_FILES.worst}" alt="worst images: image, ground truth, prediction, error map">`,
  ].join('\n');
}

const STYLE =
  'body{font-family:sans-serif;margin:2em;max-width:1300px}table{border-collapse:collapse;margin:1em 0}' +
  'td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child,th:first-child{text-align:left}' +
  '#worst-grid{max-width:100%}.policy{color:#444;max-width:60em}';

/**
 * Writes a standalone report into `dir`: index.html (per-class IoU table
 * with the policy for ignored pixels and absent classes, the row-normalised
 * confusion matrix as a Plotly heatmap with plotly.js inlined) and, when
 * given, worst.png beside it. Opens with no network. Returns the paths.
 */
export function writeEvalReport(dir: string, input: EvalReportInput): { html: string; worst: string | null } {
  const names = input.metrics.classes.map((c) => c.name);
  if (names.length !== input.confusion.numClasses) {
    throw new ConfigError(
      `the metrics have ${names.length} classes but the confusion matrix ${input.confusion.numClasses}; pass both from one evaluation`,
    );
  }
  const heatmap = confusionHeatmap(input.confusion, names);
  const side = Math.max(400, Math.min(900, 120 + 60 * names.length));
  const html = [
    '<!DOCTYPE html>',
    '<html><head><meta charset="utf-8">',
    `<title>${escapeHtml(input.title)}</title>`,
    `<style>${STYLE}</style>`,
    plotlyScriptElement(),
    '</head><body>',
    `<h1>${escapeHtml(input.title)}</h1>`,
    input.subtitle ? `<p>${escapeHtml(input.subtitle)}</p>` : '',
    '<h2>Per-class IoU</h2>',
    iouTable(input.metrics),
    `<p class="policy">${escapeHtml(ioUPolicy(input.ignoreIndex))}</p>`,
    '<h2>Confusion matrix (row-normalised)</h2>',
    `<div id="confusion" style="width:${side + 100}px;height:${side}px"></div>`,
    newPlotScript('confusion', heatmap),
    input.worst ? worstSection(input.worst) : '',
    '</body></html>',
  ]
    .filter(Boolean)
    .join('\n');
  fs.mkdirSync(dir, { recursive: true });
  const htmlPath = path.join(dir, REPORT_FILES.html);
  let worstPath: string | null = null;
  if (input.worst) {
    worstPath = path.join(dir, REPORT_FILES.worst);
    fs.writeFileSync(worstPath, input.worst.png);
  }
  fs.writeFileSync(htmlPath, html);
  return { html: htmlPath, worst: worstPath };
}
