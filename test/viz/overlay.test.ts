import { strict as assert } from 'node:assert';
import { overlay } from '../../src/viz/overlay';
import { paletteFromClasses, ROAD_PALETTE } from '../../src/viz/palette';
import type { RgbImage } from '../../src/data/types';
import { ConfigError, DataError } from '../../src/util/errors';

/** A 2x3 photo with a distinct colour per pixel. */
function photo(): RgbImage {
  return {
    height: 2,
    width: 3,
    data: Uint8Array.from([100, 50, 200, 10, 20, 30, 200, 100, 0, 0, 0, 0, 255, 255, 255, 40, 80, 120]),
  };
}

const pixel = (img: RgbImage, y: number, x: number) =>
  Array.from(img.data.subarray(3 * (y * img.width + x), 3 * (y * img.width + x) + 3));

describe('viz/overlay', () => {
  it('road: paints only road, green at alpha 0.5, and leaves ignore pixels as the photo', () => {
    const labels = { height: 2, width: 3, data: Uint8Array.from([1, 0, 255, 1, 1, 0]) };
    const src = photo();
    const out = overlay(src, labels, ROAD_PALETTE);
    // (100, 50, 200) + green: (0.5*100, 0.5*50 + 0.5*255, 0.5*200) = (50, 152.5 -> 153, 100)
    assert.deepEqual(pixel(out, 0, 0), [50, 153, 100]);
    assert.deepEqual(pixel(out, 0, 1), [10, 20, 30]); // background unpainted
    assert.deepEqual(pixel(out, 0, 2), [200, 100, 0]); // ignore unpainted
    assert.deepEqual(pixel(out, 1, 0), [0, 128, 0]); // (0, 127.5 -> 128, 0)
    assert.deepEqual(pixel(out, 1, 1), [128, 255, 128]); // (127.5 -> 128, 255, 127.5 -> 128)
    assert.deepEqual(Array.from(src.data), Array.from(photo().data), 'input untouched');
  });

  it('multi-class: every class in its colour at alpha 0.5', () => {
    const palette = paletteFromClasses([
      { name: 'red', color: [255, 0, 0] },
      { name: 'green', color: [0, 255, 0] },
      { name: 'blue', color: [0, 0, 255] },
    ]);
    const labels = { height: 2, width: 3, data: Uint8Array.from([1, 0, 2, 255, 2, 1]) };
    const out = overlay(photo(), labels, palette);
    assert.deepEqual(pixel(out, 0, 1), [133, 10, 15]); // (10, 20, 30) + red: (132.5 -> 133, 10, 15)
    assert.deepEqual(pixel(out, 0, 2), [100, 50, 128]); // (200, 100, 0) + blue: (100, 50, 127.5 -> 128)
    assert.deepEqual(pixel(out, 1, 0), [0, 0, 0]); // ignore
    assert.deepEqual(pixel(out, 1, 2), [20, 168, 60]); // (40, 80, 120) + green: (20, 167.5 -> 168, 60)
  });

  it('honours alpha and ignoreColor', () => {
    const labels = { height: 2, width: 3, data: Uint8Array.from([1, 255, 0, 0, 0, 0]) };
    const out = overlay(photo(), labels, ROAD_PALETTE, { alpha: 0.25, ignoreColor: [0, 0, 255] });
    // (100, 50, 200) + green at 1/4: (75, 37.5 + 63.75 = 101.25 -> 101, 150)
    assert.deepEqual(pixel(out, 0, 0), [75, 101, 150]);
    // (10, 20, 30) + blue at 1/4: (7.5 -> 8, 15, 22.5 + 63.75 = 86.25 -> 86)
    assert.deepEqual(pixel(out, 0, 1), [8, 15, 86]);
  });

  it('nearest-resizes a label map of another size', () => {
    // 1x2 labels over a 2x3 photo: column x samples floor((x + 0.5) * 2 / 3) = 0, 1, 1.
    const out = overlay(photo(), { height: 1, width: 2, data: Uint8Array.from([0, 1]) }, ROAD_PALETTE);
    assert.deepEqual(pixel(out, 0, 0), [100, 50, 200]);
    assert.deepEqual(pixel(out, 0, 1), [5, 138, 15]); // (10, 20, 30) + green: (5, 137.5 -> 138, 15)
    assert.deepEqual(pixel(out, 1, 2), [20, 168, 60]);
    assert.equal(out.height, 2);
    assert.equal(out.width, 3);
  });

  it('throws on a class without a palette entry, a bad alpha and a short image', () => {
    const labels = { height: 2, width: 3, data: Uint8Array.from([0, 0, 2, 0, 0, 0]) };
    assert.throws(
      () => overlay(photo(), labels, ROAD_PALETTE),
      (e: unknown) => e instanceof DataError && /label 2 has no palette entry/.test(e.message),
    );
    assert.throws(() => overlay(photo(), labels, ROAD_PALETTE, { alpha: 1.5 }), ConfigError);
    assert.throws(() => overlay({ height: 2, width: 3, data: new Uint8Array(5) }, labels, ROAD_PALETTE), DataError);
  });
});
