/**
 * The contract every dataset loader implements. Loaders are tensor-free:
 * they hand out uint8 arrays (cheap to cache, cheap to send to a worker);
 * the training loop turns a Batch into tensors with the encoder's
 * preprocessing (src/model/preprocess.ts).
 */

/** The ignore id: pixels with it count in neither the loss nor the metrics. */
export const IGNORE_INDEX = 255;

export type Split = 'train' | 'val' | 'test';

export type DatasetName = 'kitti-road' | 'kitti-semantic' | 'cityscapes' | 'camvid';

export interface ClassInfo {
  readonly name: string;
  /** RGB, used for label colour decoding (where the set uses colours) and overlays. */
  readonly color: readonly [number, number, number];
}

/** One image on disk and its label file (null where the split has no labels). */
export interface SampleRef {
  /** Stable id, e.g. `um_000012` or `aachen_000000_000019`. */
  readonly id: string;
  readonly imagePath: string;
  readonly labelPath: string | null;
}

/** A decoded 8-bit RGB image, row-major [H, W, 3]. */
export interface RgbImage {
  readonly data: Uint8Array;
  readonly height: number;
  readonly width: number;
}

/** Class ids per pixel, row-major [H, W]; IGNORE_INDEX for void. */
export interface LabelMap {
  readonly data: Uint8Array;
  readonly height: number;
  readonly width: number;
}

/** B samples at one size. */
export interface Batch {
  readonly ids: readonly string[];
  readonly height: number;
  readonly width: number;
  /** [B, H, W, 3] RGB uint8. */
  readonly images: Uint8Array;
  /** [B, H, W] class ids, IGNORE_INDEX for void. */
  readonly labels: Uint8Array;
}

export interface SegDataset {
  readonly name: DatasetName;
  /** The folder it was opened from. */
  readonly dir: string;
  /** Classes the model predicts, index = class id. */
  readonly classes: readonly ClassInfo[];
  readonly ignoreIndex: number;
  /** Splits that exist on disk, e.g. ['train', 'test'] for KITTI Road. */
  readonly splits: readonly Split[];
  /** Samples of a split, sorted by id (deterministic). */
  samples(split: Split): Promise<SampleRef[]>;
  /** Decodes a label file of this dataset into class ids. */
  decodeLabel(labelPath: string): Promise<LabelMap>;
  /** Decodes an image of this dataset (a SampleRef's imagePath) into RGB at its own size. */
  loadImage(imagePath: string): Promise<RgbImage>;
}
