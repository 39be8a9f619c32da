import * as path from 'node:path';
import { DATASETS } from '../data/registry';
import { selectBackend, type SelectedBackend } from '../backend';
import { openDataset, resolveRoadDataset, splitTrainVal } from '../data';
import type { DatasetName, SampleRef, SegDataset } from '../data/types';
import type { ConfusionMatrix } from '../eval/confusion';
import { evaluateSamples } from '../eval/evaluate';
import { findWorstSamples } from '../eval/worst';
import { BatchLoader } from '../data/batch-loader';
import { confusionHeatmap } from '../viz/curves';
import { errorGrid } from '../viz/error-grid';
import { paletteFor } from '../viz/palette';
import { ioUPolicy } from '../viz/report';
import { formatMetricsTable } from '../eval/format';
import { scoredSplit, type ScoredSplit } from '../eval/scored-split';
import { buildFcn8 } from '../model/fcn8';
import { defaultVgg16WeightsPath } from '../model/weights-file';
import type { PresetName, TrainConfig } from '../run/config';
import { resolveClassWeights } from '../train/class-weights';
import { loadRun } from '../run/load-run';
import { findLearningRate } from '../train/lr-find';
import { lrFindChart } from '../viz/lr-find-chart';
import { loadPretrainedIfPresent, pretrainedPlan } from '../train/pretrained';
import type { EpochLogs } from '../train/loop';
import { FcnError } from '../util/errors';
import { lossChart } from '../viz/curves';
import { compareRunsChart } from '../viz/compare-chart';
import { embedPlotly, showFigure, showPhotos, showStatus, tslabDisplay, type DisplayFactory } from './display';
import { saveFigures } from './figures';
import { labelledGrid, predictionGrid, type GridLayout } from './grids';
import { compareTable, runCurves } from './compare-runs';
import { listRunFolders, readRunFolder, runProgress, writeRunSettings, type RunFolder } from './run-folder';
import {
  PROJECT_ROOT,
  changesInCell,
  describeChanges,
  figuresDir,
  formatHyperparameters,
  hyperparameters,
  notebookRunDir,
  presetFromEnv,
  runsRoot,
  trainConfigOf,
  type Hyperparameters,
} from './settings';
import { lossPoints, lossTitle, trainInNotebook } from './train';

export interface SessionOptions {
  makeDisplay?: DisplayFactory;
  /** Where text goes (console.log: the cell's output). */
  log?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

/** What evaluate() measured, as written next to the figures. */
export type SessionMetrics = ScoredSplit;

const DEFAULT_LAYOUT: GridLayout = { rows: 2, cols: 2 };

/**
 * One notebook, top to bottom: each method is one cell of the report
 * (data, model, training, evaluation, test images, figures). Expected
 * problems (a missing dataset, a step run before its predecessor) print one
 * line and leave the later cells as no-ops, because a cell that throws makes
 * Jupyter skip every cell after it.
 */
export class NotebookSession {
  private ds: SegDataset | null = null;
  /** Why the later cells do nothing (a missing dataset), or null. */
  stopped: string | null = null;
  /** Set when training ran all its epochs here, or a finished run of these settings was found on disk. */
  finished = false;
  /** The run on disk the later cells use when training did not finish in this kernel. */
  private trainedRun: RunFolder | null = null;
  history: EpochLogs[] = [];
  metrics: SessionMetrics | null = null;
  private confusion: ConfusionMatrix | null = null;
  testGrid: Buffer | null = null;

  private constructor(
    readonly datasetName: DatasetName,
    readonly backend: SelectedBackend,
    readonly preset: PresetName,
    readonly hp: Hyperparameters,
    readonly config: TrainConfig,
    private readonly opts: Required<Omit<SessionOptions, 'env'>> & { env: NodeJS.ProcessEnv },
  ) {}

  /**
   * The hyperparameters cell: embeds plotly.js for the charts below, picks
   * the backend (and says why) and the preset (FCN_PRESET, else paper on a
   * GPU and cpu otherwise), applies what `cell` changes from the written-out
   * preset (see changesInCell), and says which settings differ from the
   * preset and whether a run folder with these settings exists.
   */
  static async setUp(
    dataset: DatasetName,
    cell: Partial<Hyperparameters> = {},
    options: SessionOptions = {},
  ): Promise<NotebookSession> {
    const opts = {
      makeDisplay: options.makeDisplay ?? tslabDisplay,
      log: options.log ?? ((l: string) => console.log(l)),
      env: options.env ?? process.env,
    };
    embedPlotly(opts.makeDisplay);
    const backend = await selectBackend({ log: null });
    opts.log(backend.line);
    const preset = presetFromEnv(backend, opts.env);
    const hp = hyperparameters(preset, dataset, changesInCell(dataset, cell, opts.env), opts.env);
    const config = trainConfigOf(preset, hp, dataset);
    opts.log(formatHyperparameters(preset, hp, config, opts.env));
    const changed = describeChanges(hyperparameters(preset, dataset, {}, opts.env), hp);
    opts.log(changed ? `changed from the ${preset} preset: ${changed}` : `settings: the ${preset} preset's, unchanged`);
    const session = new NotebookSession(dataset, backend, preset, hp, config, opts);
    // The data decides the run folder (the road notebook may fall back to the built-in set).
    if (await session.ready('run folder')) session.reportRunFolder();
    return session;
  }

  /** The run folder of these settings: re-running training with them resumes it. */
  get runDir(): string {
    return notebookRunDir(
      this.config,
      this.datasetName,
      this.ds?.dir ?? this.hp.dataDir,
      this.hp.pretrained,
      this.opts.env,
    );
  }

  private reportRunFolder(): void {
    const run = readRunFolder(this.runDir);
    const rel = path.relative(PROJECT_ROOT, this.runDir);
    this.opts.log(
      !run
        ? `run folder: ${rel} (new: nothing trained with these settings yet)`
        : `run folder: ${rel} exists, ${runProgress(run, this.config.epochs)}; ` +
            (run.epochsDone >= this.config.epochs
              ? 'the training cell shows it without retraining'
              : 'the training cell continues it'),
    );
  }

  /** The run on disk when it has all its epochs: what a cell uses after a kernel restart. */
  private finishedOnDisk(): RunFolder | null {
    const run = readRunFolder(this.runDir);
    return run && run.epochsDone >= this.config.epochs ? run : null;
  }

  /** Takes a run from disk (its history for the figures) and says so. */
  private adopt(run: RunFolder, what: string): void {
    this.history = run.history.slice(0, this.config.epochs);
    this.trainedRun = run;
    this.finished = run.epochsDone >= this.config.epochs;
    this.opts.log(
      `${what}: using the run in ${path.relative(PROJECT_ROOT, run.dir)}, ${runProgress(run, this.config.epochs)}` +
        (this.finished ? '' : '; its last checkpoint is used (re-run the training cell to finish it)'),
    );
  }

  /** The dataset, opened on first use; null (and a one-line note) when it is missing. */
  private async ready(what: string): Promise<SegDataset | null> {
    if (!this.stopped && !this.ds) this.ds = await this.openData();
    if (this.ds) return this.ds;
    this.opts.log(`${what}: skipped (${this.stopped})`);
    return null;
  }

  /**
   * The dataset once training has finished in this kernel, else when a
   * checkpoint of these settings is on disk (a kernel restart, an interrupted
   * run: said once), else null with a note saying what to run.
   */
  private async trained(what: string): Promise<SegDataset | null> {
    const ds = await this.ready(what);
    if (!ds) return null;
    if (this.finished) return ds;
    const run = readRunFolder(this.runDir);
    if (run && run.epochsDone > 0) {
      if (run.epochsDone !== this.trainedRun?.epochsDone) this.adopt(run, what);
      return ds;
    }
    this.opts.log(`${what}: run the training cell first`);
    return null;
  }

  private async openData(): Promise<SegDataset | null> {
    const log = this.opts.log;
    const { howToGet } = DATASETS[this.datasetName];
    try {
      return await openDataset(this.datasetName, this.hp.dataDir);
    } catch (err) {
      if (!(err instanceof FcnError)) throw err;
      log(`data: ${err.message}`);
      log(`To get ${this.datasetName}: ${howToGet}.`);
    }
    if (this.datasetName !== 'kitti-road') {
      this.stopped = `no ${this.datasetName} data in ${this.hp.dataDir}`;
      log(`The cells below do nothing until the data is there; then re-run the notebook.`);
      return null;
    }
    const road = await resolveRoadDataset(path.join(PROJECT_ROOT, 'data'), { progress: false });
    log(road.note);
    return openDataset(road.name, road.dir);
  }

  /** The samples training learns from: the train split, less the holdout when the set has no val split. */
  private async trainingSamples(ds: SegDataset): Promise<SampleRef[]> {
    const train = await ds.samples('train');
    return ds.splits.includes('val') ? train : splitTrainVal(train, this.config.valFraction, this.config.seed).train;
  }

  /** Held-out samples: the set's own val split, else the part of train that training validates on. */
  private async validationSamples(ds: SegDataset): Promise<{ split: string; samples: SampleRef[] }> {
    if (ds.splits.includes('val')) return { split: 'val', samples: await ds.samples('val') };
    const { val } = splitTrainVal(await ds.samples('train'), this.config.valFraction, this.config.seed);
    return {
      split: `holdout (${Math.round(100 * this.config.valFraction)}% of train, seed ${this.config.seed})`,
      samples: val,
    };
  }

  /** The data cell: counts per split, classes, and a grid of training images with their labels painted on. */
  async showData(layout: GridLayout = DEFAULT_LAYOUT): Promise<void> {
    const ds = await this.ready('data');
    if (!ds) return;
    const log = this.opts.log;
    const train = await ds.samples('train');
    const { split, samples: val } = await this.validationSamples(ds);
    const counts = await Promise.all(ds.splits.map(async (s) => `${s} ${(await ds.samples(s)).length}`));
    log(`${ds.name} in ${ds.dir}: ${counts.join(', ')} images; validation = ${split}, ${val.length} images`);
    log(`${ds.classes.length} classes: ${ds.classes.map((c, i) => `${i} ${c.name}`).join(', ')}`);
    await showPhotos(await labelledGrid(ds, train, layout), this.opts.makeDisplay);
  }

  /** The model cell: layer summary, parameter count, and whether training starts from VGG16's weights. */
  showModel(): void {
    if (this.stopped) {
      this.opts.log(`model: skipped (${this.stopped})`);
      return;
    }
    const config = { ...this.config.model, numClasses: this.ds?.classes.length ?? this.config.model.numClasses };
    const model = buildFcn8(config);
    const lines: string[] = [];
    model.summary(110, [0.4, 0.7, 0.85, 1], (line: string) => lines.push(line));
    this.opts.log(lines.join('\n'));
    this.opts.log(`parameters: ${model.countParams().toLocaleString('en-US')}`);
    model.dispose();
    this.opts.log(`weights: ${pretrainedPlan(config, this.weightsChoice()).line}`);
  }

  /** Training's `weights`: the project's VGG16 file (undefined: not downloaded), or null with pretrained off. */
  private weightsChoice(): string | null | undefined {
    if (!this.hp.pretrained) return null;
    return defaultVgg16WeightsPath(path.join(PROJECT_ROOT, 'data', 'weights')) ?? undefined;
  }

  /**
   * The learning-rate finder cell: the range test (src/train/lr-find.ts) on
   * a fresh model of these settings, `steps` batches from 1e-6 to 1; plots
   * the loss against the rate and suggests a value for the hyperparameters
   * cell. Nothing is saved; the run folder is not touched.
   */
  async findLearningRate(steps = 50): Promise<void> {
    const ds = await this.ready('lr finder');
    if (!ds) return;
    let config: TrainConfig = { ...this.config, model: { ...this.config.model, numClasses: ds.classes.length } };
    const train = await this.trainingSamples(ds);
    if (config.classWeights === 'median-frequency')
      config = await resolveClassWeights(config, ds, train, { progress: false });
    const model = buildFcn8(config.model);
    try {
      await loadPretrainedIfPresent(model, config.model, this.weightsChoice(), this.opts.log);
      const loader = new BatchLoader(ds, train, {
        inputShape: config.model.inputShape,
        batchSize: config.batchSize,
        shuffle: true,
        seed: config.seed,
        augment: false,
        progress: false,
      });
      const status = showStatus('lr finder: starting', this.opts.makeDisplay);
      const result = await findLearningRate(model, loader, {
        config,
        steps,
        start: 1e-6,
        end: 1,
        ignoreIndex: ds.ignoreIndex,
        onStep: (p) =>
          status.set(`lr finder: step ${p.step + 1}/${steps}, lr ${p.lr.toExponential(1)}, loss ${p.loss.toFixed(4)}`),
      });
      status.set(
        result.stoppedEarly
          ? `lr finder: stopped early: ${result.stoppedEarly}`
          : `lr finder: ${result.points.length} steps`,
      );
      showFigure(lrFindChart(result), { makeDisplay: this.opts.makeDisplay });
      this.opts.log(
        result.suggestion === null
          ? 'lr finder: no suggestion, the loss never fell; check the labels (npx fcn data check) or raise steps'
          : `lr finder: suggested learningRate ${result.suggestion.toExponential(1)} (steepest descent of the smoothed loss; ` +
              `in force: ${this.config.learningRate}); set it in the hyperparameters cell and re-run from there`,
      );
    } finally {
      model.dispose();
    }
  }

  /** The training cell (see trainInNotebook): live loss chart, progress line, resumable. */
  async train(): Promise<void> {
    const ds = await this.ready('training');
    if (!ds) return;
    const done = this.finishedOnDisk();
    if (done) {
      // After a kernel restart: the run is complete, so show it rather than load the model to train zero epochs.
      const chart = lossChart(lossPoints(done.history), { title: lossTitle(ds.name, this.preset) });
      showFigure(chart, { makeDisplay: this.opts.makeDisplay });
      this.adopt(done, 'training');
      this.opts.log('training: not retrained (raise epochs to train on; change another setting for a new run)');
      return;
    }
    writeRunSettings(this.runDir, this.hp);
    const result = await trainInNotebook({
      config: this.config,
      dataset: { name: ds.name, dir: ds.dir },
      runDir: this.runDir,
      weights: this.weightsChoice(),
      makeDisplay: this.opts.makeDisplay,
      log: this.opts.log,
    });
    this.history = result.history;
    this.finished = result.outcome === 'done';
  }

  /** The evaluation cell: full-resolution scores on the validation images (the KITTI devkit's way for road). */
  async evaluate(): Promise<void> {
    const ds = await this.trained('evaluation');
    if (!ds) return;
    const run = await loadRun(this.runDir);
    try {
      const { split, samples } = await this.validationSamples(ds);
      const labelled = samples.filter((s) => s.labelPath);
      const result = await evaluateSamples(run.model, ds, labelled, {
        classNames: ds.classes.map((c) => c.name),
        ignoreIndex: ds.ignoreIndex,
        inputShape: this.config.model.inputShape,
      });
      this.metrics = scoredSplit(result, { split, dataset: ds.name, dir: ds.dir, images: labelled.length });
      this.confusion = result.confusion;
      this.opts.log(`${ds.name} ${split}: ${labelled.length} images at full resolution`);
      this.opts.log(formatMetricsTable(result.metrics, result.road ?? undefined));
    } finally {
      run.model.dispose();
    }
  }

  /**
   * The "what went wrong" cell: the ignore/absent-class policy under the IoU
   * table, the row-normalised confusion matrix, and the k validation images
   * with the highest loss as image | ground truth | prediction | error map.
   */
  async whatWentWrong(k = 4): Promise<void> {
    const ds = await this.trained('error analysis');
    if (!ds) return;
    if (!this.confusion) {
      this.opts.log('error analysis: run the evaluation cell first');
      return;
    }
    this.opts.log(ioUPolicy(ds.ignoreIndex));
    showFigure(
      confusionHeatmap(
        this.confusion,
        ds.classes.map((c) => c.name),
      ),
      { makeDisplay: this.opts.makeDisplay },
    );
    const { samples } = await this.validationSamples(ds);
    const loader = new BatchLoader(
      ds,
      samples.filter((s) => s.labelPath),
      {
        inputShape: this.config.model.inputShape,
        batchSize: this.config.batchSize,
        shuffle: false,
        seed: this.config.seed,
        augment: false,
        progress: false,
      },
    );
    const run = await loadRun(this.runDir);
    try {
      const { worst } = await findWorstSamples(run.model, loader.epoch(0), {
        k,
        by: 'loss',
        numClasses: ds.classes.length,
        ignoreIndex: ds.ignoreIndex,
      });
      this.opts.log(
        `worst ${worst.length} by loss: ${worst.map((w) => `${w.id} (loss ${w.loss.toFixed(3)}, mean IoU ${w.meanIoU === null ? '-' : w.meanIoU.toFixed(3)})`).join(', ')}`,
      );
      const grid = await errorGrid(worst, ds.classes, { palette: paletteFor(ds.classes), ignoreIndex: ds.ignoreIndex });
      await showPhotos(grid, this.opts.makeDisplay);
    } finally {
      run.model.dispose();
    }
  }

  /** The test-image cell: predictions painted on test images (validation images where the set has no test split). */
  async showPredictions(layout: GridLayout = DEFAULT_LAYOUT): Promise<void> {
    const ds = await this.trained('test images');
    if (!ds) return;
    const test = ds.splits.includes('test') ? await ds.samples('test') : [];
    const samples = test.length ? test : (await this.validationSamples(ds)).samples;
    const run = await loadRun(this.runDir);
    try {
      this.testGrid = await predictionGrid(run.model, ds.classes, samples, layout, this.config.model.inputShape);
    } finally {
      run.model.dispose();
    }
    await showPhotos(this.testGrid, this.opts.makeDisplay);
  }

  /**
   * The compare cell: validation loss and mean IoU of every run of this
   * dataset in the runs folder, the legend naming the settings that differ,
   * and a table of run, differing settings, best val mIoU, epochs, minutes.
   */
  compareRuns(): void {
    if (this.stopped) {
      this.opts.log(`compare runs: skipped (${this.stopped})`);
      return;
    }
    const root = runsRoot(this.opts.env);
    const runs = listRunFolders(root, this.datasetName);
    if (runs.length === 0) {
      this.opts.log(`compare runs: no ${this.datasetName} run folder with a checkpoint in ${root} yet`);
      return;
    }
    const title = `Validation, ${runs.length} ${this.datasetName} run${runs.length === 1 ? '' : 's'}`;
    showFigure(compareRunsChart(runCurves(runs), { title }), { height: 480, makeDisplay: this.opts.makeDisplay });
    this.opts.log(compareTable(runs));
  }

  /** The figures cell: loss chart (HTML + PNG), test grid, config and metrics, into figures/ (or FCN_FIGURES). */
  async saveFigures(): Promise<void> {
    const ds = await this.trained('figures');
    if (!ds) return;
    const { figureName } = DATASETS[this.datasetName];
    const { files, notes } = await saveFigures(figuresDir(this.opts.env), {
      name: figureName,
      title: lossTitle(ds.name, this.preset),
      history: this.history,
      grid: this.testGrid,
      config: this.config,
      metrics: this.metrics,
      source: {
        dataset: ds.name,
        dir: path.relative(PROJECT_ROOT, ds.dir) || '.',
        runDir: path.relative(PROJECT_ROOT, this.runDir),
        backend: this.backend.line,
      },
    });
    for (const n of notes) this.opts.log(n);
    this.opts.log(`figures: ${files.map((f) => path.relative(PROJECT_ROOT, f)).join(', ')}`);
  }
}
