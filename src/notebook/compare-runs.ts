import * as path from 'node:path';
import type { RunCurve } from '../viz/compare-chart';
import type { RunFolder } from './run-folder';

/**
 * A run's settings as "name value" pairs: the notebook's hyperparameters
 * where saved (without epochs: the table has its own column), else what
 * config.json says, for folders from before they were saved.
 */
function settingsOf(run: RunFolder): Record<string, string> {
  const c = run.config;
  const fields: Record<string, unknown> = run.settings
    ? { ...run.settings, epochs: undefined }
    : {
        inputShape: c.model.inputShape,
        batchSize: c.batchSize,
        learningRate: c.learningRate,
        lrSchedule: c.lrSchedule,
        fc6: c.model.fc6,
        widthMultiplier: c.model.widthMultiplier,
        dropout: c.model.dropout,
        l2: c.model.l2,
        seed: c.seed,
        augment: c.augment,
        classWeights: c.classWeights,
      };
  const pairs = Object.entries({ preset: c.preset, ...fields }).filter(([, v]) => v !== undefined);
  return Object.fromEntries(pairs.map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
}

/** For each run, the settings in which the runs differ ("learningRate 0.0005, l2 0.001"); "all alike" when none do. */
export function differingSettings(runs: readonly RunFolder[]): string[] {
  const each = runs.map(settingsOf);
  const keys = [...new Set(each.flatMap((s) => Object.keys(s)))];
  const differ = keys.filter((k) => new Set(each.map((s) => s[k] ?? '-')).size > 1);
  return each.map((s) => differ.map((k) => `${k} ${s[k] ?? '-'}`).join(', ') || 'all alike');
}

/** The compare chart's curves, one per run, named by what sets it apart. */
export function runCurves(runs: readonly RunFolder[]): RunCurve[] {
  const names = differingSettings(runs);
  return runs.map((r, i) => ({ name: names[i], epochs: r.history }));
}

/** The table under the chart: run, differing settings, best validation mean IoU, epochs, minutes. */
export function compareTable(runs: readonly RunFolder[]): string {
  const names = differingSettings(runs);
  const rows = runs.map((r, i) => {
    const ious = r.history.flatMap((h) => (h.valMeanIoU === null ? [] : [h.valMeanIoU]));
    return [
      path.basename(r.dir),
      names[i],
      ious.length ? `${(100 * Math.max(...ious)).toFixed(1)}%` : '-',
      String(r.epochsDone),
      r.minutes.toFixed(1),
    ];
  });
  const all = [['run', 'settings that differ', 'best val mIoU', 'epochs', 'minutes'], ...rows];
  const widths = all[0].map((_, col) => Math.max(...all.map((row) => row[col].length)));
  return all
    .map((row) =>
      row
        .map((cell, col) => cell.padEnd(widths[col]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
