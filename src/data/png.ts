import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { DataError } from '../util/errors';
import type { RgbImage } from './types';

/**
 * PNG decoding for every dataset. Files are read into a Buffer first: libvips
 * caches decoded files by name, which would hand back stale pixels for a file
 * rewritten in place (synth, downsize, tests).
 */

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export interface PngInfo {
  readonly width: number;
  readonly height: number;
  readonly channels: number;
  /** Bits per sample: 8 or 16. */
  readonly bitDepth: number;
}

/** A 16-bit single-channel image (instance ids), row-major [H, W]. */
export interface Gray16Image {
  readonly data: Uint16Array;
  readonly height: number;
  readonly width: number;
}

/** A decoded single-channel 8-bit image (label ids), row-major [H, W]. */
export interface Gray8Image {
  readonly data: Uint8Array;
  readonly height: number;
  readonly width: number;
}

async function readPngBytes(file: string): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await fsp.readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DataError(`${file}: cannot read (${code ?? String(err)}); check that the file exists and is readable`);
  }
  if (bytes.length < PNG_SIGNATURE.length || !bytes.subarray(0, 8).equals(PNG_SIGNATURE)) {
    const what = bytes.length === 0 ? 'an empty file' : `a ${describeMagic(bytes)} file`;
    throw new DataError(`${file} is ${what}, not a PNG; replace it with the PNG from the original archive`);
  }
  return bytes;
}

function describeMagic(bytes: Buffer): string {
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return 'JPEG';
  if (bytes.subarray(0, 4).toString('latin1') === 'PK\u0003\u0004') return 'zip';
  if (/^\s*</.test(bytes.subarray(0, 64).toString('latin1'))) return 'HTML/XML';
  return 'non-PNG';
}

/** Runs a sharp pipeline, turning libvips' messages into a DataError that names the file. */
async function decodeRaw(file: string, pipeline: sharp.Sharp): Promise<{ data: Buffer; info: sharp.OutputInfo }> {
  try {
    return await pipeline.toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw new DataError(
      `${file} is corrupt or truncated (${(err as Error).message.trim()}); replace it with the PNG from the original archive`,
    );
  }
}

/** Header facts of a PNG without decoding its pixels. */
export async function readPngInfo(file: string): Promise<PngInfo> {
  const bytes = await readPngBytes(file);
  try {
    const m = await sharp(bytes).metadata();
    return {
      width: m.width ?? 0,
      height: m.height ?? 0,
      channels: m.channels ?? 0,
      bitDepth: m.depth === 'ushort' ? 16 : 8,
    };
  } catch (err) {
    throw new DataError(`${file} has a damaged PNG header (${(err as Error).message.trim()}); replace the file`);
  }
}

/** Any PNG kind (8-bit RGB, RGBA, grey, grey+alpha, 16-bit) as 8-bit RGB; alpha is dropped, grey is replicated. */
export async function loadRgbImage(file: string): Promise<RgbImage> {
  const bytes = await readPngBytes(file);
  const { data, info } = await decodeRaw(
    file,
    sharp(bytes, { failOn: 'error' }).toColourspace('srgb').removeAlpha().raw(),
  );
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), height: info.height, width: info.width };
}

/**
 * An RGB image resized to [height, width] with a linear (triangle) filter,
 * which libvips widens when shrinking so that downscaled images do not alias.
 * Also returns the size on disk, which label files must match.
 */
export async function loadRgbImageResized(
  file: string,
  height: number,
  width: number,
): Promise<{ image: RgbImage; sourceHeight: number; sourceWidth: number }> {
  const bytes = await readPngBytes(file);
  const meta = await sharp(bytes)
    .metadata()
    .catch((err: Error) => {
      throw new DataError(`${file} has a damaged PNG header (${err.message.trim()}); replace the file`);
    });
  const { data, info } = await decodeRaw(
    file,
    sharp(bytes, { failOn: 'error' })
      .toColourspace('srgb')
      .removeAlpha()
      .resize(width, height, { fit: 'fill', kernel: 'linear' })
      .raw(),
  );
  return {
    image: { data: new Uint8Array(data.buffer, data.byteOffset, data.length), height: info.height, width: info.width },
    sourceHeight: meta.height ?? 0,
    sourceWidth: meta.width ?? 0,
  };
}

/** A single-channel 8-bit PNG (label ids) with its values untouched. */
export async function loadGray8(file: string): Promise<Gray8Image> {
  const bytes = await readPngBytes(file);
  const info = await readPngInfo(file);
  if (info.channels !== 1 || info.bitDepth !== 8) {
    throw new DataError(
      `${file} has ${info.channels} channel(s) at ${info.bitDepth} bit; expected an 8-bit gray id image ` +
        '(e.g. *_gtFine_labelIds.png, not *_gtFine_color.png)',
    );
  }
  const { data, info: out } = await decodeRaw(file, sharp(bytes, { failOn: 'error' }).toColourspace('b-w').raw());
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), height: out.height, width: out.width };
}

/** A single-channel 16-bit PNG (instance ids) with its values untouched. */
export async function loadGray16(file: string): Promise<Gray16Image> {
  const bytes = await readPngBytes(file);
  const { data, info } = await decodeRaw(
    file,
    sharp(bytes, { failOn: 'error' }).toColourspace('grey16').raw({ depth: 'ushort' }),
  );
  // Copy: the Buffer may sit at an odd offset of Node's pool, which Uint16Array cannot view.
  const out = new Uint16Array(info.width * info.height);
  for (let i = 0; i < out.length; i++) out[i] = data.readUInt16LE(i * 2);
  return { data: out, height: info.height, width: info.width };
}

/** Writes 8-bit RGB (channels 3) or gray (channels 1) pixels as a PNG, creating the folder. */
export async function writePng(
  file: string,
  data: Uint8Array,
  height: number,
  width: number,
  channels: 1 | 3,
  compressionLevel = 6,
): Promise<void> {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  let img = sharp(data, { raw: { width, height, channels } });
  // Without this sharp stores a 1-channel buffer as RGB.
  if (channels === 1) img = img.toColourspace('b-w');
  await img.png({ compressionLevel, adaptiveFiltering: false }).toFile(file);
}
