import * as path from 'node:path';
import { ConfigError } from '../util/errors';
import { startProgress } from '../util/progress';
import { openCityscapes } from './cityscapes';
import { loadGray8, loadRgbImageResized, writePng } from './png';
import { createRng, shuffled } from './rng';
import { resizeLabelNearest } from './transforms';
import type { Split } from './types';

export interface DownsizeOptions {
  /** Samples per split to keep (the reference trained on 900/100/10). */
  readonly counts: Partial<Record<Split, number>>;
  /** [height, width] of the copy, e.g. [256, 512]. */
  readonly size: readonly [number, number];
  readonly seed: number;
  readonly progress?: boolean;
}

/**
 * Writes a seeded random subset of Cityscapes, resized, in the same layout
 * (leftImg8bit/ and gtFine/ *_labelIds.png), so the Cityscapes loader reads
 * it like the full set. Images are resized linearly, label ids by nearest
 * neighbour (no invented ids). Returns the number of frames written per split.
 */
export async function downsizeCityscapes(
  srcDir: string,
  outDir: string,
  opts: DownsizeOptions,
): Promise<Record<string, number>> {
  const [h, w] = opts.size;
  if (!(Number.isInteger(h) && Number.isInteger(w) && h > 0 && w > 0)) {
    throw new ConfigError(`downsize size ${w}x${h} must be WIDTHxHEIGHT in pixels, e.g. 512x256`);
  }
  if (path.resolve(srcDir) === path.resolve(outDir)) {
    throw new ConfigError(`downsize output ${outDir} is the source folder; choose another, e.g. data/cityscapes_small`);
  }
  const ds = await openCityscapes(srcDir);
  const picked: { split: Split; imagePath: string; labelPath: string | null }[] = [];
  for (const [split, count] of Object.entries(opts.counts) as [Split, number][]) {
    if (!ds.splits.includes(split) || count <= 0) continue;
    const samples = await ds.samples(split);
    for (const s of shuffled(samples, createRng(opts.seed)).slice(0, count)) picked.push({ split, ...s });
  }
  const bar = startProgress('downsize cityscapes', picked.length, { enabled: opts.progress ?? true });
  const written: Record<string, number> = {};
  for (const [k, s] of picked.entries()) {
    // <root>/leftImg8bit/<split>/<city>/<name>: the same relative path under outDir.
    const rel = path.relative(srcDir, s.imagePath);
    const { image } = await loadRgbImageResized(s.imagePath, h, w);
    await writePng(path.join(outDir, rel), image.data, h, w, 3);
    const labelPath =
      s.labelPath ??
      s.imagePath
        .replace(`${path.sep}leftImg8bit${path.sep}`, `${path.sep}gtFine${path.sep}`)
        .replace(/_leftImg8bit\.png$/, '_gtFine_labelIds.png');
    // Test labels are void-only but are copied too, so the layout stays complete.
    const ids = await loadGray8(labelPath).catch(() => null);
    if (ids !== null) {
      const small = resizeLabelNearest(ids, h, w);
      await writePng(path.join(outDir, path.relative(srcDir, labelPath)), small.data, h, w, 1);
    }
    written[s.split] = (written[s.split] ?? 0) + 1;
    bar.update(k + 1);
  }
  bar.stop();
  return written;
}
