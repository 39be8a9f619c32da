import { ConfigError, DataError } from '../util/errors';
import { startProgress } from '../util/progress';
import { loadRgbImageResized } from './png';
import { createRng, mixSeed, shuffled } from './rng';
import { type AugmentOptions, augmentInto, resizeLabelNearest, validateAugment } from './transforms';
import { type Batch, IGNORE_INDEX, type SampleRef, type SegDataset } from './types';

export interface BatchLoaderOptions {
  /** [height, width] every sample is resized to. */
  readonly inputShape: readonly [number, number];
  readonly batchSize: number;
  readonly shuffle: boolean;
  /** Order and augmentation depend only on (seed, epoch). */
  readonly seed: number;
  readonly augment?: AugmentOptions | false;
  /**
   * Decode from disk every epoch with a bounded prefetch; default: cache in memory when the set fits in
   * CACHE_LIMIT_BYTES.
   */
  readonly stream?: boolean;
  readonly progress?: boolean;
  /** Where skip warnings go (default console.warn). */
  readonly warn?: (message: string) => void;
}

/**
 * Decoded uint8 samples kept in memory up to this size (KITTI Road at 160x576: ~105 MB; Cityscapes at 256x512: ~1.6 GB
 * streams).
 */
export const CACHE_LIMIT_BYTES = 1024 ** 3;
/**
 * Share of an epoch's samples, read fine before, that may fail to read (skipped with a warning) before the epoch stops.
 */
export const MAX_CHANGED_SHARE = 0.05;
/** Samples decoded ahead while streaming or filling the cache (libvips decodes on its own threads). */
const PREFETCH = 4;

/** A resized sample; its label is all ignore where the split has no labels. */
interface Decoded {
  readonly image: Uint8Array;
  readonly label: Uint8Array;
}

/**
 * Turns a list of samples into uint8 batches at the model's input size: decode
 * (sharp), resize (linear for images, nearest for labels), optional
 * augmentation, seeded shuffling. A sample that cannot be read (corrupt file,
 * image and label of different sizes) is skipped with a warning and listed in
 * `skipped`, so an epoch does not stop on a bad file (unless more than
 * MAX_CHANGED_SHARE of them fail after being read fine); the last batch of an epoch may be smaller.
 */
export class BatchLoader {
  readonly numSamples: number;
  readonly numBatches: number;
  readonly skipped: { path: string; reason: string }[] = [];
  /** Whether samples are decoded once and kept (true) or read from disk every epoch. */
  readonly cached: boolean;

  private readonly cache = new Map<number, Decoded | null>();
  /** Samples decoded fine at least once: one that then fails has changed under the run. */
  private readonly readBefore = new Set<number>();
  private readonly augment: AugmentOptions | null;
  private readonly warn: (message: string) => void;

  constructor(
    private readonly ds: SegDataset,
    private readonly samples: readonly SampleRef[],
    private readonly opts: BatchLoaderOptions,
  ) {
    const [h, w] = opts.inputShape;
    if (!Number.isInteger(h) || !Number.isInteger(w) || h <= 0 || w <= 0) {
      throw new ConfigError(`input shape ${h}x${w} must be two positive integers, e.g. 160x576`);
    }
    if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) {
      throw new ConfigError(`batch size ${opts.batchSize} must be a positive integer, e.g. 4`);
    }
    if (samples.length === 0) {
      throw new DataError(`no samples to load from ${ds.dir}; run \`fcn data check ${ds.dir} --dataset ${ds.name}\``);
    }
    this.numSamples = samples.length;
    this.numBatches = Math.ceil(samples.length / opts.batchSize);
    this.augment = opts.augment ? validateAugment(opts.augment) : null;
    this.cached = opts.stream === undefined ? samples.length * h * w * 4 <= CACHE_LIMIT_BYTES : !opts.stream;
    this.warn = opts.warn ?? ((m) => console.warn(m));
  }

  /** The batches of epoch `epoch`, in an order fixed by (seed, epoch). */
  async *epoch(epoch: number): AsyncIterable<Batch> {
    const [h, w] = this.opts.inputShape;
    if (this.cached && this.cache.size < this.samples.length) await this.fillCache();
    const indices = this.samples.map((_, i) => i);
    const order = this.opts.shuffle ? shuffled(indices, createRng(mixSeed(this.opts.seed, epoch))) : indices;
    let changed = 0;

    let ids: string[] = [];
    let images = new Uint8Array(this.opts.batchSize * h * w * 3);
    let labels = new Uint8Array(this.opts.batchSize * h * w);
    for await (const [index, sample] of this.decodeInOrder(order)) {
      if (sample === null) {
        if (this.readBefore.has(index)) this.checkChanged(++changed, epoch);
        continue;
      }
      const b = ids.length;
      const imageOut = images.subarray(b * h * w * 3, (b + 1) * h * w * 3);
      const labelOut = labels.subarray(b * h * w, (b + 1) * h * w);
      if (this.augment) {
        augmentInto(
          sample.image,
          sample.label,
          h,
          w,
          this.augment,
          createRng(mixSeed(this.opts.seed, epoch, index, 1)),
          imageOut,
          labelOut,
        );
      } else {
        imageOut.set(sample.image);
        labelOut.set(sample.label);
      }
      ids.push(this.samples[index].id);
      if (ids.length === this.opts.batchSize) {
        yield { ids, height: h, width: w, images, labels };
        ids = [];
        images = new Uint8Array(this.opts.batchSize * h * w * 3);
        labels = new Uint8Array(this.opts.batchSize * h * w);
      }
    }
    if (ids.length > 0) {
      const n = ids.length;
      yield { ids, height: h, width: w, images: images.slice(0, n * h * w * 3), labels: labels.slice(0, n * h * w) };
    }
  }

  /**
   * Stops the epoch when more than MAX_CHANGED_SHARE of the samples, read
   * fine before, cannot be read in it: data that vanishes at that rate is
   * being changed or removed, and training on the rest would quietly learn
   * something else. (Files bad from the start are only skipped.)
   */
  private checkChanged(count: number, epoch: number): void {
    if (count <= MAX_CHANGED_SHARE * this.samples.length) return;
    const last = this.skipped[this.skipped.length - 1];
    throw new DataError(
      `${count} of ${this.samples.length} samples could not be read in epoch ${epoch + 1} (more than ` +
        `${MAX_CHANGED_SHARE * 100}%; the last: ${last.path}): the data in ${this.ds.dir} changed or is damaged while ` +
        `training ran. Restore the files, or check them with \`npx fcn data check ${this.ds.dir} --dataset ${this.ds.name}\`.`,
    );
  }

  /** Decoded samples in `order`, PREFETCH ahead; from the cache when there is one. */
  private async *decodeInOrder(order: readonly number[]): AsyncIterable<[number, Decoded | null]> {
    if (this.cached) {
      for (const i of order) yield [i, this.cache.get(i) ?? null];
      return;
    }
    const ahead: Promise<Decoded | null>[] = [];
    let next = 0;
    while (ahead.length < PREFETCH && next < order.length) ahead.push(this.decodeSample(order[next++]));
    for (let k = 0; k < order.length; k++) {
      const sample = await ahead.shift()!;
      if (next < order.length) ahead.push(this.decodeSample(order[next++]));
      yield [order[k], sample];
    }
  }

  private async fillCache(): Promise<void> {
    const bar = startProgress(`decode ${this.ds.name}`, this.samples.length, { enabled: this.opts.progress ?? true });
    let next = 0;
    const worker = async () => {
      while (next < this.samples.length) {
        const i = next++;
        this.cache.set(i, await this.decodeSample(i));
        bar.update(this.cache.size);
      }
    };
    await Promise.all(Array.from({ length: PREFETCH }, worker));
    bar.stop();
  }

  private async decodeSample(index: number): Promise<Decoded | null> {
    const [h, w] = this.opts.inputShape;
    const ref = this.samples[index];
    let file = ref.imagePath;
    try {
      const { image, sourceHeight, sourceWidth } = await loadRgbImageResized(ref.imagePath, h, w);
      if (ref.labelPath === null) {
        this.readBefore.add(index);
        return { image: image.data, label: new Uint8Array(h * w).fill(IGNORE_INDEX) };
      }
      file = ref.labelPath;
      const label = await this.ds.decodeLabel(ref.labelPath);
      if (label.height !== sourceHeight || label.width !== sourceWidth) {
        throw new DataError(
          `${ref.labelPath} is ${label.width}x${label.height} but its image ${ref.imagePath} is ` +
            `${sourceWidth}x${sourceHeight}; labels must have the image's size`,
        );
      }
      this.readBefore.add(index);
      return { image: image.data, label: resizeLabelNearest(label, h, w).data };
    } catch (err) {
      if (!(err instanceof DataError)) throw err;
      this.skipped.push({ path: file, reason: err.message });
      this.warn(`data: skipping ${ref.id}: ${err.message}`);
      return null;
    }
  }
}
