import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TrainConfig } from '../run/config';
import type { EpochLogs } from '../train/loop';
import { CHROMIUM_MISSING_NOTE, chartPng, findChromium } from '../viz/chart-png';
import { figureHtml, lossChart } from '../viz/curves';
import { lossPoints } from './train';

/** Size of the loss chart PNG and HTML plot, in pixels. */
export const LOSS_FIGURE_SIZE = { width: 900, height: 500 } as const;

export interface FigureSet {
  /** File stem, e.g. kitti_road → kitti_road_loss.png. */
  name: string;
  title: string;
  history: readonly EpochLogs[];
  /** The test grid PNG (null when there was nothing to show). */
  grid: Buffer | null;
  config: TrainConfig;
  /** Anything JSON: the metrics and where they were measured. */
  metrics: unknown;
  /** Dataset and run the figures came from. */
  source: { dataset: string; dir: string; runDir: string; backend: string };
}

/**
 * Writes one dataset's figures and, next to them, the config and metrics
 * that produced them: <name>_loss.html (offline Plotly), <name>_loss.png
 * (drawn by headless Chromium, skipped with a note without one),
 * <name>_grid.png, <name>_metrics.json and <name>_config.json, which lists
 * the files this run wrote and the notes. A figure this run could not make
 * is deleted rather than left from an earlier run. Gives the files written
 * and the notes.
 */
export async function saveFigures(dir: string, set: FigureSet): Promise<{ files: string[]; notes: string[] }> {
  fs.mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  const notes: string[] = [];
  const write = (file: string, data: string | Uint8Array) => {
    const p = path.join(dir, file);
    fs.writeFileSync(p, data);
    files.push(p);
  };
  const stale = (file: string, why: string) => {
    notes.push(`${file} not drawn: ${why}`);
    fs.rmSync(path.join(dir, file), { force: true });
  };
  const spec = lossChart(lossPoints(set.history), { title: set.title });
  write(`${set.name}_loss.html`, figureHtml(spec, { ...LOSS_FIGURE_SIZE, title: set.title }));
  if (findChromium()) write(`${set.name}_loss.png`, await chartPng(spec, LOSS_FIGURE_SIZE));
  else stale(`${set.name}_loss.png`, CHROMIUM_MISSING_NOTE);
  if (set.grid) write(`${set.name}_grid.png`, set.grid);
  else stale(`${set.name}_grid.png`, 'no images to predict on');
  write(
    `${set.name}_metrics.json`,
    `${JSON.stringify({ ...set.source, history: set.history, metrics: set.metrics }, null, 2)}\n`,
  );
  const config = `${set.name}_config.json`;
  const written = [...files, path.join(dir, config)].map((f) => path.basename(f));
  write(config, `${JSON.stringify({ ...set.source, files: written, notes, config: set.config }, null, 2)}\n`);
  return { files, notes };
}

/** What figures/<name>_config.json says this run wrote; null without one. */
export function writtenFigures(dir: string, name: string): { files: string[]; notes: string[] } | null {
  const file = path.join(dir, `${name}_config.json`);
  if (!fs.existsSync(file)) return null;
  const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as { files?: string[]; notes?: string[] };
  return { files: saved.files ?? [], notes: saved.notes ?? [] };
}
