import * as path from 'node:path';
import { DataError } from '../util/errors';
import {
  type DatasetLoader,
  type DecodedLabel,
  isDirectory,
  makeLoader,
  listPngs,
  noSuchSplit,
  pairByKey,
  type SplitScan,
  UnknownValueCounter,
  unlabelled,
} from './dataset';
import { loadRgbImage } from './png';
import { type ClassInfo, IGNORE_INDEX, type Split } from './types';

/**
 * KITTI Road (data_road.zip): training/image_2/<cat>_NNNNNN.png with
 * training/gt_image_2/<cat>_<road|lane>_NNNNNN.png, testing/image_2 without
 * labels. <cat> is um, umm or uu; only um has lane labels.
 */

export type KittiRoadLabelType = 'road' | 'lane';

export interface KittiRoadOptions {
  /** 'road' (all lanes, every frame; default) or 'lane' (the ego lane, um frames only). */
  readonly labelType?: KittiRoadLabelType;
}

export const KITTI_ROAD_CLASSES: readonly ClassInfo[] = Object.freeze([
  { name: 'not road', color: [255, 0, 0] as const },
  { name: 'road', color: [255, 0, 255] as const },
]);

const KITTI_LANE_CLASSES: readonly ClassInfo[] = Object.freeze([
  { name: 'not ego lane', color: [255, 0, 0] as const },
  { name: 'ego lane', color: [255, 0, 255] as const },
]);

const IMAGE_NAME = /^(um|umm|uu)_(\d{6})\.png$/;
const LABEL_NAME = /^(um|umm|uu)_(road|lane)_(\d{6})\.png$/;

/**
 * The devkit's rule (evaluateRoad.py reads BGR: valid = red > 0, positive =
 * blue > 0): red 0 is outside the evaluated area and ignored; else blue > 0
 * is road. Colours other than magenta, red and black are decoded by the same
 * rule but reported as unknown.
 */
export function decodeKittiRoadLabel(rgb: Uint8Array, height: number, width: number): DecodedLabel {
  const out = new Uint8Array(height * width);
  const unknown = new UnknownValueCounter(width);
  for (let i = 0; i < out.length; i++) {
    const r = rgb[i * 3];
    const g = rgb[i * 3 + 1];
    const b = rgb[i * 3 + 2];
    out[i] = r === 0 ? IGNORE_INDEX : b > 0 ? 1 : 0;
    const known = g === 0 && ((r === 255 && (b === 255 || b === 0)) || (r === 0 && b === 0));
    if (!known) unknown.add(i, `(${r},${g},${b})`);
  }
  return { label: { data: out, height, width }, unknown: unknown.values };
}

export async function openKittiRoad(dir: string, opts: KittiRoadOptions = {}): Promise<DatasetLoader> {
  const labelType = opts.labelType ?? 'road';
  if (labelType !== 'road' && labelType !== 'lane') {
    throw new DataError(`KITTI Road label type "${String(labelType)}" is not road or lane`);
  }
  const splits: Split[] = [];
  if (await isDirectory(path.join(dir, 'training/image_2'))) splits.push('train');
  if (await isDirectory(path.join(dir, 'testing/image_2'))) splits.push('test');

  async function scan(split: Split): Promise<SplitScan> {
    if (!splits.includes(split)) throw noSuchSplit('KITTI Road', dir, split, splits);
    const top = split === 'train' ? 'training' : 'testing';
    const images = new Map<string, string>();
    for (const n of await listPngs(path.join(dir, top, 'image_2'), 'KITTI Road images um_000000.png …')) {
      if (IMAGE_NAME.test(n)) images.set(n.slice(0, -4), path.join(dir, top, 'image_2', n));
    }
    if (split === 'test') return unlabelled(images);
    const labels = new Map<string, string>();
    const gtDir = path.join(dir, 'training/gt_image_2');
    for (const n of await listPngs(gtDir, 'KITTI Road labels um_road_000000.png …')) {
      const m = LABEL_NAME.exec(n);
      if (m && m[2] === labelType) labels.set(`${m[1]}_${m[3]}`, path.join(gtDir, n));
    }
    if (labelType === 'lane') {
      // Only um frames have lane labels; umm/uu images are not orphans, just not part of this task.
      for (const id of [...images.keys()]) if (!id.startsWith('um_')) images.delete(id);
    }
    return pairByKey(images, labels);
  }

  async function decodeLabelChecked(labelPath: string): Promise<DecodedLabel> {
    const rgb = await loadRgbImage(labelPath);
    return decodeKittiRoadLabel(rgb.data, rgb.height, rgb.width);
  }

  const classes = labelType === 'road' ? KITTI_ROAD_CLASSES : KITTI_LANE_CLASSES;
  return makeLoader({ name: 'kitti-road', dir, classes, splits, scan, decodeLabelChecked });
}
