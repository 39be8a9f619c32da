import * as path from 'node:path';
import { camvidLayoutOf } from './camvid';
import { isDirectory } from './dataset';
import { DATASETS } from './registry';
import type { DatasetName } from './types';

/**
 * Recognises the folder layouts of the supported datasets, so that opening a
 * folder with the wrong --dataset says which one it looks like, and so that a
 * dataset may be opened from its archive's top folder or the folder above.
 */

export type LayoutKind =
  | 'kitti-road'
  | 'kitti-semantic-ros'
  | 'kitti-semantic-official'
  | 'cityscapes'
  | 'camvid-segnet'
  | 'camvid-fastai'
  | 'camvid-original';

export interface DetectedLayout {
  readonly kind: LayoutKind;
  readonly dataset: DatasetName;
  /** The folder the loader reads (the given one, or the dataset's top folder inside it). */
  readonly root: string;
  /** The folders that gave it away, for messages. */
  readonly evidence: string;
}

const ROS_SPLIT_DIRS = ['Training_00', 'Validation_07', 'Training', 'Testing'];

async function detectAt(dir: string): Promise<DetectedLayout | null> {
  const has = (p: string) => isDirectory(path.join(dir, p));
  if ((await has('training/gt_image_2')) || ((await has('training/image_2')) && (await has('testing/calib')))) {
    return { kind: 'kitti-road', dataset: 'kitti-road', root: dir, evidence: 'training/image_2 + training/gt_image_2' };
  }
  if ((await has('training/semantic')) || (await has('training/semantic_rgb'))) {
    return {
      kind: 'kitti-semantic-official',
      dataset: 'kitti-semantic',
      root: dir,
      evidence: 'training/image_2 + training/semantic',
    };
  }
  for (const s of ROS_SPLIT_DIRS) {
    if (await has(`${s}/RGB`)) {
      return { kind: 'kitti-semantic-ros', dataset: 'kitti-semantic', root: dir, evidence: `${s}/RGB` };
    }
  }
  if ((await has('leftImg8bit')) || (await has('gtFine'))) {
    return { kind: 'cityscapes', dataset: 'cityscapes', root: dir, evidence: 'leftImg8bit/ + gtFine/' };
  }
  const camvid = await camvidLayoutOf(dir);
  if (camvid !== null) {
    const evidence = {
      segnet: 'train/ + trainannot/',
      fastai: 'images/ + labels/ + codes.txt',
      original: '701_StillsRaw_full/ + LabeledApproved_full/',
    };
    return { kind: `camvid-${camvid}`, dataset: 'camvid', root: dir, evidence: evidence[camvid] };
  }
  return null;
}

/** The archives' top folders, tried inside `dir` when `dir` itself matches nothing. */
const TOP_FOLDERS = Object.values(DATASETS).flatMap((d) => d.topFolders);

/** Which dataset layout `dir` (or a known top folder inside it) holds, or null. */
export async function detectLayout(dir: string): Promise<DetectedLayout | null> {
  const here = await detectAt(dir);
  if (here) return here;
  for (const top of TOP_FOLDERS) {
    const inner = await detectAt(path.join(dir, top));
    if (inner) return inner;
  }
  return null;
}
