import type { Command } from 'commander';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { selectBackend } from '../backend';
import { DATASET_NAMES, findDataDir } from '../data';
import type { CamvidClassSet } from '../data/camvid-labels';
import type { DatasetName } from '../data/types';
import { formatMetricsTable } from '../eval/format';
import type { Fc6Variant } from '../model/config';
import { RUN_FILES } from '../run/checkpoint';
import {
  LR_SCHEDULES,
  defaultPresetFor,
  resolveTrainConfig,
  type AugmentConfig,
  type ClassWeighting,
  type LrSchedule,
  type PresetName,
} from '../run/config';
import { overfitBatch } from '../train/overfit';
import { stopOnInterrupt } from '../train/interrupt';
import { openTrainingDataset, runTraining } from '../train/run';
import { FcnError } from '../util/errors';
import { startProgress } from '../util/progress';
import {
  PRESET_CHOICES,
  augmentation,
  camvidClasses,
  classWeighting,
  datasetName,
  inputSize,
  lrSchedule,
  number,
  presetName,
  wholeNumber,
  withFlagNames,
} from './args';

interface TrainFlags {
  dataset?: DatasetName;
  data?: string;
  preset?: PresetName;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  input?: [number, number];
  fc6?: Fc6Variant;
  width?: number;
  workers?: number;
  out?: string;
  resume?: boolean;
  stream?: boolean;
  weights?: string;
  scratch?: boolean;
  progress: boolean;
  overfitBatch?: boolean;
  classWeights?: ClassWeighting;
  classes?: CamvidClassSet;
  lrSchedule?: LrSchedule;
  augment?: AugmentConfig | null;
}

async function trainCommand(flags: TrainFlags): Promise<void> {
  const preset = flags.preset ?? defaultPresetFor((await selectBackend()).choice);
  const datasetName = flags.dataset ?? 'kitti-road';
  const config = withFlagNames({ ...flags }, () =>
    resolveTrainConfig(
      preset,
      {
        ...(flags.classWeights !== undefined && { classWeights: flags.classWeights }),
        ...(flags.lrSchedule !== undefined && { lrSchedule: flags.lrSchedule }),
        ...(flags.augment !== undefined && { augment: flags.augment }),
        ...(flags.epochs !== undefined && { epochs: flags.epochs }),
        ...(flags.batchSize !== undefined && { batchSize: flags.batchSize }),
        ...(flags.lr !== undefined && { learningRate: flags.lr }),
        ...(flags.workers !== undefined && { workers: flags.workers }),
        model: {
          ...(flags.input && { inputShape: flags.input }),
          ...(flags.fc6 && { fc6: flags.fc6 }),
          ...(flags.width !== undefined && { widthMultiplier: flags.width }),
        },
      },
      datasetName,
    ),
  );
  if (flags.data && !fs.existsSync(flags.data)) {
    throw new FcnError(
      `data folder ${flags.data} does not exist; check the path, or run \`npx fcn data synth\` for the built-in road set`,
    );
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
  const { stop, release } = stopOnInterrupt(
    () => console.error('\ninterrupt: saving a checkpoint after this batch (Ctrl-C again to quit at once)'),
    () => process.exit(130),
  );
  const bar = { current: null as ReturnType<typeof startProgress> | null };
  try {
    const result = await runTraining({
      config,
      dataset,
      runDir,
      resume: flags.resume,
      weights: flags.scratch ? null : flags.weights,
      stop,
      progress: flags.progress,
      stream: flags.stream,
      callbacks: {
        onBatchEnd(step, l) {
          bar.current ??= startProgress('train', config.epochs * l.numBatches, { enabled: flags.progress });
          bar.current.update(
            step,
            `epoch ${l.epoch}/${config.epochs} loss ${l.loss.toFixed(4)} | ${l.numTensors} tensors, ${(l.numBytes / 2 ** 20).toFixed(0)} MiB`,
          );
        },
        onEpochEnd(epoch, l) {
          const val = l.valLoss === null ? '' : ` val loss ${l.valLoss.toFixed(4)} mIoU ${l.valMeanIoU?.toFixed(3)}`;
          console.error(
            `\nepoch ${epoch}/${config.epochs}: train loss ${l.trainLoss.toFixed(4)}${val} (${l.seconds.toFixed(1)} s)`,
          );
        },
      },
    });
    bar.current?.stop();
    if (result.outcome === 'interrupted') {
      console.error(`stopped; checkpoint saved in ${runDir}. Continue with: npx fcn train --out ${runDir} --resume`);
      return;
    }
    if (result.evaluation)
      console.log(formatMetricsTable(result.evaluation.metrics, result.evaluation.road ?? undefined));
    if (result.notSaved.length) process.exitCode = 1;
    console.log(
      `run saved in ${runDir} (${Object.values(RUN_FILES)
        .filter((f) => fs.existsSync(path.join(runDir, f)))
        .join(', ')})`,
    );
  } finally {
    bar.current?.stop();
    release();
  }
}

export function registerTrainCommand(program: Command): void {
  program
    .command('train')
    .description('train an FCN-8 into a run folder (checkpoint every epoch; Ctrl-C saves)')
    .option('--dataset <name>', `dataset layout: ${DATASET_NAMES.join(', ')}`, datasetName)
    .option('--data <dir>', 'dataset folder (default: data/data_road, else the built-in road set)')
    .option('--preset <name>', `${PRESET_CHOICES} (default: paper on a GPU backend, cpu otherwise)`, presetName)
    .option('--epochs <n>', 'epochs', wholeNumber('--epochs'))
    .option('--batch-size <n>', 'images per step', wholeNumber('--batch-size'))
    .option('--lr <x>', 'Adam learning rate', number('--lr'))
    .option('--input <HxW>', 'training input size, multiples of 32 (e.g. 160x576)', inputSize)
    .option('--fc6 <variant>', 'paper (7x7x4096) | lite (3x3x1024 dilated)')
    .option('--width <x>', 'channel width multiplier in (0, 1]', number('--width'))
    .option('--workers <n>', 'worker threads on wasm (0 = one per core, 1 = off)', wholeNumber('--workers'))
    .option('--lr-schedule <s>', `learning rate over the run: ${LR_SCHEDULES.join(' | ')}`, lrSchedule)
    .option(
      '--augment <spec>',
      'none | any of flip,jitter=J,scale=LO-HI (e.g. flip,jitter=0.1,scale=1-1.5)',
      augmentation,
    )
    .option('--class-weights <w>', 'none | median-frequency | w0,w1,… (one per class)', classWeighting)
    .option('--classes <n>', "camvid: 11 (SegNet's grouping, default) or 32 (fastai / original layouts)", camvidClasses)
    .option('--out <dir>', 'run folder (default: runs/<dataset>-<preset>)')
    .option('--resume', 'continue the run folder from its last checkpoint')
    .option('--stream', 'read training images from disk every epoch instead of keeping them in memory')
    .option('--weights <file>', 'VGG16 .h5 to start from (default: data/weights/ when present)')
    .option('--scratch', 'do not load pretrained weights')
    .option(
      '--overfit-batch',
      'train one batch to near-zero loss and print pass or fail (checks model, labels and loss)',
    )
    .option('--no-progress', 'no progress bar')
    .action(trainCommand);
}
