import { promises as fsp } from 'node:fs';
import { DataError } from '../util/errors';
import { type CamvidOptions, openCamvid } from './camvid';
import { type CityscapesOptions, openCityscapes } from './cityscapes';
import type { DatasetLoader } from './dataset';
import { type KittiRoadOptions, openKittiRoad } from './kitti-road';
import { type KittiSemanticOptions, openKittiSemantic } from './kitti-semantic';
import { detectLayout } from './layout';
import { DATASETS, DATASET_NAMES } from './registry';
import type { DatasetName } from './types';

export type OpenDatasetOptions = KittiRoadOptions & KittiSemanticOptions & CityscapesOptions & CamvidOptions;

/**
 * Opens dataset `name` from `dir` (its top folder, or the folder above it,
 * e.g. data/ for data/data_road). A missing or empty folder, or one that holds
 * another dataset's layout, is a DataError that says so.
 */
export async function openDataset(
  name: DatasetName,
  dir: string,
  opts: OpenDatasetOptions = {},
): Promise<DatasetLoader> {
  if (!DATASET_NAMES.includes(name)) {
    throw new DataError(`unknown dataset "${name}"; use one of ${DATASET_NAMES.join(', ')}`);
  }
  let entries: string[];
  try {
    entries = await fsp.readdir(dir);
  } catch {
    throw new DataError(`${dir} is missing; it should hold ${DATASETS[name].expected}`);
  }
  if (entries.length === 0) throw new DataError(`${dir} is empty; it should hold ${DATASETS[name].expected}`);
  const layout = await detectLayout(dir);
  if (layout === null) {
    throw new DataError(`${dir} does not hold a ${name} layout; expected ${DATASETS[name].expected}`);
  }
  if (layout.dataset !== name) {
    throw new DataError(
      `${dir} looks like ${layout.dataset} (${layout.evidence}), not ${name}; ` +
        `use --dataset ${layout.dataset} or point at the ${name} folder`,
    );
  }
  switch (name) {
    case 'kitti-road':
      return openKittiRoad(layout.root, opts);
    case 'kitti-semantic':
      return openKittiSemantic(layout.root, opts);
    case 'cityscapes':
      return openCityscapes(layout.root, opts);
    case 'camvid':
      return openCamvid(layout.root, opts);
  }
}
