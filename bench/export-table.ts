/**
 * The numbers behind the README's "Smaller and faster exports" and `fcn serve` tables:
 * for one run, its float32, float16 and uint8 exports' size, load time in Node, FPS in
 * headless Chromium (wasm, fake camera playing real frames) at each --sizes entry, and,
 * with --data, the mean IoU on the val split at full resolution (as `fcn eval`).
 *
 *   npx tsx bench/export-table.ts --run runs/camvid-q --data ../shared/data/camvid --sizes 192x256,96x128
 *   npx tsx bench/export-table.ts --run runs/road --sizes 96x288,160x576 --only float32
 *   npx tsx bench/export-table.ts --presets     # parameters and export size of each preset's model
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { selectBackend } from '../src/backend';
import { loadRgbImage, openDataset, renderRoadScene } from '../src/data';
import type { RgbImage } from '../src/data/types';
import { evaluateSamples } from '../src/eval/evaluate';
import { exportForInference } from '../src/infer/export';
import { loadExportedModel } from '../src/infer/load-predictor';
import type { WeightQuantization } from '../src/infer/quantize';
import { servePage } from '../src/infer/serve';
import type { Fcn8Config } from '../src/model/config';
import { buildFcn8 } from '../src/model/fcn8';
import { resolveTrainConfig } from '../src/run/config';
import { loadRun } from '../src/run/load-run';
import { launchWithFakeCamera, readSegmenter, waitForFrames } from '../test/infer/fake-camera';

/** A preset's name as is; explicit numbers as JSON. */
const fc6Label = (fc6: Fcn8Config['fc6']) => (typeof fc6 === 'string' ? fc6 : JSON.stringify(fc6));

function flag(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0 || i + 1 >= process.argv.length) {
    if (fallback === undefined) throw new Error(`--${name} is required`);
    return fallback;
  }
  return process.argv[i + 1];
}

/** Camera frames: CamVid's first val frames when given, else built-in road scenes (188x620, KITTI's half size). */
async function cameraFrames(data: string | null): Promise<RgbImage[]> {
  if (data) {
    const ds = await openDataset('camvid', data);
    const samples = (await ds.samples('val')).slice(0, 3);
    return Promise.all(samples.map((s) => loadRgbImage(s.imagePath)));
  }
  return (['um', 'umm', 'uu'] as const).map((c, i) => ({
    data: renderRoadScene(i, c, 188, 620).image,
    height: 188,
    width: 620,
  }));
}

/** Frames per second the page sustains over `seconds` after a warm-up, and its last latency. */
async function pageFps(modelDir: string, frames: RgbImage[], size: string, seconds: number, tmp: string) {
  const server = await servePage({ modelDir, port: 0 });
  const browser = await launchWithFakeCamera(frames, tmp);
  try {
    const page = await browser.newPage();
    await page.goto(`${server.url}?source=camera&backend=wasm&size=${size}`);
    const first = await waitForFrames(page, 3, 300_000);
    if (first.error) throw new Error(first.error);
    const t0 = Date.now();
    await page.waitForTimeout(seconds * 1000);
    const last = await readSegmenter(page);
    const fps = (last.frames - first.frames) / ((Date.now() - t0) / 1000);
    return { fps, latencyMs: last.latencyMs ?? NaN, backend: last.backendLabel, loadMs: first.loadMs ?? NaN };
  } finally {
    await browser.close();
    await server.close();
  }
}

/** Each preset's model for KITTI Road (2 classes) and CamVid (11): parameters and weights.bin per quantization. */
function presetTable(): void {
  console.log('| preset | fc6 | width | classes | parameters | float32 | float16 | uint8 |');
  console.log('|---|---|---|---|---|---|---|---|');
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(b < 2 ** 20 ? 3 : 1)} MiB`;
  for (const preset of ['paper', 'cpu', 'smoke'] as const) {
    for (const fc6 of preset === 'paper' ? (['paper', 'lite'] as const) : [undefined]) {
      for (const numClasses of [2, 11]) {
        const c = resolveTrainConfig(preset, { model: { numClasses, ...(fc6 && { fc6 }) } });
        const model = buildFcn8({ ...c.model, dropout: 0 });
        const n = model.countParams();
        model.dispose();
        console.log(
          `| ${preset} | ${fc6Label(c.model.fc6)} | ${c.model.widthMultiplier} | ${numClasses} | ` +
            `${n.toLocaleString('en')} | ` +
            `${mib(4 * n)} | ${mib(2 * n)} | ${mib(n)} |`,
        );
      }
    }
  }
}

async function main(): Promise<void> {
  await selectBackend();
  if (process.argv.includes('--presets')) return presetTable();
  const runDir = flag('run');
  const data = process.argv.includes('--data') ? flag('data') : null;
  const sizes = flag('sizes').split(',');
  const seconds = Number(flag('seconds', '15'));
  const only = flag('only', 'float32,float16,uint8').split(',');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fcn-export-table-'));
  const frames = await cameraFrames(data);
  const run = await loadRun(runDir);
  const m = run.config.model;
  console.log(
    `run ${runDir}: ${run.config.preset} preset, width ${m.widthMultiplier}, fc6 ${fc6Label(m.fc6)}, ` +
      `${run.model.countParams()} parameters; camera frames ${frames[0].height}x${frames[0].width}; ` +
      `${os.cpus().length} cores`,
  );
  run.model.dispose();
  const rows: string[] = [];
  for (const name of only) {
    const quantize = name === 'float32' ? null : (name as WeightQuantization);
    const out = path.join(tmp, name);
    await exportForInference(runDir, out, { quantize });
    const bytes = fs.statSync(path.join(out, 'weights.bin')).size;
    const t0 = performance.now();
    const { model } = await loadExportedModel(out);
    const loadMs = performance.now() - t0;
    let miou = '-';
    if (data) {
      const ds = await openDataset(run.dataset.name, data, run.dataset.options);
      const samples = (await ds.samples('val')).filter((s) => s.labelPath);
      const r = await evaluateSamples(model, ds, samples, {
        classNames: ds.classes.map((c) => c.name),
        ignoreIndex: ds.ignoreIndex,
        inputShape: run.config.model.inputShape,
      });
      miou = (100 * r.metrics.meanIoU).toFixed(2);
    }
    model.dispose();
    for (const size of sizes) {
      const p = await pageFps(out, frames, size, seconds, tmp);
      const row =
        `| ${name} | ${(bytes / 2 ** 20).toFixed(2)} MiB | ${loadMs.toFixed(0)} ms | ` +
        `${p.loadMs.toFixed(0)} ms | ${size} | ` +
        `${p.fps.toFixed(2)} | ${p.latencyMs.toFixed(0)} ms | ${miou} | ${p.backend} |`;
      console.log(row);
      rows.push(row);
    }
  }
  console.log(
    '\n| weights | weights.bin | load (Node) | load (page) | input | FPS | latency | val mIoU | ' + 'page backend |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
  fs.rmSync(tmp, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
