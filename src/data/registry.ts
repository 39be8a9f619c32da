import * as fs from 'node:fs';
import * as path from 'node:path';
import { DataError } from '../util/errors';
import type { DatasetName } from './types';

/**
 * What each dataset is, in one place: its folders under data/, the layout a
 * message asks for, how to get it, its name in figures/, and which class the
 * KITTI road metrics score. Loaders (src/data/<name>.ts) read the files;
 * presets per dataset are in src/run/config.ts.
 */
export interface DatasetInfo {
  readonly name: DatasetName;
  /** For titles: "KITTI Road", "CamVid". */
  readonly title: string;
  /** Its name in figures/ and notebooks/ (`<figureName>.ipynb`). */
  readonly figureName: string;
  /** Folders under the project root tried in order when no folder is given. */
  readonly dataDirs: readonly string[];
  /** The archive's top folder names, tried inside a folder that matches no layout itself. */
  readonly topFolders: readonly string[];
  /** The layout, as an error message names it. */
  readonly expected: string;
  /** One sentence: how a user gets it. */
  readonly howToGet: string;
  /** Class id scored with the KITTI road metrics (MaxF, AP), null when the task is not road vs not road. */
  readonly roadClass: number | null;
}

export const DATASETS: Readonly<Record<DatasetName, DatasetInfo>> = Object.freeze({
  'kitti-road': {
    name: 'kitti-road',
    title: 'KITTI Road',
    figureName: 'kitti_road',
    dataDirs: ['data/data_road'],
    topFolders: ['data_road'],
    expected: 'training/image_2 and training/gt_image_2 (data_road.zip)',
    howToGet: 'npx fcn data download kitti-road (or unzip data_road.zip into data/)',
    roadClass: 1,
  },
  'kitti-semantic': {
    name: 'kitti-semantic',
    title: 'KITTI semantic',
    figureName: 'kitti_semantic',
    dataDirs: ['data/KITTI_SEMANTIC', 'data/data_semantics'],
    topFolders: ['KITTI_SEMANTIC', 'data_semantics'],
    expected: 'Training_00/RGB + GT (or Training/, Testing/), or training/image_2 + training/semantic',
    howToGet:
      'unzip the Ros et al. KITTI semantic set so that data/KITTI_SEMANTIC/Training_00/{RGB,GT} exist ' +
      '(data/README.md says where to get it), then check it with `npx fcn data check data/KITTI_SEMANTIC --dataset kitti-semantic`',
    roadClass: null,
  },
  cityscapes: {
    name: 'cityscapes',
    title: 'Cityscapes',
    figureName: 'cityscapes',
    dataDirs: ['data/cityscapes_small', 'data/cityscapes'],
    topFolders: ['cityscapes'],
    expected: 'leftImg8bit/<split>/<city> and gtFine/<split>/<city>',
    howToGet:
      'download gtFine_trainvaltest.zip and leftImg8bit_trainvaltest.zip from https://www.cityscapes-dataset.com ' +
      '(free account), unzip both into data/cityscapes/, and for a CPU-sized copy run `npx fcn data downsize cityscapes ' +
      '--src data/cityscapes --out data/cityscapes_small`, which is used first when present (data/README.md)',
    roadClass: null,
  },
  camvid: {
    name: 'camvid',
    title: 'CamVid',
    figureName: 'camvid',
    dataDirs: ['data/CamVid'],
    topFolders: ['CamVid', 'camvid'],
    expected:
      'train/ + trainannot/ (SegNet), images/ + labels/ + codes.txt (fastai) or ' +
      '701_StillsRaw_full/ + LabeledApproved_full/ (the original release)',
    howToGet:
      "npx fcn data download camvid (SegNet's copy, 11 classes), or npx fcn data import camvid <folder|zip> " +
      'for a copy you have',
    roadClass: null,
  },
} satisfies Record<DatasetName, DatasetInfo>);

export const DATASET_NAMES: readonly DatasetName[] = Object.freeze(Object.keys(DATASETS) as DatasetName[]);

export function isDatasetName(name: string): name is DatasetName {
  return Object.prototype.hasOwnProperty.call(DATASETS, name);
}

/** The first of the dataset's folders under `root` that exists; a DataError that says how to get it when none does. */
export function findDataDir(name: DatasetName, root = '.'): string {
  const info = DATASETS[name];
  const found = info.dataDirs.map((d) => path.join(root, d)).find((d) => fs.existsSync(d));
  if (found === undefined) {
    throw new DataError(
      `${info.title} is not in ${info.dataDirs.map((d) => path.join(root, d)).join(' or ')}; ` +
        `get it with: ${info.howToGet}; or name its folder with --data`,
    );
  }
  return found;
}
