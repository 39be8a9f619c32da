/**
 * The benchmark (`npm run bench`): for each backend, input size, fc6 variant
 * and worker count, the median forward time and the median full training
 * step (forward, backward, Adam) of FCN-8 on a synthetic batch, after
 * warm-up, with throughput, effective GFLOP/s of the forward pass and peak
 * memory. Writes bench/results.json and prints a table. Each row runs in a
 * child process of its own, so peak RSS is the row's and a row that crashes
 * is reported, not fatal. See bench/README.md for the flags.
 */
import * as tf from '@tensorflow/tfjs';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';

import { BACKEND_ORDER, defaultProbe, registerTrainingGradients, type BackendChoice } from '../src/backend';
import { webgpuMemoryLimitBytes } from '../src/backend/webgpu';
import { parseInputShape, type Fc6Variant } from '../src/model/config';
import { buildFcn8 } from '../src/model/fcn8';
import { preprocessImages } from '../src/model/preprocess';
import { resolveTrainConfig, type TrainConfig } from '../src/run/config';
import { adamOptimizer } from '../src/train/adam';
import { trainStep } from '../src/train/loop';
import { planMemory } from '../src/train/memory-plan';
import { createDataParallelStepper, type DataParallelStepper } from '../src/train/workers';
import { IGNORE_INDEX, type Batch } from '../src/data/types';
import { BackendError, ConfigError } from '../src/util/errors';
import { fcn8ConvCosts, fcn8ForwardFlops } from './flops';

/** KITTI Road's training split: the epoch the reference timed. */
export const KITTI_ROAD_TRAIN_IMAGES = 289;

/** One benchmark row to measure. */
export interface RowSpec {
  backend: BackendChoice;
  /** true: the backend was named (--backends/FCN_BACKEND), so a software WebGPU adapter is accepted. */
  forced: boolean;
  height: number;
  width: number;
  batch: number;
  fc6: Fc6Variant;
  workers: number;
  /** Channel multiplier (1 = VGG16; smaller only for smoke runs). */
  widthMultiplier: number;
  /** L2 factor on conv kernels; null = the paper preset's (1e-3). */
  l2: number | null;
  /** Untimed steps before measuring (the first also records peak tensor memory). */
  warmup: number;
  /** Timed steps; the median is reported. */
  steps: number;
}

export type RowStatus = 'ok' | 'skipped' | 'failed';

/** A row of bench/results.json. Times in ms; null where the row was not measured. */
export interface BenchRow {
  /** 'wasm', 'webgpu', ... or the peer, 'pytorch-cpu' / 'pytorch-cuda'. */
  backend: string;
  /** The backend's detail line (SIMD, adapter, threads). */
  detail: string | null;
  height: number;
  width: number;
  batch: number;
  fc6: Fc6Variant;
  workers: number;
  widthMultiplier: number;
  status: RowStatus;
  /** Why a row was skipped or failed, e.g. "skipped: does not fit (5.1 GiB; ...)". */
  reason: string | null;
  forwardMs: number | null;
  trainStepMs: number | null;
  /** trainStepMs / forwardMs. */
  trainToForward: number | null;
  /** Training throughput, batch / trainStep. */
  imagesPerSecond: number | null;
  forwardImagesPerSecond: number | null;
  /** Analytic forward FLOPs of the batch (bench/flops.ts), in GFLOP. */
  forwardGflop: number;
  /** forwardGflop / forward time. */
  forwardGflopPerSecond: number | null;
  /** Peak bytes of live tensors during a training step (tf.profile; the main thread's only), in MiB. */
  peakTensorMiB: number | null;
  /** Peak resident memory of the process that ran the row, in MiB. */
  peakRssMiB: number | null;
  /** Seconds per epoch of KITTI Road's 289 training images at this training rate. */
  epochSeconds: number | null;
  /** Every timed step, for the spread. */
  forwardSamplesMs: number[];
  trainSamplesMs: number[];
  /** Our training throughput over the peer's for the same shape and fc6 (>1: faster). */
  vsPeerTrain?: number | null;
  vsPeerForward?: number | null;
}

const MIB = 1024 ** 2;
const GIB = 1024 ** 3;

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** A row with the fields that do not need a measurement. */
export function emptyRow(
  spec: Omit<RowSpec, 'forced' | 'warmup' | 'steps' | 'backend' | 'l2'> & { backend: string },
  status: RowStatus,
  reason: string | null,
  detail: string | null = null,
): BenchRow {
  return {
    backend: spec.backend,
    detail,
    height: spec.height,
    width: spec.width,
    batch: spec.batch,
    fc6: spec.fc6,
    workers: spec.workers,
    widthMultiplier: spec.widthMultiplier,
    status,
    reason,
    forwardMs: null,
    trainStepMs: null,
    trainToForward: null,
    imagesPerSecond: null,
    forwardImagesPerSecond: null,
    forwardGflop:
      fcn8ForwardFlops(
        { fc6: spec.fc6, widthMultiplier: spec.widthMultiplier, numClasses: 2 },
        spec.height,
        spec.width,
        spec.batch,
      ) / 1e9,
    forwardGflopPerSecond: null,
    peakTensorMiB: null,
    peakRssMiB: null,
    epochSeconds: null,
    forwardSamplesMs: [],
    trainSamplesMs: [],
  };
}

/** Fills the derived columns from the two medians. */
export function completeRow(row: BenchRow, forwardMs: number | null, trainStepMs: number): BenchRow {
  const perS = (ms: number) => (row.batch * 1000) / ms;
  return {
    ...row,
    status: 'ok',
    forwardMs,
    trainStepMs,
    trainToForward: forwardMs === null ? null : trainStepMs / forwardMs,
    imagesPerSecond: perS(trainStepMs),
    forwardImagesPerSecond: forwardMs === null ? null : perS(forwardMs),
    forwardGflopPerSecond: forwardMs === null ? null : row.forwardGflop / (forwardMs / 1000),
    epochSeconds: (KITTI_ROAD_TRAIN_IMAGES * trainStepMs) / row.batch / 1000,
  };
}

/** A seeded synthetic batch: noise images, a road-like bottom half as class 1. */
export function syntheticBatch(batch: number, height: number, width: number, seed = 1): Batch {
  let s = seed >>> 0;
  const images = new Uint8Array(batch * height * width * 3);
  for (let i = 0; i < images.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    images[i] = s >>> 24;
  }
  const labels = new Uint8Array(batch * height * width);
  for (let b = 0; b < batch; b++) {
    labels.fill(1, (b * height + (height >> 1)) * width, (b + 1) * height * width);
  }
  return { ids: Array.from({ length: batch }, (_, i) => `synthetic_${i}`), height, width, images, labels };
}

/** The training config a row uses: the paper preset at the row's size, fc6 and width. */
export function rowTrainConfig(
  spec: Pick<RowSpec, 'height' | 'width' | 'batch' | 'fc6' | 'workers' | 'widthMultiplier' | 'l2'>,
): TrainConfig {
  return resolveTrainConfig('paper', {
    batchSize: spec.batch,
    workers: spec.workers,
    model: {
      inputShape: [spec.height, spec.width],
      fc6: spec.fc6,
      widthMultiplier: spec.widthMultiplier,
      ...(spec.l2 === null ? {} : { l2: spec.l2 }),
    },
  });
}

/** Bytes of the largest kernel or conv output of a row's model: WebGPU binds each tensor as one buffer. */
export function largestTensorBytes(
  spec: Pick<RowSpec, 'height' | 'width' | 'batch' | 'fc6' | 'widthMultiplier'>,
): number {
  const costs = fcn8ConvCosts(
    { fc6: spec.fc6, widthMultiplier: spec.widthMultiplier, numClasses: 2 },
    spec.height,
    spec.width,
  );
  return (
    4 *
    Math.max(
      ...costs.map((c) => Math.max(c.kernel * c.kernel * c.cin * c.cout, spec.batch * c.height * c.width * c.cout)),
    )
  );
}

/**
 * Why a row will not be measured on this backend, or null when it will.
 * `bufferLimitBytes`: the largest tensor the backend can hold (WebGPU), or null.
 */
export function rowSkipReason(spec: RowSpec, bufferLimitBytes: number | null): string | null {
  if (spec.workers > 1 && spec.backend !== 'wasm' && spec.backend !== 'cpu') {
    return `skipped: ${spec.workers} workers are data-parallel CPU training; ${spec.backend} runs one`;
  }
  if (spec.workers > 1 && spec.batch % spec.workers !== 0) {
    return `skipped: batch ${spec.batch} does not split over ${spec.workers} workers`;
  }
  if (bufferLimitBytes !== null) {
    const largest = largestTensorBytes(spec);
    return largest > bufferLimitBytes
      ? `skipped: does not fit (largest tensor ${(largest / GIB).toFixed(2)} GiB; ${spec.backend} binds at most ${(bufferLimitBytes / GIB).toFixed(2)} GiB per tensor)`
      : null;
  }
  if (spec.backend !== 'wasm') return null;
  // Planned per lane, as if each held the model, its gradients, Adam and its share of the batch (an upper bound).
  const perWorker = { ...rowTrainConfig(spec), batchSize: spec.batch / spec.workers };
  const plan = planMemory(perWorker, { choice: spec.backend });
  if (plan.limitBytes !== null && plan.totalBytes > plan.limitBytes) {
    return `skipped: does not fit (${(plan.totalBytes / GIB).toFixed(2)} GiB; ${plan.limitSource} holds ${(plan.limitBytes / GIB).toFixed(2)} GiB)`;
  }
  return null;
}

/**
 * Measures one row on the active tfjs backend, in this process. Forward is
 * model.apply in inference mode with the logits read back (so a GPU queue is
 * drained); a training step is trainStep (or the data-parallel stepper).
 * No tensor outlives the call.
 */
export async function measureRow(spec: RowSpec, detail: string | null = null): Promise<BenchRow> {
  const base = emptyRow(spec, 'ok', null, detail);
  const skip = rowSkipReason(spec, tf.getBackend() === 'webgpu' ? webgpuMemoryLimitBytes() : null);
  if (skip) return { ...base, status: 'skipped', reason: skip };
  if (!(spec.warmup >= 1 && spec.steps >= 1)) {
    throw new ConfigError(`warmup and steps must be >= 1; got warmup ${spec.warmup}, steps ${spec.steps}`);
  }
  const config = rowTrainConfig(spec);
  const model = buildFcn8(config.model);
  const optimizer = adamOptimizer(config.learningRate);
  const batch = syntheticBatch(spec.batch, spec.height, spec.width);
  const x = preprocessImages(batch.images, spec.batch, spec.height, spec.width); // [B, H, W, 3]
  let trainer: Pick<DataParallelStepper, 'stepper' | 'close'> | null = null;
  const gpuErrors = watchWebgpuErrors();
  try {
    // The data-parallel trainer only trains, so its rows have no forward time of their own.
    const forwardSamples: number[] = [];
    if (spec.workers === 1) {
      for (let i = 0; i < spec.warmup + spec.steps; i++) {
        const t0 = performance.now();
        const logits = tf.tidy(() => model.apply(x, { training: false }) as tf.Tensor4D);
        await logits.data();
        const ms = performance.now() - t0;
        logits.dispose();
        if (i >= spec.warmup) forwardSamples.push(ms);
      }
    }
    trainer =
      spec.workers > 1
        ? await createDataParallelStepper({
            model,
            optimizer,
            config,
            workers: spec.workers,
            ignoreIndex: IGNORE_INDEX,
          })
        : { stepper: (b: Batch, step: number) => trainStep(model, optimizer, b, config, step), close: async () => {} };
    const { stepper } = trainer;
    const trainSamples: number[] = [];
    let peakTensorBytes = 0;
    for (let step = 0; step < spec.warmup + spec.steps; step++) {
      if (step === 0) {
        peakTensorBytes = await profiledPeakBytes(() => stepper(batch, step));
        continue;
      }
      const t0 = performance.now();
      await stepper(batch, step);
      if (step >= spec.warmup) trainSamples.push(performance.now() - t0);
    }
    await gpuErrors?.check();
    const row = completeRow(base, forwardSamples.length ? median(forwardSamples) : null, median(trainSamples));
    return {
      ...row,
      forwardSamplesMs: forwardSamples,
      trainSamplesMs: trainSamples,
      peakTensorMiB: peakTensorBytes / MIB,
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
    };
  } finally {
    await trainer?.close();
    x.dispose();
    model.dispose();
    optimizer.dispose();
  }
}

/**
 * On WebGPU a rejected dispatch (a buffer over the device's limits, out of
 * memory) does not throw: it does nothing, and its time looks excellent.
 * Error scopes catch it; check() throws BackendError with WebGPU's message.
 */
function watchWebgpuErrors(): { check(): Promise<void> } | null {
  if (tf.getBackend() !== 'webgpu') return null;
  const { device } = tf.backend() as unknown as { device: GPUDevice };
  device.pushErrorScope('validation');
  device.pushErrorScope('out-of-memory');
  return {
    async check() {
      const oom = await device.popErrorScope();
      const invalid = await device.popErrorScope();
      const err = oom ?? invalid;
      if (err)
        throw new BackendError(
          `WebGPU rejected the work (${oom ? 'out of memory' : 'validation'}): ${err.message.split('\n')[0]}`,
        );
    },
  };
}

/** Peak live-tensor bytes while `fn` runs. Kernel outputs are not read back for NaN checks meanwhile. */
async function profiledPeakBytes(fn: () => Promise<unknown>): Promise<number> {
  const check = tf.env().getBool('CHECK_COMPUTATION_FOR_ERRORS');
  tf.env().set('CHECK_COMPUTATION_FOR_ERRORS', false);
  try {
    const info = await tf.profile(async () => {
      await fn();
      return [] as tf.Tensor[];
    });
    return info.peakBytes;
  } finally {
    tf.env().set('CHECK_COMPUTATION_FOR_ERRORS', check);
  }
}

// ---------------------------------------------------------------- the command

export interface BenchOptions {
  /** null: every backend that loads without being forced (cpu only when named). */
  backends: BackendChoice[] | null;
  shapes: [number, number][];
  batch: number;
  fc6: Fc6Variant[];
  workers: number[];
  widthMultiplier: number;
  l2: number | null;
  warmup: number;
  steps: number;
  peer: 'pytorch' | null;
  peerDevice: 'cpu' | 'cuda';
  /** PyTorch CPU threads (2, as this machine's cores). */
  peerThreads: number;
  out: string;
}

const DEFAULTS: BenchOptions = {
  backends: null,
  shapes: [
    [96, 288],
    [160, 576],
  ],
  batch: 2,
  fc6: ['lite', 'paper'],
  workers: [1, 2],
  widthMultiplier: 1,
  l2: null,
  warmup: 2,
  steps: 3,
  peer: null,
  peerDevice: 'cpu',
  peerThreads: 2,
  out: path.join(__dirname, 'results.json'),
};

const USAGE = `usage: npm run bench -- [flags]
  --quick                 96x288, fc6 lite, 1 and 2 workers, 2 timed steps (1-2 minutes)
  --shapes 96x288,160x576 input sizes (HEIGHTxWIDTH, multiples of 32)
  --backends wasm,webgpu  backends to run (default: every one that loads; FCN_BACKEND picks one)
  --fc6 lite,paper        fc6 variants
  --workers 1,2           data-parallel workers (wasm)
  --batch 2               images per step
  --steps 3 --warmup 2    timed and untimed steps per row (median of the timed)
  --width 1               channel multiplier (below 1 only for smoke runs)
  --l2 0.001              L2 factor on conv kernels (default: the paper preset's)
  --peer pytorch          also run the same model in PyTorch (python3 with torch)
  --peer-device cpu|cuda  where PyTorch runs (default cpu, ${DEFAULTS.peerThreads} threads)
  --out bench/results.json`;

function parseList<T>(flag: string, text: string, parse: (s: string) => T): T[] {
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!items.length) throw new ConfigError(`${flag} needs a comma-separated list; got "${text}"`);
  return items.map(parse);
}

function parsePositiveInt(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(`${flag} must be a positive integer; got "${text}"`);
  return n;
}

/** Parses the command's flags over the defaults (`env` for FCN_BACKEND). */
export function parseBenchArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): BenchOptions {
  const o: BenchOptions = { ...DEFAULTS };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new ConfigError(`${flag} needs a value\n${USAGE}`);
      return v;
    };
    switch (flag) {
      case '--quick':
        Object.assign(o, { shapes: [[96, 288]], fc6: ['lite'], workers: [1, 2], steps: 2 });
        break;
      case '--shapes':
        o.shapes = parseList(flag, value(), parseInputShape);
        break;
      case '--backends':
        o.backends = parseList(flag, value(), (s) => {
          const b = s.toLowerCase();
          if (!BACKEND_ORDER.includes(b as BackendChoice))
            throw new ConfigError(`--backends: "${s}" is not one of ${BACKEND_ORDER.join(', ')}`);
          return b as BackendChoice;
        });
        break;
      case '--fc6':
        o.fc6 = parseList(flag, value(), (s) => {
          if (s !== 'lite' && s !== 'paper') throw new ConfigError(`--fc6: "${s}" is not lite or paper`);
          return s;
        });
        break;
      case '--workers':
        o.workers = parseList(flag, value(), (s) => parsePositiveInt(flag, s));
        break;
      case '--batch':
        o.batch = parsePositiveInt(flag, value());
        break;
      case '--steps':
        o.steps = parsePositiveInt(flag, value());
        break;
      case '--warmup':
        o.warmup = parsePositiveInt(flag, value());
        break;
      case '--width': {
        const w = Number(value());
        if (!(w > 0 && w <= 1)) throw new ConfigError(`--width must be in (0, 1]; got ${argv[i]}`);
        o.widthMultiplier = w;
        break;
      }
      case '--l2': {
        const l2 = Number(value());
        if (!(l2 >= 0)) throw new ConfigError(`--l2 must be a number >= 0; got ${argv[i]}`);
        o.l2 = l2;
        break;
      }
      case '--peer': {
        const p = value();
        if (p !== 'pytorch') throw new ConfigError(`--peer: "${p}" is unknown; the peer is pytorch`);
        o.peer = p;
        break;
      }
      case '--peer-device': {
        const d = value();
        if (d !== 'cpu' && d !== 'cuda') throw new ConfigError(`--peer-device must be cpu or cuda; got "${d}"`);
        o.peerDevice = d;
        break;
      }
      case '--out':
        o.out = path.resolve(value());
        break;
      case '-h':
      case '--help':
        throw new ConfigError(USAGE);
      default:
        throw new ConfigError(`unknown flag "${flag}"\n${USAGE}`);
    }
  }
  const forced = (env.FCN_BACKEND ?? '').trim().toLowerCase();
  if (!o.backends && forced) {
    if (!BACKEND_ORDER.includes(forced as BackendChoice)) {
      throw new ConfigError(`FCN_BACKEND=${env.FCN_BACKEND} is not a backend; use one of ${BACKEND_ORDER.join(', ')}`);
    }
    o.backends = [forced as BackendChoice];
  }
  return o;
}

/** The rows of a run, in table order. */
export function plannedRows(o: BenchOptions): RowSpec[] {
  const forced = o.backends !== null;
  // cpu (pure JS) takes hours for VGG16; it runs only when named.
  const backends = o.backends ?? BACKEND_ORDER.filter((b) => b !== 'cpu');
  const rows: RowSpec[] = [];
  for (const backend of backends) {
    for (const [height, width] of o.shapes) {
      for (const fc6 of o.fc6) {
        for (const workers of o.workers) {
          rows.push({
            backend,
            forced,
            height,
            width,
            batch: o.batch,
            fc6,
            workers,
            widthMultiplier: o.widthMultiplier,
            l2: o.l2,
            warmup: o.warmup,
            steps: o.steps,
          });
        }
      }
    }
  }
  return rows;
}

/** What a child process reports: a measured row, or that its backend does not load. */
type ChildResult = { row: BenchRow } | { unavailable: string };

/** The child's side: activate the backend, measure one row, write the result to `outFile`. */
async function runChild(spec: RowSpec, outFile: string): Promise<void> {
  let result: ChildResult;
  const probe = await defaultProbe
    .init(spec.backend, { forced: spec.forced })
    .catch((err: Error): { ok: false; reason: string } => ({ ok: false, reason: err.message }));
  if (!probe.ok) {
    result = { unavailable: probe.reason };
  } else {
    try {
      registerTrainingGradients(); // as selectBackend does
      result = { row: await measureRow(spec, probe.detail) };
    } catch (err) {
      result = { row: emptyRow(spec, 'failed', `failed: ${(err as Error).message.split('\n')[0]}`, probe.detail) };
    }
  }
  fs.writeFileSync(outFile, JSON.stringify(result));
}

/** Runs one row in a child process of this same script (under tsx or compiled). */
function runRowInChild(spec: RowSpec): Promise<ChildResult> {
  const outFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fcn-bench-')), 'row.json');
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...process.execArgv, __filename, '--child', JSON.stringify(spec), outFile], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    child.on('close', (code, signal) => {
      let result: ChildResult;
      try {
        result = JSON.parse(fs.readFileSync(outFile, 'utf8')) as ChildResult;
      } catch {
        const last = stderr.trim().split('\n').filter(Boolean).slice(-1)[0] ?? '';
        result = {
          row: emptyRow(spec, 'failed', `failed: the row's process ended (${signal ?? `exit ${code}`}) ${last}`.trim()),
        };
      }
      fs.rmSync(path.dirname(outFile), { recursive: true, force: true });
      resolve(result);
    });
  });
}

/** A python3 that imports torch: FCN_PYTHON, then python3 on PATH, then Debian's. */
export function findTorchPython(env: NodeJS.ProcessEnv = process.env): string | null {
  const candidates = [env.FCN_PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string => Boolean(c));
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' });
    if (r.status === 0) return py;
  }
  return null;
}

/** Runs bench/pytorch_peer.py on the same shapes and fc6 variants; its rows, or one failed row per shape. */
function runPeer(o: BenchOptions): BenchRow[] {
  const backend = `pytorch-${o.peerDevice}`;
  const specs = o.shapes.flatMap(([height, width]) =>
    o.fc6.map((fc6) => ({
      backend,
      height,
      width,
      batch: o.batch,
      fc6,
      workers: 1,
      widthMultiplier: o.widthMultiplier,
    })),
  );
  const py = findTorchPython();
  if (!py) {
    return specs.map((s) =>
      emptyRow(s, 'skipped', 'skipped: no python3 with torch (apt-get install -y python3-torch, or set FCN_PYTHON)'),
    );
  }
  const l2 = o.l2 ?? rowTrainConfig({ ...specs[0], l2: null }).model.l2;
  const request = { device: o.peerDevice, threads: o.peerThreads, warmup: o.warmup, steps: o.steps, l2, rows: specs };
  const script = path.join(__dirname, 'pytorch_peer.py');
  process.stderr.write(
    `bench: PyTorch peer (${py}, ${o.peerDevice}${o.peerDevice === 'cpu' ? `, ${o.peerThreads} threads` : ''})\n`,
  );
  const r = spawnSync(py, [script], {
    input: JSON.stringify(request),
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'inherit'],
    maxBuffer: 64 * MIB,
  });
  const measured = new Map<
    string,
    { detail: string; forwardMs: number[]; trainStepMs: number[]; peakMiB: number | null }
  >();
  if (r.status === 0) {
    for (const line of r.stdout.split('\n').filter(Boolean)) {
      const m = JSON.parse(line) as {
        height: number;
        width: number;
        fc6: string;
        detail: string;
        forwardMs: number[];
        trainStepMs: number[];
        peakMiB: number | null;
      };
      measured.set(`${m.height}x${m.width}/${m.fc6}`, m);
    }
  }
  return specs.map((s) => {
    const m = measured.get(`${s.height}x${s.width}/${s.fc6}`);
    if (!m) return emptyRow(s, 'failed', `failed: ${script} exited ${r.status ?? r.signal}`);
    const row = completeRow(emptyRow(s, 'ok', null, m.detail), median(m.forwardMs), median(m.trainStepMs));
    return {
      ...row,
      forwardSamplesMs: m.forwardMs,
      trainSamplesMs: m.trainStepMs,
      peakTensorMiB: m.peakMiB,
      peakRssMiB: null,
    };
  });
}

/** Adds our-over-peer throughput ratios to our rows with a peer row of the same shape and fc6. */
export function attachPeerRatios(rows: BenchRow[], peers: readonly BenchRow[]): BenchRow[] {
  return rows.map((r) => {
    const p = peers.find(
      (q) =>
        q.status === 'ok' && q.height === r.height && q.width === r.width && q.fc6 === r.fc6 && q.batch === r.batch,
    );
    if (!p || r.status !== 'ok') return r;
    return {
      ...r,
      vsPeerTrain: r.imagesPerSecond !== null && p.imagesPerSecond ? r.imagesPerSecond / p.imagesPerSecond : null,
      vsPeerForward:
        r.forwardImagesPerSecond !== null && p.forwardImagesPerSecond
          ? r.forwardImagesPerSecond / p.forwardImagesPerSecond
          : null,
    };
  });
}

/** The printed table: one line per row, measured numbers or the reason. */
export function formatTable(rows: readonly BenchRow[]): string {
  const f = (v: number | null | undefined, digits = 0) => (v === null || v === undefined ? '-' : v.toFixed(digits));
  const header = [
    'backend',
    'input',
    'batch',
    'fc6',
    'workers',
    'forward ms',
    'step ms',
    'step/fwd',
    'img/s',
    'fwd GFLOP/s',
    'peak MiB',
    'epoch s',
    'vs peer',
  ];
  const lines = rows.map((r) => {
    const head = [r.backend, `${r.height}x${r.width}`, String(r.batch), r.fc6, String(r.workers)];
    if (r.status !== 'ok') return [...head, r.reason ?? r.status];
    const peak = Math.max(r.peakTensorMiB ?? 0, r.peakRssMiB ?? 0);
    return [
      ...head,
      f(r.forwardMs),
      f(r.trainStepMs),
      f(r.trainToForward, 2),
      f(r.imagesPerSecond, 2),
      f(r.forwardGflopPerSecond, 1),
      peak ? f(peak) : '-',
      f(r.epochSeconds, 1),
      r.vsPeerTrain ? `${r.vsPeerTrain.toFixed(2)}x` : '-',
    ];
  });
  // A skipped row's reason is its last cell and spans the measured columns.
  const widths = header.map((h, i) =>
    Math.max(h.length, ...lines.map((l) => (l.length === header.length || i < 5 ? (l[i] ?? '').length : 0))),
  );
  const pad = (cells: string[]) => cells.map((c, i) => (i < cells.length - 1 ? c.padEnd(widths[i]) : c)).join('  ');
  return [pad(header), ...lines.map(pad)].join('\n');
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === '--child') {
    await runChild(JSON.parse(argv[1]) as RowSpec, argv[2]);
    return;
  }
  const o = parseBenchArgs(argv);
  const specs = plannedRows(o);
  const rows: BenchRow[] = [];
  const unavailable = new Map<string, string>();
  const started = Date.now();
  for (const [i, spec] of specs.entries()) {
    const label = `${spec.backend} ${spec.height}x${spec.width} b${spec.batch} ${spec.fc6} w${spec.workers}`;
    const known = unavailable.get(spec.backend);
    if (known !== undefined) continue;
    const result = await runRowInChild(spec);
    if ('unavailable' in result) {
      unavailable.set(spec.backend, result.unavailable);
      process.stderr.write(`bench: ${spec.backend} not available: ${result.unavailable}\n`);
      continue;
    }
    rows.push(result.row);
    const r = result.row;
    process.stderr.write(
      `bench [${i + 1}/${specs.length}] ${label}: ${
        r.status === 'ok'
          ? `forward ${r.forwardMs === null ? '-' : r.forwardMs.toFixed(0)} ms, step ${r.trainStepMs?.toFixed(0)} ms`
          : r.reason
      } (${((Date.now() - started) / 1000).toFixed(0)} s)\n`,
    );
  }
  if (!rows.length) {
    throw new ConfigError(
      `no backend could run the benchmark: ${[...unavailable].map(([b, why]) => `${b}: ${why}`).join('; ')}`,
    );
  }
  const peers = o.peer ? runPeer(o) : [];
  const all = [...attachPeerRatios(rows, peers), ...peers];
  const results = {
    createdAt: new Date().toISOString(),
    command: `bench ${argv.join(' ')}`.trim(),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? null,
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
    },
    options: o,
    unavailable: Object.fromEntries(unavailable),
    rows: all,
  };
  fs.mkdirSync(path.dirname(o.out), { recursive: true });
  fs.writeFileSync(o.out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(formatTable(all));
  for (const [b, detail] of new Map(all.filter((r) => r.detail).map((r) => [r.backend, r.detail])))
    console.log(`${b}: ${detail}`);
  for (const [b, why] of unavailable) console.log(`${b}: not available (${why})`);
  console.log(
    `wrote ${path.relative(process.cwd(), o.out) || o.out} (${((Date.now() - started) / 1000).toFixed(0)} s)`,
  );
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: Error) => {
    console.error(err instanceof ConfigError ? err.message : err);
    process.exit(1);
  });
}
