import { Command, InvalidArgumentError } from 'commander';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { selectBackend } from '../backend';
import { DATASET_NAMES, findDataDir, loadRgbImage, openDataset, trainValSamples } from '../data';
import type { DatasetName } from '../data/types';
import { evaluateSamples } from '../eval/evaluate';
import { formatMetricsTable } from '../eval/format';
import { exportForInference } from '../infer/export';
import { KERAS_H5_FILE, exportKerasH5 } from '../infer/keras-h5';
import { loadPredictor } from '../infer/load-predictor';
import { predict } from '../infer/predict';
import { WEIGHT_QUANTIZATIONS, type WeightQuantization } from '../infer/quantize';
import { parseInputShape, type Fc6Variant } from '../model/config';
import { RUN_FILES } from '../train/checkpoint';
import { writeJson } from '../util/storage';
import type { CamvidClassSet } from '../data/camvid-labels';
import {
  LR_SCHEDULES, defaultPresetFor, isPresetName, resolveTrainConfig, type AugmentConfig, type ClassWeighting, type LrSchedule,
} from '../train/config';
import { loadRun } from '../train/load-run';
import { overfitBatch } from '../train/overfit';
import { openTrainingDataset, runTraining } from '../train/run';
import { FcnError, StorageError } from '../util/errors';
import { startProgress } from '../util/progress';
import { paletteFor } from '../viz/palette';
import { overlay } from '../viz/overlay';
import { encodePng } from '../viz/png';
import { registerDataCommands } from './data';
import { registerDoctorCommand } from './doctor';
import { registerImportCommand } from './import';
import { quantizeFlag } from './quantize-flag';
import { registerServeCommand } from './serve';
import { writeRunReport } from './eval-report';
import { registerLrFindCommand } from './lr-find';
import { registerStartCommand } from './start';
import { registerWeightsCommands } from './weights';

const int = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer; got ${v}`);
  return n;
};
const float = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number; got ${v}`);
  return n;
};
const datasetName = (v: string): DatasetName => {
  if (!(DATASET_NAMES as readonly string[]).includes(v)) {
    throw new InvalidArgumentError(`dataset "${v}" is unknown; use one of ${DATASET_NAMES.join(', ')}`);
  }
  return v as DatasetName;
};

const exportFormat = (v: string): 'tfjs' | 'keras-h5' => {
  if (v !== 'tfjs' && v !== 'keras-h5') throw new InvalidArgumentError(`--format ${v} is not tfjs or keras-h5`);
  return v;
};

interface TrainFlags {
  dataset?: DatasetName; data?: string; preset?: string; epochs?: number; batchSize?: number; lr?: number;
  input?: string; fc6?: Fc6Variant; width?: number; workers?: number; out?: string; resume?: boolean; stream?: boolean;
  weights?: string; scratch?: boolean; progress: boolean; overfitBatch?: boolean;
  classWeights?: ClassWeighting; classes?: CamvidClassSet; lrSchedule?: LrSchedule; augment?: AugmentConfig | null;
}

const lrSchedule = (v: string): LrSchedule => {
  if (!(LR_SCHEDULES as readonly string[]).includes(v)) {
    throw new InvalidArgumentError(`--lr-schedule ${v} is not one of ${LR_SCHEDULES.join(', ')}`);
  }
  return v as LrSchedule;
};
/** --augment none | flip,jitter=0.1,scale=1-1.5 (any of the three). */
const augmentation = (v: string): AugmentConfig | null => {
  if (v === 'none') return null;
  let flip = false, colorJitter = 0, scaleCrop: [number, number] | null = null;
  for (const part of v.split(',')) {
    const [key, value = ''] = part.split('=');
    const range = /^([\d.]+)-([\d.]+)$/.exec(value);
    if (key === 'flip' && !value) flip = true;
    else if (key === 'jitter' && Number(value) >= 0 && Number(value) < 1) colorJitter = Number(value);
    else if (key === 'scale' && range) scaleCrop = [Number(range[1]), Number(range[2])];
    else throw new InvalidArgumentError(`--augment ${v}: "${part}" is not flip, jitter=J (0 <= J < 1) or scale=LO-HI; or use none`);
  }
  return { flip, colorJitter, scaleCrop };
};

/** --class-weights none | median-frequency | w0,w1,… */
const classWeighting = (v: string): ClassWeighting => {
  if (v === 'none') return null;
  if (v === 'median-frequency') return v;
  const w = v.split(',').map(Number);
  if (w.length < 2 || w.some((x) => !Number.isFinite(x) || x < 0)) {
    throw new InvalidArgumentError(`--class-weights ${v} is not none, median-frequency or comma-separated weights >= 0 (one per class)`);
  }
  return w;
};
const camvidClasses = (v: string): CamvidClassSet => {
  if (v !== '11' && v !== '32') throw new InvalidArgumentError(`--classes ${v}: CamVid has 11 (SegNet's grouping) or 32`);
  return Number(v) as CamvidClassSet;
};

async function trainCommand(flags: TrainFlags): Promise<void> {
  const inputShape = flags.input ? parseInputShape(flags.input) : undefined;  // a bad size fails before anything loads
  const preset = flags.preset ?? defaultPresetFor((await selectBackend()).choice);
  if (!isPresetName(preset)) throw new InvalidArgumentError(`preset "${preset}" is unknown; use paper, cpu or smoke`);
  const datasetName = flags.dataset ?? 'kitti-road';
  const config = resolveTrainConfig(preset, {
    ...(flags.classWeights !== undefined && { classWeights: flags.classWeights }),
    ...(flags.lrSchedule !== undefined && { lrSchedule: flags.lrSchedule }),
    ...(flags.augment !== undefined && { augment: flags.augment }),
    ...(flags.epochs !== undefined && { epochs: flags.epochs }),
    ...(flags.batchSize !== undefined && { batchSize: flags.batchSize }),
    ...(flags.lr !== undefined && { learningRate: flags.lr }),
    ...(flags.workers !== undefined && { workers: flags.workers }),
    model: {
      ...(inputShape && { inputShape }),
      ...(flags.fc6 && { fc6: flags.fc6 }),
      ...(flags.width !== undefined && { widthMultiplier: flags.width }),
    },
  }, datasetName);
  if (flags.data && !fs.existsSync(flags.data)) {
    throw new FcnError(`data folder ${flags.data} does not exist; check the path, or run \`npx fcn data synth\` for the built-in road set`);
  }
  // KITTI Road without --data falls back to the built-in set (runTraining); other sets are looked up under data/.
  const dataDir = flags.data ?? (datasetName === 'kitti-road' ? undefined : findDataDir(datasetName));
  const dataset = dataDir
    ? { name: datasetName, dir: dataDir, ...(flags.classes !== undefined && { options: { classes: flags.classes } }) }
    : null;
  if (flags.overfitBatch) {
    await selectBackend();
    const r = await overfitBatch(config, await openTrainingDataset(dataset, (l) => console.error(l)));
    console.log(r.line);
    process.exitCode = r.passed ? 0 : 1;
    return;
  }
  const runDir = flags.out ?? path.join('runs', `${dataset?.name ?? 'kitti-road'}-${preset}`);
  const stop = { stop: false };
  const onSigint = () => {
    if (stop.stop) process.exit(130);
    stop.stop = true;
    console.error('\ninterrupt: saving a checkpoint after this batch (Ctrl-C again to quit at once)');
  };
  process.on('SIGINT', onSigint);
  const bar = { current: null as ReturnType<typeof startProgress> | null };
  try {
    const result = await runTraining({
      config, dataset, runDir, resume: flags.resume, weights: flags.scratch ? null : flags.weights,
      stop, progress: flags.progress, stream: flags.stream,
      callbacks: {
        onBatchEnd(step, l) {
          bar.current ??= startProgress('train', config.epochs * l.numBatches, { enabled: flags.progress });
          bar.current.update(step, `epoch ${l.epoch}/${config.epochs} loss ${l.loss.toFixed(4)} | ${l.numTensors} tensors, ${(l.numBytes / 2 ** 20).toFixed(0)} MiB`);
        },
        onEpochEnd(epoch, l) {
          const val = l.valLoss === null ? '' : ` val loss ${l.valLoss.toFixed(4)} mIoU ${l.valMeanIoU?.toFixed(3)}`;
          console.error(`\nepoch ${epoch}/${config.epochs}: train loss ${l.trainLoss.toFixed(4)}${val} (${l.seconds.toFixed(1)} s)`);
        },
      },
    });
    bar.current?.stop();
    if (result.outcome === 'interrupted') {
      console.error(`stopped; checkpoint saved in ${runDir}. Continue with: npx fcn train --out ${runDir} --resume`);
      return;
    }
    if (result.evaluation) console.log(formatMetricsTable(result.evaluation.metrics, result.evaluation.road ?? undefined));
    if (result.notSaved.length) process.exitCode = 1;
    console.log(`run saved in ${runDir} (${Object.values(RUN_FILES).filter((f) => fs.existsSync(path.join(runDir, f))).join(', ')})`);
  } finally {
    bar.current?.stop();
    process.off('SIGINT', onSigint);
  }
}

async function evalCommand(flags: { run: string; data?: string; split?: string; progress: boolean; report?: string }): Promise<void> {
  await selectBackend();
  const run = await loadRun(flags.run);
  const ds = await openDataset(run.dataset.name, flags.data ?? run.dataset.dir, run.dataset.options);
  const classNames = ds.classes.map((c) => c.name);
  let samples;
  let splitName: string;
  if (flags.split && flags.split !== 'holdout') {
    if (!ds.splits.includes(flags.split as never)) throw new FcnError(`split "${flags.split}" is not in ${ds.dir}; it has ${ds.splits.join(', ')}`);
    samples = await ds.samples(flags.split as 'train' | 'val' | 'test');
    splitName = flags.split;
  } else {
    // The images training validated on.
    ({ val: samples, valName: splitName } = await trainValSamples(ds, run.config));
  }
  const labelled = samples.filter((s) => s.labelPath);
  if (!labelled.length) throw new FcnError(`split ${splitName} of ${ds.dir} has no labelled images to score`);
  const bar = startProgress('eval', labelled.length, { enabled: flags.progress });
  const result = await evaluateSamples(run.model, ds, labelled, {
    classNames, ignoreIndex: ds.ignoreIndex, inputShape: run.config.model.inputShape,
    onProgress: (done) => bar.update(done),
  });
  bar.stop();
  console.log(`${ds.name} ${splitName}: ${result.images} images at full resolution`);
  console.log(formatMetricsTable(result.metrics, result.road ?? undefined));
  const out = path.join(flags.run, RUN_FILES.metrics);
  run.model.dispose();
  try {
    writeJson(out, {
      split: splitName, dataset: ds.name, dir: ds.dir, images: result.images,
      metrics: result.metrics, road: result.road, confusion: Array.from(result.confusion.counts),
    }, 'The scores above are complete; they were not saved.');
  } catch (err) {
    if (!(err instanceof StorageError)) throw err;
    console.error(`not saved: ${err.message}`);
    process.exitCode = 1;
    return;
  }
  console.log(`metrics written to ${out}`);
  if (flags.report) console.log(`report written to ${(await writeRunReport(flags.run, flags.data, flags.report)).html}`);
}

async function predictCommand(images: string[], flags: { run: string; out: string; native?: boolean }): Promise<void> {
  await selectBackend();
  const predictor = await loadPredictor(flags.run);
  const palette = paletteFor(predictor.classes);
  fs.mkdirSync(flags.out, { recursive: true });
  for (const file of images) {
    if (!fs.existsSync(file)) throw new FcnError(`image ${file} does not exist`);
    const image = await loadRgbImage(file);
    const pred = await predict(predictor.model, image, { inputShape: flags.native ? null : predictor.inputShape });
    const base = path.basename(file, path.extname(file));
    const painted = overlay(image, pred.labels, palette);
    fs.writeFileSync(path.join(flags.out, `${base}_overlay.png`), await encodePng(painted));
    const ids = { data: pred.labels.data, height: pred.height, width: pred.width };
    const sharp = (await import('sharp')).default;
    // b-w keeps one channel: without it sharp writes the ids as a 3-channel sRGB PNG.
    await sharp(ids.data, { raw: { width: ids.width, height: ids.height, channels: 1 } }).toColourspace('b-w').png()
      .toFile(path.join(flags.out, `${base}_labels.png`));
    console.log(`${file} -> ${path.join(flags.out, base)}_{overlay,labels}.png`);
  }
  predictor.model.dispose();
}

/** Builds the `fcn` program; every subcommand calls the functions a notebook calls. */
export function buildProgram(): Command {
  const program = new Command('fcn')
    .description('FCN-8 (VGG16) semantic segmentation of street scenes: train, evaluate, predict')
    .showHelpAfterError();
  program.command('train')
    .description('train an FCN-8 into a run folder (checkpoint every epoch; Ctrl-C saves)')
    .option('--dataset <name>', `dataset layout: ${DATASET_NAMES.join(', ')}`, datasetName)
    .option('--data <dir>', 'dataset folder (default: data/data_road, else the built-in road set)')
    .option('--preset <name>', 'paper | cpu | smoke (default: paper on a GPU backend, cpu otherwise)')
    .option('--epochs <n>', 'epochs', int('--epochs'))
    .option('--batch-size <n>', 'images per step', int('--batch-size'))
    .option('--lr <x>', 'Adam learning rate', float('--lr'))
    .option('--input <HxW>', 'training input size, multiples of 32 (e.g. 160x576)')
    .option('--fc6 <variant>', 'paper (7x7x4096) | lite (3x3x1024 dilated)')
    .option('--width <x>', 'channel width multiplier in (0, 1]', float('--width'))
    .option('--workers <n>', 'worker threads on wasm (0 = one per core, 1 = off)', int('--workers'))
    .option('--lr-schedule <s>', `learning rate over the run: ${LR_SCHEDULES.join(' | ')}`, lrSchedule)
    .option('--augment <spec>', 'none | any of flip,jitter=J,scale=LO-HI (e.g. flip,jitter=0.1,scale=1-1.5)', augmentation)
    .option('--class-weights <w>', 'none | median-frequency | w0,w1,… (one per class)', classWeighting)
    .option('--classes <n>', 'camvid: 11 (SegNet\'s grouping, default) or 32 (fastai / original layouts)', camvidClasses)
    .option('--out <dir>', 'run folder (default: runs/<dataset>-<preset>)')
    .option('--resume', 'continue the run folder from its last checkpoint')
    .option('--stream', 'read training images from disk every epoch instead of keeping them in memory')
    .option('--weights <file>', 'VGG16 .h5 to start from (default: data/weights/ when present)')
    .option('--scratch', 'do not load pretrained weights')
    .option('--overfit-batch', 'train one batch to near-zero loss and print pass or fail (checks model, labels and loss)')
    .option('--no-progress', 'no progress bar')
    .action(trainCommand);
  program.command('eval')
    .description('score a run at full resolution; prints a table and writes metrics.json')
    .requiredOption('--run <dir>', 'run folder')
    .option('--data <dir>', 'dataset folder (default: the one the run trained on)')
    .option('--split <name>', 'holdout (default), val, train or test')
    .option('--report <dir>', 'also write the error-analysis page (index.html + worst.png)')
    .option('--no-progress', 'no progress bar')
    .action(evalCommand);
  program.command('predict')
    .description('segment images of any size; writes <name>_overlay.png and <name>_labels.png')
    .argument('<images...>', 'PNG or JPEG files')
    .requiredOption('--run <dir>', 'run folder, or a folder `fcn export` wrote (quantized or not)')
    .option('--out <dir>', 'output folder', 'predictions')
    .option('--native', 'run at the image\'s own size instead of the training size')
    .action(predictCommand);
  program.command('export')
    .description('write a copy of a run: tfjs (stock layers + fcn-model.json, for a browser or Node app) or Keras HDF5')
    .requiredOption('--run <dir>', 'run folder')
    .requiredOption('--out <dir>', 'output folder')
    .option('--format <f>', `tfjs | keras-h5 (Keras's save_weights file, ${KERAS_H5_FILE})`, exportFormat, 'tfjs')
    .option('--quantize <q>', `tfjs weights as ${WEIGHT_QUANTIZATIONS.join(' | ')} (dequantized when loaded)`,
      quantizeFlag)
    .action(async (flags: { run: string; out: string; format: 'tfjs' | 'keras-h5'; quantize?: WeightQuantization }) => {
      await selectBackend();
      if (flags.format === 'keras-h5') {
        if (flags.quantize) throw new FcnError('--quantize applies to --format tfjs only; drop it for keras-h5');
        console.log(`wrote ${await exportKerasH5(flags.run, flags.out)}`);
        return;
      }
      const files = await exportForInference(flags.run, flags.out, { quantize: flags.quantize });
      for (const f of files) console.log(`wrote ${f}`);
    });
  registerImportCommand(program);
  registerServeCommand(program);
  registerDataCommands(program);
  registerWeightsCommands(program);
  registerDoctorCommand(program);
  registerLrFindCommand(program);
  registerStartCommand(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    // Our errors carry the fix in their message; a stack trace would only hide it.
    if (err instanceof FcnError) {
      console.error(`error: ${err.message}`);
      process.exitCode = 1;
      return;
    }
    throw err;
  }
}
