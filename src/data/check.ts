import { DataError } from '../util/errors';
import { startProgress } from '../util/progress';
import type { DatasetLoader } from './dataset';
import { openDataset, type OpenDatasetOptions } from './open';
import { loadRgbImage } from './png';
import { type DatasetName, IGNORE_INDEX, type Split } from './types';

/** One finding of `fcn data check`; errors make a pair unusable, warnings do not. */
export interface CheckProblem {
  readonly severity: 'error' | 'warning';
  /** The file or folder it is about. */
  readonly file: string;
  readonly message: string;
}

export interface SplitCounts {
  readonly split: Split;
  readonly images: number;
  /** Label files of the split (paired or not). */
  readonly labels: number;
  /** Image/label pairs (or images, for an unlabelled split) that decoded cleanly. */
  readonly usable: number;
}

export interface ClassShare {
  readonly id: number;
  readonly name: string;
  readonly pixels: number;
  /** Of all labelled pixels, ignore included. */
  readonly share: number;
}

export interface CheckReport {
  readonly dataset: DatasetName;
  readonly dir: string;
  readonly splits: SplitCounts[];
  /** Classes present in the labels, by id; the ignore id last as "ignore". */
  readonly classes: ClassShare[];
  readonly problems: CheckProblem[];
  /** False when any pair is unusable (any error). */
  readonly ok: boolean;
}

/**
 * Reads every file of every split: pairs matched, PNGs decodable, label and
 * image sizes equal, label values known; class pixel shares over all labels.
 * A folder that cannot be opened at all gives a report with one error.
 */
export async function checkDataset(
  dir: string,
  name: DatasetName,
  opts: OpenDatasetOptions & { progress?: boolean } = {},
): Promise<CheckReport> {
  let ds: DatasetLoader;
  try {
    ds = await openDataset(name, dir, opts);
  } catch (err) {
    if (!(err instanceof DataError)) throw err;
    return {
      dataset: name,
      dir,
      splits: [],
      classes: [],
      problems: [{ severity: 'error', file: dir, message: err.message }],
      ok: false,
    };
  }
  const problems: CheckProblem[] = [];
  if (ds.splits.length === 0)
    problems.push({ severity: 'error', file: dir, message: `${dir} has no split folders of ${name}` });
  const pixels = new Float64Array(256);
  const splits: SplitCounts[] = [];
  for (const split of ds.splits) {
    let scan;
    try {
      scan = await ds.scan(split);
    } catch (err) {
      if (!(err instanceof DataError)) throw err;
      problems.push({ severity: 'error', file: dir, message: err.message });
      continue;
    }
    for (const f of scan.imagesWithoutLabel)
      problems.push({ severity: 'error', file: f, message: `image ${f} has no label file` });
    for (const f of scan.labelsWithoutImage)
      problems.push({ severity: 'error', file: f, message: `label ${f} has no image` });
    const labelled = scan.samples.filter((s) => s.labelPath !== null).length;
    if (scan.samples.length === 0 && scan.imagesWithoutLabel.length === 0) {
      problems.push({ severity: 'error', file: dir, message: `the ${split} split of ${dir} has no images` });
    }
    const bar = startProgress(`check ${split}`, scan.samples.length, { enabled: opts.progress ?? true });
    let usable = 0;
    for (const [k, s] of scan.samples.entries()) {
      bar.update(k + 1, s.id);
      try {
        const image = await loadRgbImage(s.imagePath);
        if (s.labelPath !== null) {
          const { label, unknown } = await ds.decodeLabelChecked(s.labelPath);
          if (label.height !== image.height || label.width !== image.width) {
            throw new DataError(
              `label ${s.labelPath} is ${label.width}x${label.height} but image ${s.imagePath} is ` +
                `${image.width}x${image.height}; labels must have the image's size`,
            );
          }
          if (unknown.count > 0) {
            problems.push({
              severity: 'warning',
              file: s.labelPath,
              message:
                `${s.labelPath}: ${unknown.count} pixels with values no class has (${unknown.examples.join(', ')}), ` +
                `first at x=${unknown.first![0]} y=${unknown.first![1]}; they are ignored`,
            });
          }
          for (let i = 0; i < label.data.length; i++) pixels[label.data[i]]++;
        }
        usable++;
      } catch (err) {
        if (!(err instanceof DataError)) throw err;
        problems.push({ severity: 'error', file: s.labelPath ?? s.imagePath, message: err.message });
      }
    }
    bar.stop();
    splits.push({
      split,
      images: scan.samples.length + scan.imagesWithoutLabel.length,
      labels: labelled + scan.labelsWithoutImage.length,
      usable,
    });
  }
  const total = pixels.reduce((a, b) => a + b, 0);
  const classes: ClassShare[] = [];
  for (let id = 0; id < 256; id++) {
    if (pixels[id] === 0) continue;
    const cname = id === IGNORE_INDEX ? 'ignore' : (ds.classes[id]?.name ?? `class ${id}`);
    classes.push({ id, name: cname, pixels: pixels[id], share: pixels[id] / total });
  }
  return { dataset: name, dir, splits, classes, problems, ok: !problems.some((p) => p.severity === 'error') };
}

/** The report as the CLI prints it: counts, class shares, then each problem on its own line. */
export function formatCheckReport(report: CheckReport): string {
  const lines = [`${report.dataset} in ${report.dir}`];
  for (const s of report.splits) {
    lines.push(
      `  ${s.split.padEnd(5)} images ${String(s.images).padStart(6)}  labels ${String(s.labels).padStart(6)}  usable ${String(s.usable).padStart(6)}`,
    );
  }
  if (report.classes.length > 0) {
    lines.push('  classes (share of labelled pixels):');
    for (const c of report.classes)
      lines.push(`    ${String(c.id).padStart(3)} ${c.name.padEnd(22)} ${(100 * c.share).toFixed(2).padStart(6)}%`);
  }
  const errors = report.problems.filter((p) => p.severity === 'error');
  const warnings = report.problems.filter((p) => p.severity === 'warning');
  for (const p of errors) lines.push(`  error: ${p.message}`);
  for (const p of warnings) lines.push(`  warning: ${p.message}`);
  lines.push(
    report.ok
      ? `  ok: every pair is usable${warnings.length ? ` (${warnings.length} warnings)` : ''}`
      : `  ${errors.length} error(s): fix or remove the files named above`,
  );
  return lines.join('\n');
}
