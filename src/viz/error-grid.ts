import sharp from 'sharp';
import { IGNORE_INDEX, type ClassInfo, type LabelMap, type RgbImage } from '../data/types';
import { ConfigError, DataError } from '../util/errors';
import { imageGrid, legendStrip } from './grid';
import { overlay } from './overlay';
import { paletteFromClasses, type Palette, type Rgb } from './palette';

/** One row of the grid: an image, its labels and the model's prediction, all at one size. */
export interface ErrorGridRow {
  readonly id: string;
  readonly image: RgbImage;
  readonly label: LabelMap;
  readonly prediction: LabelMap;
}

export interface ErrorGridOptions {
  /** Overlay colours per class (default: the classes' own colours). */
  palette?: Palette;
  ignoreIndex?: number;
  /** Width of each of the four cells (default: the image width). */
  cellWidth?: number;
}

/** Error map colours: wrong pixels red over the photo, ignored ones grey, right ones left as the photo. */
export const ERROR_COLOR: Rgb = [255, 0, 0];
export const IGNORED_COLOR: Rgb = [128, 128, 128];
const ERROR_ALPHA = 0.7;
const LEGEND_GAP = 4;

/** Error ids per pixel: 0 right, 1 wrong, IGNORE_INDEX where the label is ignored. */
function errorLabels(label: LabelMap, prediction: LabelMap, ignoreIndex: number): LabelMap {
  if (label.height !== prediction.height || label.width !== prediction.width) {
    throw new DataError(
      `labels are ${label.height}x${label.width} but the prediction ${prediction.height}x${prediction.width}; predict at the label size`,
    );
  }
  const data = new Uint8Array(label.data.length);
  for (let i = 0; i < data.length; i++) {
    data[i] = label.data[i] === ignoreIndex ? IGNORE_INDEX : label.data[i] === prediction.data[i] ? 0 : 1;
  }
  return { data, height: label.height, width: label.width };
}

/** The photo with wrong pixels painted red and ignored ones grey. */
export function errorMap(image: RgbImage, label: LabelMap, prediction: LabelMap, ignoreIndex = IGNORE_INDEX): RgbImage {
  return overlay(image, errorLabels(label, prediction, ignoreIndex), [null, ERROR_COLOR], {
    alpha: ERROR_ALPHA,
    ignoreColor: IGNORED_COLOR,
  });
}

/**
 * One PNG: a row per sample with image | ground truth | prediction | error
 * map side by side, rows in the order given, and a legend of the class and
 * error colours under them. Takes plain images and label maps; gives the PNG.
 */
export async function errorGrid(
  rows: readonly ErrorGridRow[],
  classes: readonly ClassInfo[],
  opts: ErrorGridOptions = {},
): Promise<Buffer> {
  if (!rows.length) throw new ConfigError('errorGrid got no rows; pass at least one sample');
  const palette = opts.palette ?? paletteFromClasses(classes);
  const ignoreIndex = opts.ignoreIndex ?? IGNORE_INDEX;
  const cells = rows.flatMap((r) => [
    r.image,
    overlay(r.image, r.label, palette),
    overlay(r.image, r.prediction, palette),
    errorMap(r.image, r.label, r.prediction, ignoreIndex),
  ]);
  const grid = await imageGrid(cells, 4, { cellWidth: opts.cellWidth });
  const { width = 1, height = 1 } = await sharp(grid).metadata();
  const legend = await legendStrip(
    [
      ...classes.flatMap((c, i) => {
        const color = palette[i];
        return color ? [{ name: c.name, color }] : [];
      }),
      { name: 'wrong', color: ERROR_COLOR },
      { name: 'ignored', color: IGNORED_COLOR },
    ],
    width,
  );
  return sharp(grid)
    .extend({ bottom: LEGEND_GAP + legend.height, background: { r: 255, g: 255, b: 255 } })
    .composite([
      {
        input: Buffer.from(legend.data.buffer, legend.data.byteOffset, legend.data.byteLength),
        raw: { width: legend.width, height: legend.height, channels: 3 },
        left: 0,
        top: height + LEGEND_GAP,
      },
    ])
    .png()
    .toBuffer();
}
