import { ConfigError } from '../util/errors';
import { type Rng, uniform } from './rng';
import { IGNORE_INDEX, type LabelMap } from './types';

/**
 * Joint (image, label) transforms on uint8 arrays. Images are sampled
 * bilinearly, labels by nearest neighbour, so a label pixel is always a
 * class id that was there before (bilinear would mix ids into new ones).
 */

export interface AugmentOptions {
  /** Mirror left-right with probability 1/2. */
  readonly flip: boolean;
  /** Brightness, contrast and saturation factors drawn from [1 - j, 1 + j]; 0 = off. */
  readonly colorJitter: number;
  /**
   * Zoom factor range, e.g. [0.8, 1.25]: a window of 1/scale the size is cut out at random and resized back; null =
   * off.
   */
  readonly scaleCrop: readonly [number, number] | null;
}

export const NO_AUGMENT: AugmentOptions = Object.freeze({ flip: false, colorJitter: 0, scaleCrop: null });

/** The augmentation the cpu/paper presets train with. */
export const DEFAULT_AUGMENT: AugmentOptions = Object.freeze({
  flip: true,
  colorJitter: 0.2,
  scaleCrop: [0.9, 1.25] as const,
});

export function validateAugment(opts: AugmentOptions): AugmentOptions {
  if (!(opts.colorJitter >= 0 && opts.colorJitter < 1)) {
    throw new ConfigError(`colorJitter ${opts.colorJitter} must be in [0, 1), e.g. 0.2`);
  }
  if (opts.scaleCrop !== null) {
    const [lo, hi] = opts.scaleCrop;
    if (!(lo > 0 && hi >= lo)) {
      throw new ConfigError(`scaleCrop [${lo}, ${hi}] must be two positive factors with min <= max, e.g. [0.9, 1.25]`);
    }
  }
  return opts;
}

/** Nearest-neighbour resize of a class-id map (pixel centres map to pixel centres). */
export function resizeLabelNearest(label: LabelMap, height: number, width: number): LabelMap {
  if (label.height === height && label.width === width) return label;
  const out = new Uint8Array(height * width);
  const xs = new Int32Array(width);
  for (let x = 0; x < width; x++) xs[x] = Math.min(label.width - 1, Math.floor(((x + 0.5) * label.width) / width));
  for (let y = 0; y < height; y++) {
    const sy = Math.min(label.height - 1, Math.floor(((y + 0.5) * label.height) / height));
    const row = sy * label.width;
    for (let x = 0; x < width; x++) out[y * width + x] = label.data[row + xs[x]];
  }
  return { data: out, height, width };
}

/**
 * Writes one augmented copy of an [H, W, 3] image and its [H, W] label into
 * `outImage`/`outLabel` (same size). Everything drawn comes from `rng`, so a
 * sample's augmentation depends only on the seed it was given.
 */
export function augmentInto(
  image: Uint8Array,
  label: Uint8Array,
  height: number,
  width: number,
  opts: AugmentOptions,
  rng: Rng,
  outImage: Uint8Array,
  outLabel: Uint8Array,
): void {
  const flip = opts.flip && rng() < 0.5;
  // Window [y0, y0 + wh) x [x0, x0 + ww) of the source becomes the output.
  let wh = height;
  let ww = width;
  let y0 = 0;
  let x0 = 0;
  if (opts.scaleCrop !== null) {
    const s = uniform(rng, opts.scaleCrop[0], opts.scaleCrop[1]);
    wh = height / s;
    ww = width / s;
    y0 = uniform(rng, Math.min(0, height - wh), Math.max(0, height - wh));
    x0 = uniform(rng, Math.min(0, width - ww), Math.max(0, width - ww));
  }
  const sy = wh / height;
  const sx = ww / width;
  for (let y = 0; y < height; y++) {
    const fy = y0 + (y + 0.5) * sy - 0.5;
    for (let x = 0; x < width; x++) {
      const xo = flip ? width - 1 - x : x;
      const fx = x0 + (xo + 0.5) * sx - 0.5;
      const o = y * width + x;
      // Label: nearest source pixel; outside the source is void.
      const ny = Math.round(fy);
      const nx = Math.round(fx);
      outLabel[o] = ny >= 0 && ny < height && nx >= 0 && nx < width ? label[ny * width + nx] : IGNORE_INDEX;
      // Image: bilinear with edge clamping inside, black outside.
      if (fy < -0.5 || fy > height - 0.5 || fx < -0.5 || fx > width - 0.5) {
        outImage[o * 3] = 0;
        outImage[o * 3 + 1] = 0;
        outImage[o * 3 + 2] = 0;
        continue;
      }
      const cy = Math.min(Math.max(fy, 0), height - 1);
      const cx = Math.min(Math.max(fx, 0), width - 1);
      const ya = Math.floor(cy);
      const xa = Math.floor(cx);
      const yb = Math.min(ya + 1, height - 1);
      const xb = Math.min(xa + 1, width - 1);
      const wy = cy - ya;
      const wx = cx - xa;
      for (let c = 0; c < 3; c++) {
        const top = image[(ya * width + xa) * 3 + c] * (1 - wx) + image[(ya * width + xb) * 3 + c] * wx;
        const bot = image[(yb * width + xa) * 3 + c] * (1 - wx) + image[(yb * width + xb) * 3 + c] * wx;
        outImage[o * 3 + c] = Math.round(top * (1 - wy) + bot * wy);
      }
    }
  }
  if (opts.colorJitter > 0) jitterColors(outImage, opts.colorJitter, rng);
}

/** Brightness, then contrast around the mean grey, then saturation around each pixel's grey, in place. */
function jitterColors(image: Uint8Array, jitter: number, rng: Rng): void {
  const brightness = uniform(rng, 1 - jitter, 1 + jitter);
  const contrast = uniform(rng, 1 - jitter, 1 + jitter);
  const saturation = uniform(rng, 1 - jitter, 1 + jitter);
  let sum = 0;
  for (let i = 0; i < image.length; i += 3) sum += 0.299 * image[i] + 0.587 * image[i + 1] + 0.114 * image[i + 2];
  const meanGrey = (sum / (image.length / 3)) * brightness;
  for (let i = 0; i < image.length; i += 3) {
    let r = image[i] * brightness;
    let g = image[i + 1] * brightness;
    let b = image[i + 2] * brightness;
    r = meanGrey + (r - meanGrey) * contrast;
    g = meanGrey + (g - meanGrey) * contrast;
    b = meanGrey + (b - meanGrey) * contrast;
    const grey = 0.299 * r + 0.587 * g + 0.114 * b;
    image[i] = clampByte(grey + (r - grey) * saturation);
    image[i + 1] = clampByte(grey + (g - grey) * saturation);
    image[i + 2] = clampByte(grey + (b - grey) * saturation);
  }
}

function clampByte(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
}
