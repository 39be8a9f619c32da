import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RgbImage } from '../../src/data/types';
import { launchChromium } from '../../src/viz/chart-png';
import { y4mFromFrames } from './y4m';

type Browser = import('playwright-core').Browser;
type Page = import('playwright-core').Page;

/** What the page exposes as window.fcnSegmenter (src/infer/serve-page/page.js), with arrays made plain. */
export interface SegmenterState {
  frames: number;
  fps: number | null;
  latencyMs: number | null;
  loadMs: number | null;
  backendLabel: string | null;
  error: string | null;
  crossOriginIsolated: boolean;
  stats: string;
  last: { labels: number[]; input: number[]; height: number; width: number } | null;
}

/**
 * Headless Chromium whose camera plays `frames` in a loop (a y4m written
 * next to `dir`), without asking for permission.
 */
export async function launchWithFakeCamera(frames: readonly RgbImage[], dir: string): Promise<Browser> {
  const video = path.join(dir, 'fake-camera.y4m');
  fs.writeFileSync(video, y4mFromFrames(frames, 10));
  return launchChromium([
    '--use-fake-device-for-media-stream',
    '--use-fake-ui-for-media-stream',
    `--use-file-for-fake-video-capture=${video}`,
  ]);
}

export async function readSegmenter(page: Page): Promise<SegmenterState> {
  return page.evaluate(() => {
    type Last = { labels: ArrayLike<number>; input: ArrayLike<number>; height: number; width: number };
    const s = (window as unknown as { fcnSegmenter: Record<string, unknown> }).fcnSegmenter;
    const last = s.last as Last | null;
    return {
      ...s,
      crossOriginIsolated: self.crossOriginIsolated,
      stats: document.getElementById('stats')!.textContent ?? '',
      last: last && { ...last, labels: Array.from(last.labels), input: Array.from(last.input) },
    } as never;
  });
}

/** Waits until the page has segmented `frames` frames and shows an FPS figure, or reports its error. */
export async function waitForFrames(page: Page, frames: number, timeoutMs: number): Promise<SegmenterState> {
  await page.waitForFunction(
    (n) => {
      type Progress = { frames: number; fps: number | null; error: string | null };
      const s = (window as unknown as { fcnSegmenter: Progress }).fcnSegmenter;
      return s && (s.error !== null || (s.frames >= n && s.fps !== null));
    },
    frames,
    { timeout: timeoutMs, polling: 100 },
  );
  return readSegmenter(page);
}
