import type * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { loadRgbImage } from '../data/png';
import type { ClassInfo, RgbImage, SampleRef, SegDataset } from '../data/types';
import { predict } from '../infer/predict';
import { imageGrid, legendStrip } from '../viz/grid';
import { overlay } from '../viz/overlay';
import { paletteFor } from '../viz/palette';

/** Cells are scaled down to this width (about half a KITTI frame), never up. */
export const GRID_CELL_WIDTH = 600;

export interface GridLayout {
  /** Rows x cols of the grid (report: 2x2). */
  rows: number;
  cols: number;
}

/**
 * The grid, with a legend strip of the classes under it for multi-class
 * sets (the two-class road view needs none). Gives the PNG.
 */
async function composeGrid(cells: readonly RgbImage[], cols: number, classes: readonly ClassInfo[]): Promise<Buffer> {
  const cellWidth = Math.min(GRID_CELL_WIDTH, Math.max(...cells.map((c) => c.width)));
  const grid = await imageGrid(cells, cols, { cellWidth });
  if (classes.length <= 2) return grid;
  const { data, info } = await sharp(grid).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const gridImage: RgbImage = {
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    height: info.height,
    width: info.width,
  };
  return imageGrid([gridImage, await legendStrip(classes, info.width)], 1, { gap: 0 });
}

/** The first rows*cols labelled samples with their ground truth painted on. */
export async function labelledGrid(ds: SegDataset, samples: readonly SampleRef[], layout: GridLayout): Promise<Buffer> {
  const picked = samples.filter((s) => s.labelPath).slice(0, layout.rows * layout.cols);
  const palette = paletteFor(ds.classes);
  const cells = await Promise.all(
    picked.map(async (s) => {
      const [image, label] = await Promise.all([ds.loadImage(s.imagePath), ds.decodeLabel(s.labelPath as string)]);
      return overlay(image, label, palette);
    }),
  );
  return composeGrid(cells, layout.cols, ds.classes);
}

/** The first rows*cols samples with the model's prediction painted on (run at `inputShape`, shown at full size). */
export async function predictionGrid(
  model: tf.LayersModel,
  classes: readonly ClassInfo[],
  samples: readonly SampleRef[],
  layout: GridLayout,
  inputShape: readonly [number, number],
): Promise<Buffer> {
  const palette = paletteFor(classes);
  const cells: RgbImage[] = [];
  for (const s of samples.slice(0, layout.rows * layout.cols)) {
    const image = await loadRgbImage(s.imagePath);
    const pred = await predict(model, image, { inputShape });
    cells.push(overlay(image, pred.labels, palette));
  }
  return composeGrid(cells, layout.cols, classes);
}
