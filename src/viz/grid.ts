import sharp from 'sharp';
import { ConfigError } from '../util/errors';
import type { ClassInfo, RgbImage } from '../data/types';
import type { Rgb } from './palette';
import { sharpFromRgb } from './png';

export interface GridOptions {
  /** Pixels between cells (default 4). */
  gap?: number;
  /** Colour of gaps and unfilled cells (default white). */
  background?: Rgb;
  /** Width every image is scaled to, keeping its aspect (default: the widest image's width). */
  cellWidth?: number;
}

function checkPositiveInteger(name: string, value: number, allowZero = false): void {
  if (!Number.isInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new ConfigError(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer; got ${value}`);
  }
}

/**
 * Lays `images` out row by row, `cols` per row (fewer if there are fewer
 * images), each scaled to the cell width and top-left aligned in a cell as
 * tall as the tallest scaled image. Gives the PNG.
 */
export async function imageGrid(images: readonly RgbImage[], cols: number, opts: GridOptions = {}): Promise<Buffer> {
  if (images.length === 0) throw new ConfigError('imageGrid got no images; pass at least one');
  checkPositiveInteger('grid cols', cols);
  const gap = opts.gap ?? 4;
  checkPositiveInteger('grid gap', gap, true);
  const cellWidth = opts.cellWidth ?? Math.max(...images.map((im) => im.width));
  checkPositiveInteger('grid cellWidth', cellWidth);
  const [r, g, b] = opts.background ?? [255, 255, 255];

  const cells = await Promise.all(
    images.map(async (im) => {
      const height = Math.max(1, Math.round((im.height * cellWidth) / im.width));
      const pipeline = sharpFromRgb(im); // also checks the buffer size of images used as they are
      const data =
        im.width === cellWidth && im.height === height
          ? Buffer.from(im.data.buffer, im.data.byteOffset, im.data.byteLength)
          : await pipeline.resize(cellWidth, height, { fit: 'fill' }).raw().toBuffer();
      return { data, height };
    }),
  );
  const gridCols = Math.min(cols, images.length);
  const gridRows = Math.ceil(images.length / gridCols);
  // Each row is as tall as its tallest cell (a legend strip under a grid stays a strip).
  const rowHeights = Array.from({ length: gridRows }, (_, row) =>
    Math.max(...cells.slice(row * gridCols, (row + 1) * gridCols).map((c) => c.height)),
  );
  const rowTops = rowHeights.map((_, row) => rowHeights.slice(0, row).reduce((a, h) => a + h + gap, 0));
  const width = gridCols * cellWidth + (gridCols - 1) * gap;
  const height = rowHeights.reduce((a, h) => a + h, 0) + (gridRows - 1) * gap;

  return sharp({ create: { width, height, channels: 3, background: { r, g, b } } })
    .composite(
      cells.map((c, i) => ({
        input: c.data,
        raw: { width: cellWidth, height: c.height, channels: 3 as const },
        left: (i % gridCols) * (cellWidth + gap),
        top: rowTops[Math.floor(i / gridCols)],
      })),
    )
    .png()
    .toBuffer();
}

const LEGEND_FONT_PX = 12;
const LEGEND_SWATCH_PX = 12;
const LEGEND_PAD_PX = 4;
const LEGEND_ROW_PX = 20;
/** DejaVu Sans averages about 0.6 em per character; used to size the columns. */
const LEGEND_CHAR_EM = 0.6;

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * A white strip `width` pixels wide with a colour swatch and the name of each
 * class, in equal columns that wrap onto as many rows as needed. The text is
 * an SVG rasterised by sharp (librsvg), so no canvas package is needed.
 */
export async function legendStrip(classes: readonly ClassInfo[], width: number): Promise<RgbImage> {
  if (classes.length === 0) throw new ConfigError('legendStrip got no classes; pass at least one');
  checkPositiveInteger('legend width', width);
  const longest = Math.max(...classes.map((c) => c.name.length));
  const entryWidth = LEGEND_PAD_PX * 3 + LEGEND_SWATCH_PX + Math.ceil(longest * LEGEND_CHAR_EM * LEGEND_FONT_PX);
  const perRow = Math.max(1, Math.floor(width / entryWidth));
  const height = Math.ceil(classes.length / perRow) * LEGEND_ROW_PX;

  const entries = classes.map((c, i) => {
    const x = (i % perRow) * entryWidth + LEGEND_PAD_PX;
    const y = Math.floor(i / perRow) * LEGEND_ROW_PX;
    const swatchTop = y + (LEGEND_ROW_PX - LEGEND_SWATCH_PX) / 2;
    const [r, g, b] = c.color;
    return (
      `<rect x="${x}" y="${swatchTop}" width="${LEGEND_SWATCH_PX}" height="${LEGEND_SWATCH_PX}" ` +
      `fill="rgb(${r},${g},${b})" stroke="black" stroke-width="1"/>` +
      `<text x="${x + LEGEND_SWATCH_PX + LEGEND_PAD_PX}" y="${y + LEGEND_ROW_PX / 2}" dominant-baseline="central" ` +
      `font-family="DejaVu Sans, sans-serif" font-size="${LEGEND_FONT_PX}" fill="black">${escapeXml(c.name)}</text>`
    );
  });
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
    `<rect width="${width}" height="${height}" fill="white"/>${entries.join('')}</svg>`;
  const { data, info } = await sharp(Buffer.from(svg)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return {
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    height: info.height,
    width: info.width,
  };
}
