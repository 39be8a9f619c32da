import sharp from 'sharp';
import { DataError } from '../util/errors';
import type { RgbImage } from '../data/types';

/** A sharp pipeline over a raw 8-bit RGB image (checked for size first). */
export function sharpFromRgb(img: RgbImage): sharp.Sharp {
  const expected = img.height * img.width * 3;
  if (!(img.height > 0 && img.width > 0) || img.data.length !== expected) {
    throw new DataError(
      `image data has ${img.data.length} bytes for ${img.height}x${img.width}x3 = ${expected}; pass a non-empty 8-bit RGB image`,
    );
  }
  return sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } });
}

/** Async throughout, so a bad image rejects rather than throws. */
export async function encodePng(img: RgbImage): Promise<Buffer> {
  return sharpFromRgb(img).png().toBuffer();
}
