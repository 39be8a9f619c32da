import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { DataError } from '../util/errors';
import { type CityscapesClassSet, cityscapesClasses, cityscapesIdLookup, decodeIdLabel } from './cityscapes-labels';
import {
  type DatasetLoader,
  type DecodedLabel,
  isDirectory,
  makeLoader,
  noSuchSplit,
  pairByKey,
  type SplitScan,
  unlabelled,
} from './dataset';
import { loadGray8 } from './png';
import type { Split } from './types';

/**
 * Cityscapes fine annotations: leftImg8bit/<split>/<city>/<name>_leftImg8bit.png
 * with gtFine/<split>/<city>/<name>_gtFine_labelIds.png. Label ids are
 * decoded, not the colour PNG, whose colours collide (ids 0-4 are all black).
 */

export interface CityscapesOptions {
  /** 'train19' (default): the 19 evaluated classes; 'all': the 27 non-void classes. */
  readonly classSet?: CityscapesClassSet;
}

const IMAGE_SUFFIX = '_leftImg8bit.png';
const LABEL_SUFFIX = '_gtFine_labelIds.png';
const SPLITS: readonly Split[] = ['train', 'val', 'test'];

/** Sorted city folders of a split; a missing split folder yields none. */
async function listCities(dir: string): Promise<string[]> {
  try {
    const entries = await fsp.readdir(dir, { withFileTypes: true });
    return entries
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}

/** `suffix` files of every city, keyed by `<city>_<seq>_<frame>`. */
async function collect(splitDir: string, suffix: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const city of await listCities(splitDir)) {
    for (const n of (await fsp.readdir(path.join(splitDir, city))).sort()) {
      if (n.endsWith(suffix)) out.set(n.slice(0, -suffix.length), path.join(splitDir, city, n));
    }
  }
  return out;
}

export async function openCityscapes(dir: string, opts: CityscapesOptions = {}): Promise<DatasetLoader> {
  const classSet = opts.classSet ?? 'train19';
  if (classSet !== 'train19' && classSet !== 'all') {
    throw new DataError(`Cityscapes class set "${String(classSet)}" is not train19 or all`);
  }
  const lookup = cityscapesIdLookup(classSet);
  const splits: Split[] = [];
  for (const s of SPLITS) if (await isDirectory(path.join(dir, 'leftImg8bit', s))) splits.push(s);

  async function scan(split: Split): Promise<SplitScan> {
    if (!splits.includes(split)) throw noSuchSplit('Cityscapes', dir, split, splits);
    const images = await collect(path.join(dir, 'leftImg8bit', split), IMAGE_SUFFIX);
    // The test split's gtFine files hold only camera-derived void: never train or validate on them.
    if (split === 'test') return unlabelled(images);
    return pairByKey(images, await collect(path.join(dir, 'gtFine', split), LABEL_SUFFIX));
  }

  async function decodeLabelChecked(labelPath: string): Promise<DecodedLabel> {
    const ids = await loadGray8(labelPath);
    return decodeIdLabel(ids.data, ids.height, ids.width, lookup);
  }

  return makeLoader({
    name: 'cityscapes',
    dir,
    classes: cityscapesClasses(classSet),
    splits,
    scan,
    decodeLabelChecked,
  });
}
