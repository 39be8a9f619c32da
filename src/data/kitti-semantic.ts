import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { DataError } from '../util/errors';
import { type CityscapesClassSet, cityscapesClasses, cityscapesIdLookup, decodeIdLabel } from './cityscapes-labels';
import defaultColorTable from './classes/kitti-semantic.json';
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
import { loadGray8, loadRgbImage } from './png';
import { type ClassInfo, IGNORE_INDEX, type Split } from './types';

/**
 * Two "KITTI semantic" sets:
 * - 'ros': Ros et al. (WACV 2015), KITTI_SEMANTIC/{Training_00,Validation_07}/{RGB,GT}
 *   (or the re-split Training/, Testing/), colour GT decoded with a colour table;
 * - 'official': KITTI's semantic benchmark, training/{image_2,semantic}, with
 *   Cityscapes label ids mapped to the 19 Cityscapes train classes.
 */

export type KittiSemanticLayout = 'ros' | 'official';

export interface ColorTable {
  readonly void: ClassInfo;
  readonly classes: readonly ClassInfo[];
}

export interface KittiSemanticOptions {
  /** Which of the two sets; found from the folders when absent. */
  readonly layout?: KittiSemanticLayout;
  /** 'ros' only: a JSON colour table like src/data/classes/kitti-semantic.json (default: that file). */
  readonly colorTable?: string;
  /** 'ros' only: split -> folder under the root (default Training_00|Training, Validation_07, Testing). */
  readonly splitDirs?: Partial<Record<Split, string>>;
  /** 'official' only: Cityscapes class set (default 'train19'). */
  readonly classSet?: CityscapesClassSet;
}

const ROS_DEFAULT_DIRS: Record<Split, readonly string[]> = {
  train: ['Training_00', 'Training'],
  val: ['Validation_07', 'Validation'],
  test: ['Testing'],
};

/** Reads and validates a colour table; a bad one names the file and the field. */
export async function loadColorTable(file: string): Promise<ColorTable> {
  let raw: unknown;
  try {
    raw = JSON.parse(await fsp.readFile(file, 'utf8'));
  } catch (err) {
    throw new DataError(
      `colour table ${file} cannot be read as JSON (${(err as Error).message}); ` +
        'copy src/data/classes/kitti-semantic.json and edit it',
    );
  }
  return validateColorTable(raw, file);
}

function validateColorTable(raw: unknown, source: string): ColorTable {
  const isColor = (c: unknown): c is [number, number, number] =>
    Array.isArray(c) && c.length === 3 && c.every((v) => Number.isInteger(v) && v >= 0 && v <= 255);
  const isClass = (c: unknown): c is ClassInfo =>
    typeof c === 'object' && c !== null && typeof (c as ClassInfo).name === 'string' && isColor((c as ClassInfo).color);
  const t = raw as { void?: unknown; classes?: unknown };
  if (!isClass(t.void) || !Array.isArray(t.classes) || t.classes.length === 0 || !t.classes.every(isClass)) {
    throw new DataError(
      `colour table ${source} must be {"void": {name, color: [r,g,b]}, "classes": [{name, color}, …]}`,
    );
  }
  const seen = new Map<string, string>();
  for (const c of [t.void, ...t.classes] as ClassInfo[]) {
    const key = c.color.join(',');
    const other = seen.get(key);
    if (other !== undefined)
      throw new DataError(`colour table ${source}: ${c.name} and ${other} share the colour (${key})`);
    seen.set(key, c.name);
  }
  return { void: t.void, classes: t.classes };
}

/**
 * Colour GT -> class ids: table colours to their index, void to the ignore id, any other colour to the ignore id and
 * counted.
 */
export function decodeColorLabel(rgb: Uint8Array, height: number, width: number, table: ColorTable): DecodedLabel {
  const ids = new Map<number, number>();
  table.classes.forEach((c, i) => ids.set((c.color[0] << 16) | (c.color[1] << 8) | c.color[2], i));
  const voidKey = (table.void.color[0] << 16) | (table.void.color[1] << 8) | table.void.color[2];
  const out = new Uint8Array(height * width);
  const unknown = new UnknownValueCounter(width);
  for (let i = 0; i < out.length; i++) {
    const key = (rgb[i * 3] << 16) | (rgb[i * 3 + 1] << 8) | rgb[i * 3 + 2];
    const cls = ids.get(key);
    if (cls !== undefined) {
      out[i] = cls;
    } else {
      out[i] = IGNORE_INDEX;
      if (key !== voidKey) unknown.add(i, `(${rgb[i * 3]},${rgb[i * 3 + 1]},${rgb[i * 3 + 2]})`);
    }
  }
  return { label: { data: out, height, width }, unknown: unknown.values };
}

async function findLayout(dir: string): Promise<KittiSemanticLayout> {
  if (await isDirectory(path.join(dir, 'training/semantic'))) return 'official';
  return 'ros';
}

export async function openKittiSemantic(dir: string, opts: KittiSemanticOptions = {}): Promise<DatasetLoader> {
  const layout = opts.layout ?? (await findLayout(dir));
  return layout === 'official' ? openOfficial(dir, opts) : openRos(dir, opts);
}

async function openRos(dir: string, opts: KittiSemanticOptions): Promise<DatasetLoader> {
  const table = opts.colorTable
    ? await loadColorTable(opts.colorTable)
    : validateColorTable(defaultColorTable, 'src/data/classes/kitti-semantic.json');
  const splitDir = new Map<Split, string>();
  for (const split of ['train', 'val', 'test'] as const) {
    const given = opts.splitDirs?.[split];
    if (given !== undefined) {
      if (!(await isDirectory(path.join(dir, given, 'RGB')))) {
        throw new DataError(
          `${path.join(dir, given, 'RGB')} is missing; the ${split} folder ${given} needs RGB/ (and GT/)`,
        );
      }
      splitDir.set(split, given);
      continue;
    }
    for (const candidate of ROS_DEFAULT_DIRS[split]) {
      if (await isDirectory(path.join(dir, candidate, 'RGB'))) {
        splitDir.set(split, candidate);
        break;
      }
    }
  }
  const splits = [...splitDir.keys()];

  async function scan(split: Split): Promise<SplitScan> {
    const folder = splitDir.get(split);
    if (folder === undefined) throw noSuchSplit('KITTI semantic', dir, split, splits);
    const images = new Map<string, string>();
    const rgbDir = path.join(dir, folder, 'RGB');
    for (const n of await listPngs(rgbDir, 'RGB frames NNNNNN.png')) images.set(n.slice(0, -4), path.join(rgbDir, n));
    const gtDir = path.join(dir, folder, 'GT');
    // The re-split Testing/ may come without GT: then it is an unlabelled split.
    if (split === 'test' && !(await isDirectory(gtDir))) return unlabelled(images);
    const labels = new Map<string, string>();
    for (const n of await listPngs(gtDir, 'colour labels NNNNNN.png named as in RGB/'))
      labels.set(n.slice(0, -4), path.join(gtDir, n));
    return pairByKey(images, labels);
  }

  async function decodeLabelChecked(labelPath: string): Promise<DecodedLabel> {
    const rgb = await loadRgbImage(labelPath);
    return decodeColorLabel(rgb.data, rgb.height, rgb.width, table);
  }

  return makeLoader({ name: 'kitti-semantic', dir, classes: table.classes, splits, scan, decodeLabelChecked });
}

async function openOfficial(dir: string, opts: KittiSemanticOptions): Promise<DatasetLoader> {
  const classSet = opts.classSet ?? 'train19';
  const lookup = cityscapesIdLookup(classSet);
  const splits: Split[] = [];
  if (await isDirectory(path.join(dir, 'training/image_2'))) splits.push('train');
  if (await isDirectory(path.join(dir, 'testing/image_2'))) splits.push('test');

  async function scan(split: Split): Promise<SplitScan> {
    if (!splits.includes(split)) throw noSuchSplit('KITTI semantic (official)', dir, split, splits);
    const top = split === 'train' ? 'training' : 'testing';
    const images = new Map<string, string>();
    for (const n of await listPngs(path.join(dir, top, 'image_2'), 'frames NNNNNN_10.png')) {
      images.set(n.slice(0, -4), path.join(dir, top, 'image_2', n));
    }
    if (split === 'test') return unlabelled(images);
    const labels = new Map<string, string>();
    const semDir = path.join(dir, 'training/semantic');
    for (const n of await listPngs(semDir, 'Cityscapes label-id PNGs NNNNNN_10.png'))
      labels.set(n.slice(0, -4), path.join(semDir, n));
    return pairByKey(images, labels);
  }

  async function decodeLabelChecked(labelPath: string): Promise<DecodedLabel> {
    const ids = await loadGray8(labelPath);
    return decodeIdLabel(ids.data, ids.height, ids.width, lookup);
  }

  return makeLoader({
    name: 'kitti-semantic',
    dir,
    classes: cityscapesClasses(classSet),
    splits,
    scan,
    decodeLabelChecked,
  });
}
