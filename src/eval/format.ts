import { ioUPolicy } from '../viz/report';
import type { SegmentationMetrics } from './confusion';
import type { RoadMetrics } from './kitti-maxf';

function percent(x: number | null): string {
  return x === null ? '-' : (100 * x).toFixed(2);
}

/** Left-aligns the first column and right-aligns the others, two spaces apart. */
function alignColumns(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) =>
    r
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])))
      .join('  ')
      .trimEnd(),
  );
}

/**
 * A plain-text report: per-class IoU / precision / recall / F1 and pixel
 * counts, then mean IoU, frequency-weighted IoU and pixel accuracy, then the
 * KITTI road block when `road` is given. Scores in percent.
 */
export function formatMetricsTable(metrics: SegmentationMetrics, road?: RoadMetrics): string {
  const classRows = metrics.classes.map((c) => [
    c.name,
    percent(c.iou),
    percent(c.precision),
    percent(c.recall),
    percent(c.f1),
    String(c.gtPixels),
  ]);
  const lines = alignColumns([['class', 'IoU', 'precision', 'recall', 'F1', 'gt pixels'], ...classRows]);
  lines.push('');
  lines.push(
    ...alignColumns([
      ['mean IoU', percent(metrics.meanIoU), `(${metrics.classesInMean} of ${metrics.classes.length} classes)`],
      ['freq.-weighted IoU', percent(metrics.frequencyWeightedIoU), ''],
      ['pixel accuracy', percent(metrics.pixelAccuracy), `(${metrics.totalPixels} valid pixels)`],
    ]),
  );
  if (road) {
    lines.push('', 'KITTI road (devkit MaxF over 256 thresholds, pixels pooled over images)');
    lines.push(
      ...alignColumns([
        ['MaxF', 'AP', 'PRE', 'REC', 'FPR', 'FNR', 'threshold'],
        [
          percent(road.maxF),
          percent(road.ap),
          percent(road.precision),
          percent(road.recall),
          percent(road.fpr),
          percent(road.fnr),
          road.threshold.toFixed(4),
        ],
      ]),
    );
  }
  lines.push('');
  lines.push(`Scores in %. ${ioUPolicy()}`);
  return lines.join('\n');
}
