import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { executeNotebook } from '../../src/cli/start';
import { findJupyterPython } from '../../src/doctor/probe';
import { PROJECT_ROOT } from '../../src/notebook/settings';
import { synthesizeRoadSet } from '../../src/data';
import { rebuildIfStale } from '../../src/notebook/load';
import type { DatasetName } from '../../src/data/types';
import { makeCamvidSegnet, makeCityscapes, makeKittiSemantic } from '../data/fixtures';
import { camvidSlice, realCamvidSkipReason } from '../data/real-camvid';

/** The notebooks executed headless once per test process, shared by the notebook, figure and browser tests. */
export interface ExecutedNotebooks {
  root: string;
  figures: string;
  /** Executed notebook and its HTML export, per dataset. */
  outputs: Record<DatasetName, { notebook: string; html: string }>;
  /** The kitti_semantic notebook run against a missing folder. */
  missing: { notebook: string; html: string };
  /** The kitti_road notebook executed a second time in a fresh kernel, as after a restart: its run is on disk. */
  rerun: { notebook: string; html: string };
  seconds: number;
}

let executed: Promise<ExecutedNotebooks> | null = null;

/** Why the notebook tests cannot run here, or null. */
export function notebookSkipReason(): string | null {
  return findJupyterPython(PROJECT_ROOT) ? null : 'Jupyter is not installed (bash scripts/setup.sh installs it)';
}

/**
 * Smoke preset on small data: 12 synthetic road frames, the KITTI-semantic
 * and Cityscapes fixtures in their real layouts, and a slice of real CamVid
 * frames (its fixture where the real set is absent).
 */
async function executeAll(): Promise<ExecutedNotebooks> {
  const started = Date.now();
  // Once here, so that two kernels never compile dist/ at the same time.
  rebuildIfStale(() => undefined);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fcn-notebooks-'));
  const road = path.join(root, 'road');
  await synthesizeRoadSet(road, { count: 12, seed: 1, progress: false });
  const data: Record<DatasetName, string> = {
    'kitti-road': road,
    'kitti-semantic': makeKittiSemantic(root, 'original'),
    cityscapes: makeCityscapes(root),
    camvid:
      realCamvidSkipReason() === null
        ? camvidSlice(path.join(root, 'CamVid'), { train: 6, val: 4 })
        : makeCamvidSegnet(root),
  };
  const figures = path.join(root, 'figures');
  const base = { ...process.env, FCN_PRESET: 'smoke', FCN_RUNS: path.join(root, 'runs'), FCN_FIGURES: figures };
  const log = () => undefined;
  const run = (dataset: DatasetName, dataDir: string, outDir: string) =>
    executeNotebook(dataset, { outDir, log, env: { ...base, FCN_DATA: dataDir } });
  // Two at a time: the kernels mostly wait on TypeScript and the small models, not on each other.
  const [roadOut, semanticOut] = await Promise.all([
    run('kitti-road', data['kitti-road'], path.join(root, 'out')),
    run('kitti-semantic', data['kitti-semantic'], path.join(root, 'out')),
  ]);
  const [cityscapesOut, missing] = await Promise.all([
    run('cityscapes', data.cityscapes, path.join(root, 'out')),
    run('kitti-semantic', path.join(root, 'no-such-folder'), path.join(root, 'out-missing')),
  ]);
  const [camvidOut, rerun] = await Promise.all([
    run('camvid', data.camvid, path.join(root, 'out')),
    run('kitti-road', data['kitti-road'], path.join(root, 'out-rerun')),
  ]);
  return {
    root,
    figures,
    outputs: { 'kitti-road': roadOut, 'kitti-semantic': semanticOut, cityscapes: cityscapesOut, camvid: camvidOut },
    missing,
    rerun,
    seconds: (Date.now() - started) / 1000,
  };
}

export function executedNotebooks(): Promise<ExecutedNotebooks> {
  executed ??= executeAll();
  return executed;
}

/** Every output of every code cell, flattened. */
export interface CellOutput {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, string | string[]>;
}

export function readOutputs(notebook: string): CellOutput[] {
  const nb = JSON.parse(fs.readFileSync(notebook, 'utf8')) as {
    cells: { cell_type: string; outputs?: CellOutput[] }[];
  };
  return nb.cells.filter((c) => c.cell_type === 'code').flatMap((c) => c.outputs ?? []);
}

/** Each code cell's source and its HTML outputs joined. */
export function readCells(notebook: string): { source: string; html: string }[] {
  const nb = JSON.parse(fs.readFileSync(notebook, 'utf8')) as {
    cells: { cell_type: string; source: string | string[]; outputs?: CellOutput[] }[];
  };
  return nb.cells
    .filter((c) => c.cell_type === 'code')
    .map((c) => ({
      source: joined(c.source),
      html: (c.outputs ?? []).map((o) => joined(o.data?.['text/html'])).join(''),
    }));
}

export const joined = (v: string | string[] | undefined): string => (Array.isArray(v) ? v.join('') : (v ?? ''));

/**
 * Registers a mocha `before` that skips the suite with the reason (no Jupyter,
 * or `extraSkip` says so) or runs the notebooks once; gives a getter for the run.
 */
export function useExecutedNotebooks(extraSkip: () => string | null = () => null): () => ExecutedNotebooks {
  let run: ExecutedNotebooks | null = null;
  before(async function () {
    const reason = notebookSkipReason() ?? extraSkip();
    if (reason) {
      console.log(`      skipped: ${reason}`);
      this.skip();
    }
    this.timeout(600_000);
    run = await executedNotebooks();
    console.log(`      (notebook runs: ${run.seconds.toFixed(0)} s, shared by the notebook test files)`);
  });
  return () => run as ExecutedNotebooks;
}
