import type { Command } from 'commander';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { selectBackend } from '../backend';
import { BatchLoader, DATASET_NAMES, trainValSamples } from '../data';
import type { DatasetName } from '../data/types';
import { buildFcn8 } from '../model/fcn8';
import { defaultPresetFor, resolveTrainConfig, type PresetName, type TrainConfig } from '../run/config';
import { loadRun } from '../run/load-run';
import { findLearningRate } from '../train/lr-find';
import { lrFindChart } from '../viz/lr-find-chart';
import { checkMemoryPlan, planMemory } from '../train/memory-plan';
import { loadPretrainedIfPresent } from '../train/pretrained';
import { openTrainingDataset } from '../train/run';
import { startProgress } from '../util/progress';
import { figureHtml } from '../viz/curves';
import { PRESET_CHOICES, datasetName, positiveNumber, presetName } from './args';

interface LrFindFlags {
  run?: string;
  dataset?: DatasetName;
  data?: string;
  preset?: PresetName;
  weights?: string;
  scratch?: boolean;
  start: number;
  end: number;
  steps: number;
  out: string;
  progress: boolean;
}

async function lrFindCommand(flags: LrFindFlags): Promise<void> {
  const log = (line: string) => console.error(line);
  const backend = await selectBackend({ log });
  // From a run's current weights and config, on the data it trained on; else a fresh model of a preset.
  const run = flags.run ? await loadRun(flags.run) : null;
  const dataset = flags.data
    ? { name: flags.dataset ?? 'kitti-road', dir: flags.data }
    : run
      ? { name: run.dataset.name, dir: run.dataset.dir }
      : null;
  const ds = await openTrainingDataset(dataset, log);
  const preset = flags.preset ?? defaultPresetFor(backend.choice);
  const config: TrainConfig = run
    ? run.config
    : resolveTrainConfig(preset, { model: { numClasses: ds.classes.length } });
  checkMemoryPlan(planMemory(config, backend));
  const model = run ? run.model : buildFcn8(config.model);
  if (!run) await loadPretrainedIfPresent(model, config.model, flags.scratch ? null : flags.weights, log);
  const { train } = await trainValSamples(ds, config);
  const loader = new BatchLoader(ds, train, {
    inputShape: config.model.inputShape,
    batchSize: config.batchSize,
    shuffle: true,
    seed: config.seed,
    augment: false,
    progress: flags.progress,
  });
  const bar = startProgress('lr-find', flags.steps, { enabled: flags.progress });
  const result = await findLearningRate(model, loader, {
    config,
    start: flags.start,
    end: flags.end,
    steps: flags.steps,
    ignoreIndex: ds.ignoreIndex,
    onStep: (p) => bar.update(p.step + 1, `lr ${p.lr.toExponential(2)} loss ${p.loss.toFixed(4)}`),
  });
  bar.stop();
  model.dispose();
  if (result.stoppedEarly) log(`lr-find: stopped early: ${result.stoppedEarly}`);
  fs.mkdirSync(path.dirname(path.resolve(flags.out)), { recursive: true });
  fs.writeFileSync(flags.out, figureHtml(lrFindChart(result)));
  log(`lr-find: loss against learning rate in ${flags.out}`);
  console.log(
    result.suggestion === null
      ? 'no suggestion: the loss never fell; widen the range (--start lower) or check the labels with `npx fcn data check`'
      : `suggested learning rate: ${result.suggestion.toExponential(1)} (steepest descent of the smoothed loss); ` +
          `train with --lr ${result.suggestion.toExponential(1)}`,
  );
}

/** `fcn lr-find`: the learning-rate range test from the current weights (restored afterwards). */
export function registerLrFindCommand(program: Command): void {
  program
    .command('lr-find')
    .description(
      'sweep the learning rate exponentially, plot loss against it, print a suggested --lr (weights restored)',
    )
    .option('--run <dir>', "start from a run folder's weights and config")
    .option('--dataset <name>', `dataset layout: ${DATASET_NAMES.join(', ')}`, datasetName)
    .option('--data <dir>', "dataset folder (default: the run's, else data/data_road, else the built-in road set)")
    .option('--preset <name>', `${PRESET_CHOICES}, without --run (default: as fcn train)`, presetName)
    .option('--weights <file>', 'VGG16 .h5 to start from, without --run (default: data/weights/ when present)')
    .option('--scratch', 'do not load pretrained weights')
    .option('--start <lr>', 'first learning rate', positiveNumber('--start'), 1e-7)
    .option('--end <lr>', 'last learning rate', positiveNumber('--end'), 1)
    .option('--steps <n>', 'steps of the sweep', positiveNumber('--steps'), 100)
    .option('--out <file>', 'the Plotly page to write', 'lr-find.html')
    .option('--no-progress', 'no progress bar')
    .action(lrFindCommand);
}
