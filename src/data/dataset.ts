import { promises as fsp } from 'node:fs';
import { DataError } from '../util/errors';
import { loadRgbImage } from './png';
import { IGNORE_INDEX, type LabelMap, type SampleRef, type SegDataset, type Split } from './types';

/**
 * What each loader offers beyond the public SegDataset: the unpaired files of
 * a split and label decoding that reports values no class has. `fcn data
 * check` is built on these; training only needs SegDataset.
 */

/** Label values that no class (nor void) has; they decode to the ignore id. */
export interface UnknownLabelValues {
  /** Pixels with such values. */
  count: number;
  /** [x, y] of the first one in row-major order, null when count is 0. */
  first: [number, number] | null;
  /** Up to 5 distinct values, e.g. "(63,63,0)" or "id 40". */
  examples: string[];
}

export interface DecodedLabel {
  readonly label: LabelMap;
  readonly unknown: UnknownLabelValues;
}

/** The files of one split: matched pairs (sorted by id) and files without their partner. */
export interface SplitScan {
  readonly samples: SampleRef[];
  readonly imagesWithoutLabel: string[];
  readonly labelsWithoutImage: string[];
}

export interface DatasetLoader extends SegDataset {
  scan(split: Split): Promise<SplitScan>;
  decodeLabelChecked(labelPath: string): Promise<DecodedLabel>;
}

/** What a loader module supplies; `makeLoader` derives the rest of the interface from it. */
export type LoaderParts = Pick<DatasetLoader, 'name' | 'dir' | 'classes' | 'splits' | 'scan' | 'decodeLabelChecked'>;

/** A DatasetLoader from its parts: samples are the scan's matched pairs, decodeLabel drops the unknown-value report. */
export function makeLoader(parts: LoaderParts): DatasetLoader {
  return {
    ...parts,
    ignoreIndex: IGNORE_INDEX,
    async samples(split) {
      return (await parts.scan(split)).samples;
    },
    async decodeLabel(labelPath) {
      return (await parts.decodeLabelChecked(labelPath)).label;
    },
    loadImage: loadRgbImage,
  };
}

/** Counts unknown label values while a decoder walks the pixels in row-major order. */
export class UnknownValueCounter {
  private readonly result: UnknownLabelValues = { count: 0, first: null, examples: [] };

  constructor(private readonly width: number) {}

  add(pixelIndex: number, value: string): void {
    this.result.count++;
    if (this.result.first === null) this.result.first = [pixelIndex % this.width, Math.floor(pixelIndex / this.width)];
    if (this.result.examples.length < 5 && !this.result.examples.includes(value)) this.result.examples.push(value);
  }

  get values(): UnknownLabelValues {
    return this.result;
  }
}

/** Sorted PNG names in a folder; a missing folder is a DataError naming it and what should be there. */
export async function listPngs(dir: string, what: string): Promise<string[]> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    throw new DataError(`${dir} is missing; it should hold ${what}`);
  }
  return names.filter((n) => n.toLowerCase().endsWith('.png')).sort();
}

export async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await fsp.stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/** Pairs image and label names by a shared key; the unpaired ones on either side are returned by path. */
export function pairByKey(images: ReadonlyMap<string, string>, labels: ReadonlyMap<string, string>): SplitScan {
  const samples: SampleRef[] = [];
  const imagesWithoutLabel: string[] = [];
  for (const [id, imagePath] of images) {
    const labelPath = labels.get(id);
    if (labelPath === undefined) imagesWithoutLabel.push(imagePath);
    else samples.push({ id, imagePath, labelPath });
  }
  const labelsWithoutImage = [...labels].filter(([id]) => !images.has(id)).map(([, p]) => p);
  samples.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { samples, imagesWithoutLabel: imagesWithoutLabel.sort(), labelsWithoutImage: labelsWithoutImage.sort() };
}

/** A split with images only (test sets). */
export function unlabelled(images: ReadonlyMap<string, string>): SplitScan {
  const samples = [...images].map(([id, imagePath]) => ({ id, imagePath, labelPath: null }));
  samples.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { samples, imagesWithoutLabel: [], labelsWithoutImage: [] };
}

export function noSuchSplit(name: string, dir: string, split: Split, splits: readonly Split[]): DataError {
  return new DataError(`${name} in ${dir} has no ${split} split; it has ${splits.join(', ') || 'none'}`);
}
