import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderRoadScene } from '../../src/data/builtin-road';
import type { RgbImage } from '../../src/data/types';
import { exportForInference } from '../../src/infer/export';
import { loadExportedModel } from '../../src/infer/load-predictor';
import { predict } from '../../src/infer/predict';
import { servePage, type PageServer } from '../../src/infer/serve';
import { ChromiumMissingError } from '../../src/viz/chart-png';
import { rmDir, tmpDir, useBackend } from '../helpers';
import { launchWithFakeCamera, readSegmenter, waitForFrames, type SegmenterState } from './fake-camera';
import { balanceRoad, fakeRun } from './fake-run';

const ARTIFACTS = path.resolve(__dirname, '../../test-artifacts');
/** The fake run's training size; the camera frames have it too, so neither side resizes. */
const [H, W] = [64, 96];

const meanAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
  return sum / a.length;
};
const agreement = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
};

describe('fcn serve: the live page in headless Chromium with a fake camera', function () {
  this.timeout(180_000);
  let dir: string;
  let frames: RgbImage[];
  const servers: PageServer[] = [];
  let browser: Awaited<ReturnType<typeof launchWithFakeCamera>> | null = null;

  before(async function () {
    await useBackend('wasm');
    dir = tmpDir();
    // Three built-in road frames, one per road category, played in a loop by the camera.
    frames = (['um', 'umm', 'uu'] as const).map((c, i) => {
      const { image } = renderRoadScene(100 + i, c, H, W);
      return { data: image, height: H, width: W };
    });
    await fakeRun(path.join(dir, 'run'), 0.5);
    const shares = await balanceRoad(path.join(dir, 'run'), frames);
    console.log(`      road share per frame: ${shares.map((f) => f.toFixed(2)).join(', ')}`);
    await exportForInference(path.join(dir, 'run'), path.join(dir, 'web'));
    await exportForInference(path.join(dir, 'run'), path.join(dir, 'web-uint8'), { quantize: 'uint8' });
    try {
      browser = await launchWithFakeCamera(frames, dir);
    } catch (err) {
      if (!(err instanceof ChromiumMissingError)) throw err;
      console.log(`      skipped: ${err.message}`);
      this.skip();
    }
  });
  after(async () => {
    await browser?.close();
    for (const s of servers) await s.close();
    rmDir(dir);
  });

  /** Opens the page on a model folder with the camera as source; returns its state once frames flow. */
  async function openCameraPage(modelDir: string, screenshot?: string) {
    const server = await servePage({ modelDir, port: 0 });
    servers.push(server);
    const page = await browser!.newPage({ viewport: { width: 900, height: 600 } });
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    const response = await page.goto(`${server.url}?source=camera&backend=wasm&size=${H}x${W}`);
    const state = await waitForFrames(page, 4, 90_000);
    if (screenshot) {
      fs.mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, screenshot) });
    }
    await page.close();
    return { server, state, headers: response!.headers(), requests };
  }

  /** The page's last frame must be one of the camera's frames, and its labels those `predict` gives. */
  async function checkAgainstPredict(modelDir: string, state: SegmenterState) {
    assert.equal(state.error, null, `page error: ${state.error}`);
    const last = state.last!;
    assert.deepEqual([last.height, last.width], [H, W]);
    // Which camera frame it was: the nearest, which the YUV 4:2:0 round trip leaves a few levels off.
    const diffs = frames.map((f) => meanAbsDiff(f.data, last.input));
    const nearest = diffs.indexOf(Math.min(...diffs));
    assert.ok(
      diffs[nearest] < 8,
      `the page's input is not a camera frame (mean differences ${diffs.map((d) => d.toFixed(1)).join(', ')})`,
    );
    const { model, inputShape } = await loadExportedModel(modelDir);
    const fromFrame = await predict(model, frames[nearest], { inputShape });
    const pageInput = { data: Uint8Array.from(last.input), height: H, width: W };
    const fromPageInput = await predict(model, pageInput, { inputShape });
    model.dispose();
    // Not a trivial map: both classes cover a fair share of the frame.
    const road = fromFrame.labels.data.reduce((n, v) => n + v, 0) / (H * W);
    assert.ok(road > 0.05 && road < 0.95, `the test model predicts road on ${road} of the frame: a near-constant map`);
    // Same pixels in, same classes out (wasm in Chromium against wasm in Node).
    assert.ok(
      agreement(last.labels, fromPageInput.labels.data) > 0.99,
      `page and predict() disagree on the page's own input: ${agreement(last.labels, fromPageInput.labels.data)}`,
    );
    // The camera's frame as `fcn predict` reads the PNG: equal up to the video round trip.
    const same = agreement(last.labels, fromFrame.labels.data);
    assert.ok(same > 0.9, `page and predict() agree on ${same} of frame ${nearest}'s pixels`);
  }

  it('segments camera frames as predict does, shows FPS, latency, backend, sends COOP/COEP, loads nothing remote', async () => {
    const { server, state, headers, requests } = await openCameraPage(path.join(dir, 'web'), 'serve-fake-camera.png');
    await checkAgainstPredict(path.join(dir, 'web'), state);
    assert.equal(headers['cross-origin-opener-policy'], 'same-origin');
    assert.equal(headers['cross-origin-embedder-policy'], 'require-corp');
    assert.ok(state.crossOriginIsolated, 'the page is not cross-origin isolated, so wasm gets no threads');
    assert.match(state.stats, /\d+\.\d FPS · latency \d+ ms · wasm \(/);
    assert.ok(state.fps! > 0 && state.latencyMs! > 0);
    const local = (u: string) => u.startsWith(server.url) || u.startsWith('blob:') || u.startsWith('data:');
    const remote = requests.filter((u) => !local(u));
    assert.deepEqual(remote, [], 'the page fetched something from outside the server');
    assert.ok(
      requests.some((u) => u.endsWith('.wasm')),
      'the wasm binary came from the server',
    );
    assert.ok(fs.statSync(path.join(ARTIFACTS, 'serve-fake-camera.png')).size > 1000);
  });

  it('loads a uint8-quantized export and segments with it', async () => {
    const { state } = await openCameraPage(path.join(dir, 'web-uint8'));
    await checkAgainstPredict(path.join(dir, 'web-uint8'), state);
  });

  it('segments an image chosen in the page exactly as predict does on the same PNG', async () => {
    const png = path.join(dir, 'frame.png');
    const sharp = (await import('sharp')).default;
    await sharp(frames[1].data, { raw: { width: W, height: H, channels: 3 } })
      .png()
      .toFile(png);
    const page = await browser!.newPage();
    await page.goto(`${servers[0].url}?backend=wasm`);
    await page.waitForFunction(() => /model loaded/.test(document.getElementById('stats')!.textContent ?? ''));
    await page.setInputFiles('#file', png);
    type Progress = { fcnSegmenter: { frames: number } };
    await page.waitForFunction(() => (window as unknown as Progress).fcnSegmenter.frames > 0);
    const state = await readSegmenter(page);
    await page.close();
    assert.equal(state.error, null);
    assert.deepEqual(state.last!.input, Array.from(frames[1].data), "the page did not get the PNG's pixels");
    const { model, inputShape } = await loadExportedModel(path.join(dir, 'web'));
    const expected = await predict(model, frames[1], { inputShape });
    model.dispose();
    assert.ok(agreement(state.last!.labels, expected.labels.data) > 0.99);
    assert.doesNotMatch(state.stats, /FPS/, 'a still image has a latency, not a frame rate');
  });

  it('refuses a folder that is not an export, and a port in use, saying what to do', async () => {
    await assert.rejects(servePage({ modelDir: path.join(dir, 'run'), port: 0 }), /fcn export --run/);
    const port = Number(new URL(servers[0].url).port);
    await assert.rejects(servePage({ modelDir: path.join(dir, 'web'), port }), /in use; pick another with --port/);
  });
});
