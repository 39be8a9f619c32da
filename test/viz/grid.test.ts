import { strict as assert } from 'node:assert';
import sharp from 'sharp';
import { imageGrid, legendStrip } from '../../src/viz/grid';
import { encodePng } from '../../src/viz/png';
import type { RgbImage } from '../../src/data/types';
import { ConfigError, DataError } from '../../src/util/errors';

function solid(height: number, width: number, rgb: [number, number, number]): RgbImage {
  const data = new Uint8Array(height * width * 3);
  for (let i = 0; i < height * width; i++) data.set(rgb, 3 * i);
  return { height, width, data };
}

async function decode(png: Buffer): Promise<RgbImage> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.channels, 3);
  return { data: new Uint8Array(data), height: info.height, width: info.width };
}

const pixel = (img: RgbImage, y: number, x: number) =>
  Array.from(img.data.subarray(3 * (y * img.width + x), 3 * (y * img.width + x) + 3));

describe('viz/png + viz/grid', () => {
  it('encodePng round-trips exact pixels', async () => {
    const img: RgbImage = { height: 2, width: 2, data: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 250, 251, 252]) };
    const back = await decode(await encodePng(img));
    assert.deepEqual([back.height, back.width], [2, 2]);
    assert.deepEqual(Array.from(back.data), Array.from(img.data));
    await assert.rejects(encodePng({ height: 2, width: 2, data: new Uint8Array(3) }), DataError);
  });

  it('lays 3 images out on 2 columns with gaps: 2*20 + 4 wide, 2*10 + 4 high', async () => {
    const images = [solid(10, 20, [255, 0, 0]), solid(10, 20, [0, 255, 0]), solid(10, 20, [0, 0, 255])];
    const grid = await decode(await imageGrid(images, 2, { gap: 4, background: [7, 7, 7] }));
    assert.deepEqual([grid.height, grid.width], [24, 44]);
    assert.deepEqual(pixel(grid, 5, 10), [255, 0, 0]);
    assert.deepEqual(pixel(grid, 5, 34), [0, 255, 0]); // column 2 starts at 20 + 4
    assert.deepEqual(pixel(grid, 19, 10), [0, 0, 255]); // row 2 starts at 10 + 4
    assert.deepEqual(pixel(grid, 5, 22), [7, 7, 7]); // gap
    assert.deepEqual(pixel(grid, 19, 34), [7, 7, 7]); // empty 4th cell
  });

  it('scales to cellWidth keeping the aspect, and uses fewer columns than asked for few images', async () => {
    // 10x20 -> 5x10 and 20x20 -> 10x10: cells 10 wide and 10 high, one row of 2 despite cols = 5.
    const grid = await decode(
      await imageGrid([solid(10, 20, [10, 20, 30]), solid(20, 20, [40, 50, 60])], 5, { cellWidth: 10, gap: 2 }),
    );
    assert.deepEqual([grid.height, grid.width], [10, 22]);
    assert.deepEqual(pixel(grid, 2, 5), [10, 20, 30]);
    assert.deepEqual(pixel(grid, 8, 5), [255, 255, 255]); // below the short image: background
    assert.deepEqual(pixel(grid, 8, 17), [40, 50, 60]);
  });

  it('makes each row as tall as its own tallest cell: a short strip under a tall image stays short', async () => {
    const grid = await decode(await imageGrid([solid(30, 20, [1, 2, 3]), solid(4, 20, [9, 9, 9])], 1, { gap: 0 }));
    assert.deepEqual([grid.height, grid.width], [34, 20]);
    assert.deepEqual(pixel(grid, 32, 5), [9, 9, 9]);
  });

  it('rejects no images and a bad column count', async () => {
    await assert.rejects(imageGrid([], 2), ConfigError);
    await assert.rejects(imageGrid([solid(2, 2, [0, 0, 0])], 0), /grid cols must be a positive integer; got 0/);
  });

  it('legendStrip draws a swatch in each class colour and the names', async () => {
    const classes = [
      { name: 'road', color: [128, 64, 128] as const },
      { name: 'car & truck', color: [0, 0, 142] as const },
      { name: 'sky', color: [70, 130, 180] as const },
    ];
    const strip = await legendStrip(classes, 400);
    assert.equal(strip.width, 400);
    assert.equal(strip.height, 20); // all three fit on one row
    assert.equal(strip.data.length, 400 * 20 * 3);
    // Entry width 3*4 + 12 + ceil(11 * 0.6 * 12) = 104; swatch i spans x = 104 i + 4 .. + 12, y = 4 .. 16.
    for (let i = 0; i < classes.length; i++) assert.deepEqual(pixel(strip, 10, 104 * i + 10), [...classes[i].color]);
    // Text of the first name lies right of its swatch (x from 20): some dark pixels there.
    let dark = 0;
    for (let y = 0; y < 20; y++) for (let x = 20; x < 60; x++) if (pixel(strip, y, x).every((v) => v < 128)) dark++;
    assert.ok(dark > 10, `only ${dark} dark text pixels; are fonts installed (fc-list)?`);
  });
});
