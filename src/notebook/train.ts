import * as fs from 'node:fs';
import * as path from 'node:path';
import { RUN_FILES, readJson } from '../run/checkpoint';
import type { TrainConfig } from '../run/config';
import type { EpochLogs } from '../train/loop';
import { stopOnInterrupt } from '../train/interrupt';
import { runTraining, type DatasetChoice, type RunTrainingResult } from '../train/run';
import { lossChart, type EpochLosses } from '../viz/curves';
import { showFigure, showStatus, tslabDisplay, type DisplayFactory, type StatusLine } from './display';

export interface NotebookTrainingOptions {
  config: TrainConfig;
  dataset: DatasetChoice;
  runDir: string;
  /** VGG16 .h5; undefined = data/weights/ when present (see runTraining). */
  weights?: string | null;
  makeDisplay?: DisplayFactory;
  /** runTraining's log lines; console.log (the cell's output) by default. */
  log?: (line: string) => void;
  /** Seconds between progress-line redraws (default 2). */
  statusEverySeconds?: number;
}

// A run outlives its cell when the cell is interrupted (tslab only rejects the cell's await):
// kept on globalThis so a re-run, even after the import cell reloaded dist/, waits for it.
const IN_FLIGHT = Symbol.for('fcn-ts.notebook.training');
type InFlight = { [IN_FLIGHT]?: Promise<unknown> };

/** The chart's points: the L2 term only where the run has one (a 0 line says nothing). */
export function lossPoints(history: readonly EpochLogs[]): EpochLosses[] {
  return history.map((h) => ({
    epoch: h.epoch,
    trainLoss: h.trainLoss,
    valLoss: h.valLoss,
    ...(h.regLoss > 0 ? { regLoss: h.regLoss } : {}),
  }));
}

/** The loss chart's title, live and in figures/. */
export function lossTitle(dataset: string, preset: string): string {
  return `Loss, ${dataset} (${preset} preset)`;
}

function formatSeconds(s: number): string {
  const m = Math.floor(s / 60);
  return m ? `${m} min ${Math.round(s - 60 * m)} s` : `${Math.round(s)} s`;
}

/**
 * Also writes each status line to `file` (FCN_STATUS_FILE), so that a
 * headless run (npm start) can show the progress that nbconvert only
 * reveals once the notebook is done.
 */
function mirrorStatus(line: StatusLine, file: string | undefined): StatusLine {
  if (!file) return line;
  return {
    set(text) {
      line.set(text);
      fs.writeFileSync(file, `${text}\n`);
    },
  };
}

/**
 * Trains in a notebook: runTraining with resume, one loss chart that is
 * redrawn in place after every epoch, and one progress line. Interrupting the
 * kernel stops after the current batch with a checkpoint; re-running the cell
 * continues from it (same settings, same run folder).
 */
export async function trainInNotebook(opts: NotebookTrainingOptions): Promise<RunTrainingResult> {
  const makeDisplay = opts.makeDisplay ?? tslabDisplay;
  const log = opts.log ?? ((line: string) => console.log(line));
  const status = mirrorStatus(showStatus('training: starting', makeDisplay), process.env.FCN_STATUS_FILE);
  const previous = (globalThis as InFlight)[IN_FLIGHT];
  if (previous) {
    status.set('training: waiting for the interrupted run to save its checkpoint');
    await previous.catch(() => undefined);
  }

  const historyFile = path.join(opts.runDir, RUN_FILES.history);
  const history: EpochLogs[] = fs.existsSync(historyFile) ? readJson<EpochLogs[]>(historyFile) : [];
  const title = lossTitle(opts.dataset.name, opts.config.preset);
  const chart = showFigure(lossChart(lossPoints(history), { title }), { makeDisplay });
  const { epochs } = opts.config;
  const started = Date.now();
  let lastStatus = 0;
  let firstStep: number | null = null;

  const { stop, release } = stopOnInterrupt(() =>
    status.set('training: interrupted; saving a checkpoint after this batch. Re-run the cell to continue.'),
  );
  const run = runTraining({
    config: opts.config,
    dataset: opts.dataset,
    runDir: opts.runDir,
    resume: true,
    weights: opts.weights,
    stop,
    log,
    progress: false,
    callbacks: {
      onBatchEnd(step, l) {
        firstStep ??= step - 1;
        const now = Date.now();
        if (stop.stop || now - lastStatus < 1000 * (opts.statusEverySeconds ?? 2)) return;
        lastStatus = now;
        const total = epochs * l.numBatches;
        const elapsed = (now - started) / 1000;
        const eta = (elapsed / Math.max(1, step - firstStep)) * (total - step);
        status.set(
          `epoch ${l.epoch}/${epochs}, batch ${l.batch + 1}/${l.numBatches}: loss ${l.loss.toFixed(4)} | ` +
            `${formatSeconds(elapsed)} elapsed, about ${formatSeconds(eta)} left`,
        );
      },
      onEpochEnd(epoch, l) {
        history.push(l);
        chart.update(lossChart(lossPoints(history), { title }));
        const val =
          l.valLoss === null
            ? ''
            : `, validation loss ${l.valLoss.toFixed(4)}, mean IoU ${(100 * (l.valMeanIoU ?? 0)).toFixed(1)}%`;
        status.set(
          `epoch ${epoch}/${epochs} done: train loss ${l.trainLoss.toFixed(4)}${val} (${l.seconds.toFixed(1)} s)`,
        );
      },
    },
  });
  (globalThis as InFlight)[IN_FLIGHT] = run;
  try {
    const result = await run;
    const done = result.history.length;
    status.set(
      result.outcome === 'interrupted'
        ? `training: stopped at epoch ${done}/${epochs} with a checkpoint in ${opts.runDir}; re-run the cell to continue`
        : `training: ${epochs} epochs done in ${opts.runDir} (this session: ${formatSeconds((Date.now() - started) / 1000)})`,
    );
    return result;
  } finally {
    release();
    if ((globalThis as InFlight)[IN_FLIGHT] === run) delete (globalThis as InFlight)[IN_FLIGHT];
  }
}
