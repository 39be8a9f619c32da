import { spawn, spawnSync } from 'node:child_process';
import type { Command } from 'commander';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DATASETS } from '../data/registry';
import type { DatasetName } from '../data/types';
import { defaultEnvironmentProbe, formatDoctorReport, runDoctor } from '../doctor';
import type { ScoredSplit } from '../eval/scored-split';
import { findJupyterPython } from '../doctor/probe';
import { probeWebgpu } from '../backend/webgpu';
import { writtenFigures } from '../notebook/figures';
import { PROJECT_ROOT, figuresDir } from '../notebook/settings';
import { isPresetName } from '../run/config';
import { FcnError } from '../util/errors';

/** The notebooks, in the report's order (figures 4-5, 6-7, 8-9), then CamVid's. */
export const NOTEBOOKS: readonly DatasetName[] = ['kitti-road', 'kitti-semantic', 'cityscapes', 'camvid'];

const JUPYTER_SH = path.join(PROJECT_ROOT, 'scripts', 'jupyter.sh');

/**
 * Finds Jupyter, installing it where it can: scripts/setup.sh (Debian's
 * packages as root), then pip --user. Otherwise the error says what to run.
 */
export function ensureJupyter(log: (line: string) => void): string {
  let py = findJupyterPython(PROJECT_ROOT);
  if (py) return py;
  log('start: Jupyter not found; installing it (scripts/setup.sh, then pip --user)');
  spawnSync('bash', [path.join(PROJECT_ROOT, 'scripts', 'setup.sh')], { stdio: 'inherit' });
  py = findJupyterPython(PROJECT_ROOT);
  if (py) return py;
  spawnSync('python3', ['-m', 'pip', 'install', '--user', 'notebook', 'nbconvert'], { stdio: 'inherit' });
  py = findJupyterPython(PROJECT_ROOT);
  if (py) return py;
  throw new FcnError(
    'Jupyter is not installed and could not be installed here; install it with ' +
      '`sudo apt-get install -y jupyter-notebook jupyter-nbconvert python3-ipykernel` (Debian/Ubuntu) or ' +
      '`python3 -m pip install --user notebook nbconvert`, then run `npm start` again',
  );
}

export interface ExecuteOptions {
  /** Folder for the executed notebooks (default runs/notebooks). */
  outDir: string;
  /** Preset for the hyperparameters cell (FCN_PRESET); undefined = the notebook's choice. */
  preset?: string;
  log: (line: string) => void;
  /** The kernel's environment (default process.env): FCN_DATA, FCN_RUNS, FCN_FIGURES, FCN_PRESET. */
  env?: NodeJS.ProcessEnv;
}

/** Prints the training cell's status line (FCN_STATUS_FILE) whenever it changes, until stopped. */
function followStatus(file: string, log: (line: string) => void): () => void {
  let last = '';
  const timer = setInterval(() => {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8').trim();
    } catch {
      return;
    }
    if (text && text !== last) log(`  ${text}`);
    last = text;
  }, 15_000);
  return () => clearInterval(timer);
}

/**
 * Executes one notebook headless with nbconvert (tslab kernel registered
 * locally), writes it to outDir with its HTML export, and gives both paths.
 * A failing cell is an error that names the notebook; nbconvert has printed
 * the cell and its message above.
 */
export async function executeNotebook(
  dataset: DatasetName,
  opts: ExecuteOptions,
): Promise<{ notebook: string; html: string }> {
  const name = DATASETS[dataset].figureName;
  const source = path.join(PROJECT_ROOT, 'notebooks', `${name}.ipynb`);
  fs.mkdirSync(opts.outDir, { recursive: true });
  const statusFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fcn-start-')), 'status.txt');
  const env = {
    ...(opts.env ?? process.env),
    FCN_STATUS_FILE: statusFile,
    ...(opts.preset ? { FCN_PRESET: opts.preset } : {}),
  };
  const stopFollowing = followStatus(statusFile, opts.log);
  const started = Date.now();
  // Asynchronous, so the status follower's timer keeps running.
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(
      'bash',
      [
        JUPYTER_SH,
        'nbconvert',
        '--to',
        'notebook',
        '--execute',
        source,
        '--output-dir',
        opts.outDir,
        '--output',
        `${name}.ipynb`,
        '--ExecutePreprocessor.timeout=7200',
      ],
      { env, stdio: ['ignore', 'inherit', 'inherit'] },
    );
    child.on('close', resolve);
  });
  stopFollowing();
  fs.rmSync(path.dirname(statusFile), { recursive: true, force: true });
  if (code !== 0)
    throw new FcnError(
      `notebook ${path.relative(PROJECT_ROOT, source)} failed (nbconvert exit ${code}); the failing cell is printed above`,
    );
  opts.log(
    `start: executed ${path.relative(PROJECT_ROOT, source)} in ${((Date.now() - started) / 60000).toFixed(1)} min`,
  );
  const notebook = path.join(opts.outDir, `${name}.ipynb`);
  const py = findJupyterPython(PROJECT_ROOT);
  // Trusted, so Jupyter runs the saved chart's script when the notebook is opened.
  if (py) spawnSync(py, ['-m', 'nbformat.sign', notebook], { stdio: 'ignore' });
  spawnSync('bash', [JUPYTER_SH, 'nbconvert', '--to', 'html', notebook, '--output-dir', opts.outDir], {
    stdio: 'ignore',
  });
  return { notebook, html: path.join(opts.outDir, `${name}.html`) };
}

/** "road IoU 93.10%, MaxF 96.20%, ..." from a notebook's figures/<name>_metrics.json; null without one. */
export function headlineMetrics(file: string): string | null {
  if (!fs.existsSync(file)) return null;
  const m = JSON.parse(fs.readFileSync(file, 'utf8')) as { dir: string; metrics: ScoredSplit | null };
  if (!m.metrics) return null;
  const pct = (x: number | null) => (x === null ? '-' : `${(100 * x).toFixed(2)}%`);
  const { metrics, road, split, images } = m.metrics;
  const parts = metrics.classes.length === 2 ? [`${metrics.classes[1].name} IoU ${pct(metrics.classes[1].iou)}`] : [];
  parts.push(`mean IoU ${pct(metrics.meanIoU)}`, `pixel accuracy ${pct(metrics.pixelAccuracy)}`);
  if (road)
    parts.push(
      `MaxF ${pct(road.maxF)}`,
      `AP ${pct(road.ap)}`,
      `precision ${pct(road.precision)}`,
      `recall ${pct(road.recall)}`,
    );
  return `${parts.join(', ')} (${m.dir}, ${split}, ${images} images)`;
}

export interface StartOptions {
  notebooks: readonly DatasetName[];
  preset?: string;
  out: string;
}

/**
 * What `npm start` runs (with the road notebook) and `npm run figures` (with
 * every notebook): executes the notebooks headless, then prints where the
 * executed notebooks and figures are and the headline metrics.
 */
export async function startNotebooks(opts: StartOptions): Promise<void> {
  const log = (line: string) => console.error(line);
  if (opts.preset && !isPresetName(opts.preset))
    throw new FcnError(`preset "${opts.preset}" is unknown; use paper, cpu or smoke`);
  ensureJupyter(log);
  // The same checks as `fcn doctor`: stop with their fixes rather than fail halfway through a notebook.
  // Dawn's native warnings belong to `fcn doctor`, not to every start.
  const doctor = await runDoctor({
    ...defaultEnvironmentProbe(PROJECT_ROOT),
    webgpuAdapter: () => probeWebgpu({ allowSoftware: true, quiet: true }),
  });
  if (!doctor.canStart) {
    console.error(formatDoctorReport(doctor));
    throw new FcnError(
      'the main job cannot run here; fix the FAIL lines above (`npx fcn doctor` repeats these checks)',
    );
  }
  const figures = figuresDir();
  const results: string[] = [];
  for (const dataset of opts.notebooks) {
    const name = DATASETS[dataset].figureName;
    log(
      `start: executing notebooks/${name}.ipynb${opts.preset ? ` with the ${opts.preset} preset` : ''} (the training line is repeated here every 15 s)`,
    );
    const metricsFile = path.join(figures, `${name}_metrics.json`);
    const before = fs.existsSync(metricsFile) ? fs.statSync(metricsFile).mtimeMs : 0;
    const { notebook, html } = await executeNotebook(dataset, { outDir: opts.out, preset: opts.preset, log });
    const fresh = fs.existsSync(metricsFile) && fs.statSync(metricsFile).mtimeMs > before;
    const headline = fresh ? headlineMetrics(metricsFile) : null;
    const rel = (p: string) => path.relative(process.cwd(), p);
    const written = fresh ? writtenFigures(figures, name) : null;
    results.push(
      [
        `${name}:`,
        `  notebook  ${rel(notebook)} (open with: npm run notebook), HTML ${rel(html)}`,
        written
          ? `  figures   ${rel(path.join(figures, name))}_{${written.files.map((f) => f.slice(name.length + 1)).join(',')}} (this run's)`
          : `  figures   none: no ${dataset} data (the notebook says how to get it)`,
        ...(written?.notes ?? []).map((n) => `  missing   ${n}`),
        ...(headline ? [`  metrics   ${headline}`] : []),
      ].join('\n'),
    );
  }
  console.log(results.join('\n'));
}

/** Adds `fcn start` (the road notebook end to end) and `fcn figures` (every notebook). */
export function registerStartCommand(program: Command): void {
  const out = path.join(PROJECT_ROOT, 'runs', 'notebooks');
  program
    .command('start')
    .description(
      'execute notebooks/kitti_road.ipynb end to end (built-in road set without KITTI Road); writes the executed notebook and figures/',
    )
    .option('--preset <name>', 'paper | cpu | smoke (default: FCN_PRESET, else paper on a GPU, cpu otherwise)')
    .option('--out <dir>', 'folder for the executed notebook', out)
    .action((flags: { preset?: string; out: string }) => startNotebooks({ notebooks: ['kitti-road'], ...flags }));
  program
    .command('figures')
    .description(
      "execute every notebook headless to reproduce the report's figures 4-9 (and CamVid's) into figures/ from the data present",
    )
    .option('--preset <name>', 'paper | cpu | smoke (default: FCN_PRESET, else paper on a GPU, cpu otherwise)')
    .option('--out <dir>', 'folder for the executed notebooks', out)
    .action((flags: { preset?: string; out: string }) => startNotebooks({ notebooks: NOTEBOOKS, ...flags }));
}
