import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BackendError } from '../util/errors';
import { registerDilatedConvGradient } from './dilated-conv-grad';
import { registerReluGradient } from './relu-grad';
import { registerWasmTrainingKernels } from './wasm-kernels';
import { initWebgpuBackend, probeWebgpu } from './webgpu';
import { forgetPackedWeights } from './xnnpack-cache';

/**
 * Backend selection. Order: tfjs-node-gpu (CUDA), WebGPU on a real adapter,
 * tfjs-node (libtensorflow on the CPU), wasm (with our training kernels),
 * cpu (pure JS, far too slow for VGG16; last resort).
 */
export type BackendChoice = 'gpu' | 'webgpu' | 'node' | 'wasm' | 'cpu';
export const BACKEND_ORDER: readonly BackendChoice[] = ['gpu', 'webgpu', 'node', 'wasm', 'cpu'];

/** The name tfjs knows each choice by. */
export const TFJS_BACKEND_NAME: Record<BackendChoice, string> = {
  gpu: 'tensorflow',
  webgpu: 'webgpu',
  node: 'tensorflow',
  wasm: 'wasm',
  cpu: 'cpu',
};

const PACKAGE: Record<BackendChoice, string> = {
  gpu: '@tensorflow/tfjs-node-gpu',
  webgpu: '@tensorflow/tfjs-backend-webgpu',
  node: '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
};

/** What one attempt found: ready with a detail line, or skipped with the reason. */
export type ProbeResult = { ok: true; detail: string } | { ok: false; reason: string };

/**
 * Everything selectBackend touches outside itself, so tests can stub it:
 * `init(choice, {forced})` loads and activates one backend or says why not.
 */
export interface BackendProbe {
  init(choice: BackendChoice, opts: { forced: boolean }): Promise<ProbeResult>;
}

export interface SelectedBackend {
  choice: BackendChoice;
  /** tfjs's name for it (tf.getBackend()). */
  name: string;
  detail: string;
  /** Why each better backend was skipped, in order. */
  skipped: { choice: BackendChoice; reason: string }[];
  /** The one line that is logged: which backend, and why the better ones were not used. */
  line: string;
}

export interface SelectOptions {
  /** Defaults to process.env.FCN_BACKEND. */
  forced?: string;
  probe?: BackendProbe;
  /** Where the one-line summary goes; defaults to console.error. Pass null for silence. */
  log?: ((line: string) => void) | null;
}

let current: SelectedBackend | null = null;

/** The backend chosen by the last selectBackend() in this process, if any. */
export function currentBackend(): SelectedBackend | null {
  return current;
}

/**
 * Picks and activates the best backend that loads, or the one FCN_BACKEND
 * names (gpu|webgpu|node|wasm|cpu), failing loudly if that one cannot load.
 * Calling it again returns the first choice (tfjs holds one engine).
 */
export async function selectBackend(opts: SelectOptions = {}): Promise<SelectedBackend> {
  const forcedRaw = opts.forced ?? process.env.FCN_BACKEND ?? '';
  const forced = forcedRaw.trim().toLowerCase();
  if (current && !opts.probe && (!forced || forced === current.choice)) return current;
  if (forced && !BACKEND_ORDER.includes(forced as BackendChoice)) {
    throw new BackendError(
      `FCN_BACKEND=${forcedRaw} is not a backend; use one of ${BACKEND_ORDER.join(', ')} (or unset it to choose automatically)`,
    );
  }
  const probe = opts.probe ?? defaultProbe;
  const log = opts.log === undefined ? (l: string) => console.error(l) : opts.log;
  const candidates = forced ? [forced as BackendChoice] : BACKEND_ORDER;
  const skipped: SelectedBackend['skipped'] = [];
  for (const choice of candidates) {
    let result: ProbeResult;
    try {
      result = await probe.init(choice, { forced: Boolean(forced) });
    } catch (err) {
      result = { ok: false, reason: (err as Error).message };
    }
    if (!result.ok) {
      if (forced) {
        throw new BackendError(
          `FCN_BACKEND=${forced} was asked for, but ${PACKAGE[choice]} cannot be used: ${result.reason}. ` +
            `Unset FCN_BACKEND to pick the best available backend, or fix the above (see \`npx fcn doctor\`).`,
        );
      }
      skipped.push({ choice, reason: result.reason });
      continue;
    }
    const why = skipped.length ? `; skipped ${skipped.map((s) => `${PACKAGE[s.choice]}: ${s.reason}`).join('; ')}` : '';
    const selected: SelectedBackend = {
      choice,
      name: TFJS_BACKEND_NAME[choice],
      detail: result.detail,
      skipped,
      line: `backend: ${choice} (${result.detail})${forced ? ' forced by FCN_BACKEND' : ''}${why}`,
    };
    log?.(selected.line);
    registerTrainingGradients();
    if (!opts.probe) current = selected;
    return selected;
  }
  throw new BackendError(
    `no tfjs backend could be loaded: ${skipped.map((s) => `${s.choice}: ${s.reason}`).join('; ')}`,
  );
}

/**
 * What the current backend must do before a training step rewrites `weights`
 * (the training loop calls it and need not know why): wasm drops the copies
 * XNNPACK packed from them, which would otherwise double the heap.
 */
export function beforeTrainingStep(weights: readonly tf.Tensor[]): void {
  forgetPackedWeights(weights);
}

/**
 * Gradients tfjs lacks or computes slowly, registered once for every
 * backend: the dilated convolution of the lite fc6, and ReLU without a copy.
 */
export function registerTrainingGradients(): void {
  registerDilatedConvGradient();
  registerReluGradient();
}

/** A require() that reports "not installed" apart from "installed but broken". */
function tryRequire(pkg: string): { ok: true; mod: unknown } | { ok: false; reason: string } {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional packages, probed at run time
    return { ok: true, mod: require(pkg) };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'MODULE_NOT_FOUND' && e.message.includes(`'${pkg}'`)) return { ok: false, reason: 'not installed' };
    return { ok: false, reason: `installed but failed to load (${e.message.split('\n')[0]})` };
  }
}

/** The shared libraries tfjs-node-gpu 4.22 (TensorFlow 2.9) needs: CUDA 11.2 and cuDNN 8. */
export const CUDA_LIBRARIES = ['libcudart.so.11.0', 'libcublas.so.11', 'libcudnn.so.8'];

/** Finds a shared library the way the dynamic loader would (LD_LIBRARY_PATH, ld.so.cache dirs, CUDA defaults). */
export function findSharedLibrary(name: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const dirs = [
    ...(env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean),
    '/usr/local/cuda/lib64',
    '/usr/lib/x86_64-linux-gnu',
    '/usr/lib64',
    '/usr/lib',
    '/lib/x86_64-linux-gnu',
  ];
  for (const dir of dirs) {
    const p = path.join(dir, name);
    if (fs.existsSync(p)) return p;
  }
  return null;
}

/** Our tfjs must own the backend the native addon registered, or ops would run elsewhere. */
function checkSameCore(nativePkg: string): string | null {
  if (tf.findBackendFactory('tensorflow')) return null;
  let theirs = '?';
  try {
    theirs = require.resolve('@tensorflow/tfjs-core', { paths: [path.dirname(require.resolve(nativePkg))] });
  } catch {
    /* reported as '?' */
  }
  return `it registered its backend on another copy of @tensorflow/tfjs-core (${theirs}, ours: ${require.resolve('@tensorflow/tfjs-core')}); run \`npm dedupe\``;
}

async function activate(name: string): Promise<string | null> {
  const ok = await tf.setBackend(name);
  await tf.ready();
  if (!ok || tf.getBackend() !== name) return `tf.setBackend('${name}') failed`;
  return null;
}

/** The real probe: loads the packages and activates the backend on our tfjs. */
export const defaultProbe: BackendProbe = {
  async init(choice, { forced }) {
    switch (choice) {
      case 'gpu': {
        const missing = CUDA_LIBRARIES.filter((lib) => !findSharedLibrary(lib));
        const req = tryRequire(PACKAGE.gpu);
        if (!req.ok) return { ok: false, reason: req.reason };
        // libtensorflow's GPU build silently runs on the CPU without CUDA; don't call that a GPU.
        if (missing.length)
          return { ok: false, reason: `installed, but CUDA libraries not found: ${missing.join(', ')}` };
        if (!process.env.TF_FORCE_GPU_ALLOW_GROWTH) process.env.TF_FORCE_GPU_ALLOW_GROWTH = 'true';
        const dup = checkSameCore(PACKAGE.gpu);
        if (dup) return { ok: false, reason: dup };
        const err = await activate('tensorflow');
        return err
          ? { ok: false, reason: err }
          : { ok: true, detail: `tfjs-node-gpu, CUDA libraries: ${CUDA_LIBRARIES.join(', ')}` };
      }
      case 'webgpu': {
        // Unasked, quietly: Dawn's native warnings would otherwise open every run on a machine without a GPU.
        const probe = await probeWebgpu({ allowSoftware: forced, quiet: !forced });
        if (!probe.ok) return { ok: false, reason: probe.reason };
        const { adapterLine } = await initWebgpuBackend({ allowSoftware: forced });
        return { ok: true, detail: adapterLine };
      }
      case 'node': {
        const req = tryRequire(PACKAGE.node);
        if (!req.ok) return { ok: false, reason: req.reason };
        const dup = checkSameCore(PACKAGE.node);
        if (dup) return { ok: false, reason: dup };
        const err = await activate('tensorflow');
        return err ? { ok: false, reason: err } : { ok: true, detail: 'tfjs-node, libtensorflow on the CPU' };
      }
      case 'wasm': {
        const req = tryRequire(PACKAGE.wasm);
        if (!req.ok) return { ok: false, reason: req.reason };
        const err = await activate('wasm');
        if (err) return { ok: false, reason: err };
        await registerWasmTrainingKernels();
        const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
        return { ok: true, detail: `wasm${simd ? ' with SIMD' : ' without SIMD (slow)'}, fcn-ts training kernels` };
      }
      case 'cpu': {
        const err = await activate('cpu');
        return err ? { ok: false, reason: err } : { ok: true, detail: 'pure JavaScript; very slow for VGG16' };
      }
    }
  },
};
