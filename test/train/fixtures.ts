import type { Batch } from '../../src/data/types';
import type { BatchSource } from '../../src/train/loop';

/**
 * A tiny learnable road scene: a trapezoid "road" (class 1) widening towards
 * the bottom, darker than its surroundings, with pixel noise; a void band
 * (255) on the top rows as KITTI labels have. Deterministic per index.
 */
export function roadScene(index: number, h: number, w: number): { image: Uint8Array; label: Uint8Array } {
  const image = new Uint8Array(h * w * 3);
  const label = new Uint8Array(h * w);
  let s = (index + 1) * 2654435761;
  const rand = () => {
    s = (s * 1103515245 + 12345) >>> 0;
    return s / 2 ** 32;
  };
  const centre = w * (0.4 + (0.2 * (index % 3)) / 2);
  for (let y = 0; y < h; y++) {
    const half = (y / h) * w * 0.45;
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const road = y > h * 0.3 && Math.abs(x - centre) < half;
      label[i] = y < 2 ? 255 : road ? 1 : 0;
      const base = road ? 90 : 150 + 40 * Math.sin(x / 5 + index);
      for (let c = 0; c < 3; c++)
        image[i * 3 + c] = Math.max(0, Math.min(255, base + (c === 1 && !road ? 30 : 0) + (rand() - 0.5) * 30));
    }
  }
  return { image, label };
}

/** An in-memory batch source over `count` road scenes, fixed order. */
export function sceneSource(count: number, batchSize: number, h: number, w: number): BatchSource {
  const scenes = Array.from({ length: count }, (_, i) => roadScene(i, h, w));
  const batches: Batch[] = [];
  for (let start = 0; start < count; start += batchSize) {
    const part = scenes.slice(start, start + batchSize);
    const images = new Uint8Array(part.length * h * w * 3);
    const labels = new Uint8Array(part.length * h * w);
    part.forEach((p, i) => {
      images.set(p.image, i * h * w * 3);
      labels.set(p.label, i * h * w);
    });
    batches.push({ ids: part.map((_, i) => `scene_${start + i}`), height: h, width: w, images, labels });
  }
  return {
    numBatches: batches.length,
    async *epoch() {
      yield* batches;
    },
  };
}
