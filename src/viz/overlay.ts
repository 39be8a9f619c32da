import { ConfigError, DataError } from '../util/errors';
import { IGNORE_INDEX, type LabelMap, type RgbImage } from '../data/types';
import type { Palette, Rgb } from './palette';

export interface OverlayOptions {
  /** Opacity of the class colour over the photo (default 0.5). */
  alpha?: number;
  /** Colour for ignore pixels; null (default) leaves them as the photo. */
  ignoreColor?: Rgb | null;
}

/** Nearest-neighbour with pixel centres aligned, so class ids are never mixed. */
function resizeLabelsNearest(labels: LabelMap, height: number, width: number): Uint8Array {
  const out = new Uint8Array(height * width);
  for (let y = 0; y < height; y++) {
    const sy = Math.min(labels.height - 1, Math.floor(((y + 0.5) * labels.height) / height));
    for (let x = 0; x < width; x++) {
      const sx = Math.min(labels.width - 1, Math.floor(((x + 0.5) * labels.width) / width));
      out[y * width + x] = labels.data[sy * labels.width + sx];
    }
  }
  return out;
}

/**
 * Paints each pixel's class colour over `image` at `alpha`
 * (out = (1 - alpha) * photo + alpha * colour, rounded); classes whose
 * palette entry is null stay unpainted. A label map of another size is
 * nearest-resized to the image first. Gives a new image; inputs are untouched.
 */
export function overlay(image: RgbImage, labels: LabelMap, palette: Palette, opts: OverlayOptions = {}): RgbImage {
  const alpha = opts.alpha ?? 0.5;
  const ignoreColor = opts.ignoreColor ?? null;
  if (!(alpha >= 0 && alpha <= 1)) throw new ConfigError(`overlay alpha must be in [0, 1]; got ${alpha}`);
  const { height, width } = image;
  if (image.data.length !== height * width * 3) {
    throw new DataError(
      `image data has ${image.data.length} bytes but ${height}x${width}x3 = ${height * width * 3}; pass 8-bit RGB`,
    );
  }
  if (labels.data.length !== labels.height * labels.width) {
    throw new DataError(
      `label data has ${labels.data.length} values but ${labels.height}x${labels.width} = ${labels.height * labels.width}`,
    );
  }
  const ids =
    labels.height === height && labels.width === width ? labels.data : resizeLabelsNearest(labels, height, width);

  const out = new Uint8Array(image.data);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    let color: Rgb | null;
    if (id === IGNORE_INDEX) color = ignoreColor;
    else if (id < palette.length) color = palette[id];
    else {
      throw new DataError(
        `label ${id} has no palette entry (palette has ${palette.length} classes); build the palette from the dataset's classes`,
      );
    }
    if (color === null) continue;
    for (let ch = 0; ch < 3; ch++) {
      const o = 3 * i + ch;
      out[o] = Math.round((1 - alpha) * out[o] + alpha * color[ch]);
    }
  }
  return { data: out, height, width };
}
