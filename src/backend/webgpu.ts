import * as tf from '@tensorflow/tfjs';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import { BackendError } from '../util/errors';

/**
 * WebGPU in Node through Dawn (the `webgpu` package). Dawn picks a Vulkan,
 * Metal or D3D adapter; on a machine without a GPU that is Mesa's lavapipe
 * (llvmpipe), a software "fallback" adapter that trains correctly but is
 * slower than wasm, so it is used only when asked for (FCN_BACKEND=webgpu).
 */

/** What Dawn's adapter says about itself (GPUAdapterInfo). */
export interface WebgpuAdapterInfo {
  vendor: string;
  architecture: string;
  description: string;
  /** A software adapter (lavapipe, SwiftShader), not a real GPU. */
  isFallback: boolean;
}

export type WebgpuProbe = { ok: true; adapter: WebgpuAdapterInfo } | { ok: false; reason: string };

export interface WebgpuOptions {
  /** Accept a software adapter; default false. */
  allowSoftware?: boolean;
  /**
   * Ask Dawn in a child process whose stderr is dropped: Dawn's native code
   * writes its warnings ("Couldn't load Vulkan", lowered limits) straight to
   * fd 2, past anything Node could redirect. Backend selection probes quietly;
   * `fcn doctor` and FCN_BACKEND=webgpu do not, so the warnings stay there.
   */
  quiet?: boolean;
}

/** The command that installs a Vulkan driver Dawn accepts (Debian/Ubuntu). */
export const SETUP_MESA_COMMAND = 'sudo scripts/setup-mesa.sh';

/** Where the Vulkan loader looks for drivers (ICD manifests) on Linux. */
const VULKAN_ICD_DIRS = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];

/** tfjs-backend-webgpu asks for this adapter; the probe asks for the same one. */
const ADAPTER_OPTIONS: GPURequestAdapterOptions = { powerPreference: 'high-performance' };

interface Dawn {
  gpu: GPU;
  /** GPUBuffer, GPUBufferUsage, ...: browser globals that tfjs-backend-webgpu reads. */
  globals: object;
}

// One Dawn instance per process: each create() starts its own native instance and adapters.
let dawn: Promise<Dawn> | null = null;
let active: { adapterLine: string } | null = null;

function loadDawn(): Promise<Dawn> {
  dawn ??= import('webgpu').then((m) => ({ gpu: m.create([]), globals: m.globals }));
  return dawn;
}

function describe(adapter: GPUAdapter): WebgpuAdapterInfo {
  const info = adapter.info;
  // Older Dawn put the flag on the adapter, newer on its info.
  const legacy = (adapter as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter;
  const isFallback = Boolean((info as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? legacy);
  return { vendor: info.vendor, architecture: info.architecture, description: info.description, isFallback };
}

/**
 * The child of a quiet probe: loads Dawn, asks for the adapter and prints
 * {adapter} (null when none) or {loadError} as JSON. It repeats describe()'s
 * reading of the fallback flag because it runs outside this module.
 */
const QUIET_PROBE_SCRIPT = `
let m;
try { m = await import(process.argv[1]); } catch (e) {
  process.stdout.write(JSON.stringify({ loadError: String(e && e.message || e) })); process.exit(0);
}
const a = await m.create([]).requestAdapter(JSON.parse(process.argv[2]));
const i = a && a.info;
process.stdout.write(JSON.stringify({ adapter: a && { vendor: i.vendor, architecture: i.architecture,
  description: i.description, isFallback: Boolean(i.isFallbackAdapter ?? a.isFallbackAdapter) } }));
process.exit(0);`;

/** requestAdapter's answer, asked in a child process with Dawn's stderr dropped. */
function requestAdapterQuietly(): Promise<{ ok: true; adapter: WebgpuAdapterInfo } | { ok: false; reason: string }> {
  let entry: string;
  try {
    entry = pathToFileURL(require.resolve('webgpu')).href;
  } catch (err) {
    const why = (err as Error).message.split('\n')[0];
    return Promise.resolve({
      ok: false,
      reason: `the webgpu package (Dawn) is not installed (${why}); run \`npm ci\``,
    });
  }
  return new Promise((resolve) => {
    const args = ['--input-type=module', '-e', QUIET_PROBE_SCRIPT, entry, JSON.stringify(ADAPTER_OPTIONS)];
    execFile(process.execPath, args, { timeout: 60_000, encoding: 'utf8' }, (err, stdout) => {
      let answer: { adapter?: WebgpuAdapterInfo | null; loadError?: string } = {};
      try {
        answer = JSON.parse(stdout) as typeof answer;
      } catch {
        /* no answer: a crash, reported below */
      }
      const firstLine = (text: string) => text.split('\n')[0];
      if (answer.loadError) {
        resolve({ ok: false, reason: dawnLoadFailed(answer.loadError) });
      } else if (answer.adapter) {
        resolve({ ok: true, adapter: answer.adapter });
      } else if (answer.adapter === null) {
        resolve({ ok: false, reason: noAdapterReason() });
      } else {
        resolve({
          ok: false,
          reason:
            `the WebGPU probe (a child node process) ended without an answer ` +
            `(${err ? firstLine(err.message) : 'no output'}); run \`npx fcn doctor\` to see Dawn's messages`,
        });
      }
    });
  });
}

/** One line for logs, e.g. `llvmpipe: Mesa 25.0.7 (LLVM 15.0.6) 0.0.1 [mesa/software, software adapter]`. */
export function formatAdapterLine(a: WebgpuAdapterInfo): string {
  const kind = [a.vendor, a.architecture].filter(Boolean).join('/') || 'unknown vendor';
  return `${a.description || 'unnamed adapter'} [${kind}${a.isFallback ? ', software adapter' : ''}]`;
}

/** Why Dawn found no adapter, as far as the file system tells. */
function noAdapterReason(): string {
  if (process.platform !== 'linux') return 'Dawn found no WebGPU adapter; update the GPU driver';
  const icds = VULKAN_ICD_DIRS.flatMap((d) =>
    fs.existsSync(d) ? fs.readdirSync(d).filter((f) => f.endsWith('.json')) : [],
  );
  if (icds.length === 0) {
    return (
      `Dawn found no WebGPU adapter: no Vulkan driver is installed (nothing in ${VULKAN_ICD_DIRS[0]}); ` +
      `install one with \`${SETUP_MESA_COMMAND}\``
    );
  }
  const override = process.env.VK_DRIVER_FILES ?? process.env.VK_ICD_FILENAMES;
  if (override)
    return `Dawn found no WebGPU adapter with the Vulkan drivers named in VK_DRIVER_FILES/VK_ICD_FILENAMES (${override}); unset it or fix the path`;
  // Debian 12's lavapipe (Mesa 22.3) lacks shaderUniform*ArrayDynamicIndexing, which Dawn requires.
  return (
    `Dawn found no WebGPU adapter: it refused the Vulkan drivers ${icds.join(', ')} ` +
    `(Mesa before 23 is too old, or libvulkan1 is missing); install Mesa >= 23 with \`${SETUP_MESA_COMMAND}\``
  );
}

function dawnLoadFailed(message: string): string {
  return `the webgpu package (Dawn) failed to load: ${message.split('\n')[0]}; run \`npm ci\``;
}

async function requestAdapter(): Promise<
  { ok: true; dawn: Dawn; adapter: GPUAdapter } | { ok: false; reason: string }
> {
  let d: Dawn;
  try {
    d = await loadDawn();
  } catch (err) {
    dawn = null;
    return { ok: false, reason: dawnLoadFailed((err as Error).message) };
  }
  const adapter = await d.gpu.requestAdapter(ADAPTER_OPTIONS);
  return adapter ? { ok: true, dawn: d, adapter } : { ok: false, reason: noAdapterReason() };
}

function refuseSoftware(info: WebgpuAdapterInfo): string {
  return (
    `Dawn's WebGPU adapter is a software one (${formatAdapterLine(info)}), slower than wasm; ` +
    'set FCN_BACKEND=webgpu to use it anyway'
  );
}

/**
 * Asks Dawn for the adapter tfjs would get, without registering tfjs's
 * backend. A software adapter counts as "not ok" unless `allowSoftware`.
 */
export async function probeWebgpu(opts: WebgpuOptions = {}): Promise<WebgpuProbe> {
  let adapter: WebgpuAdapterInfo;
  if (opts.quiet) {
    const found = await requestAdapterQuietly();
    if (!found.ok) return found;
    adapter = found.adapter;
  } else {
    const found = await requestAdapter();
    if (!found.ok) return found;
    adapter = describe(found.adapter);
  }
  if (adapter.isFallback && !opts.allowSoftware) return { ok: false, reason: refuseSoftware(adapter) };
  return { ok: true, adapter };
}

/** Gives tfjs-backend-webgpu the browser globals it looks for: navigator.gpu and the GPU* classes/flags. */
function exposeDawn(d: Dawn): void {
  const g = globalThis as Record<string, unknown>;
  for (const [name, value] of Object.entries(d.globals)) {
    if (!(name in g)) g[name] = value;
  }
  const nav = g.navigator as Record<string, unknown> | undefined;
  if (nav === undefined) {
    // Node 20 has no navigator at all.
    Object.defineProperty(globalThis, 'navigator', { value: { gpu: d.gpu }, configurable: true, writable: true });
  } else if (nav.gpu !== d.gpu) {
    // Node 21+ has a navigator without gpu.
    Object.defineProperty(nav, 'gpu', { value: d.gpu, configurable: true, writable: true });
  }
}

/**
 * Registers tfjs's WebGPU backend on the project's @tensorflow/tfjs and makes
 * it the active backend. Throws BackendError when there is no adapter, when
 * the adapter is a software one and `allowSoftware` is false, or when the
 * backend does not start. Calling it again returns the first result.
 */
export async function initWebgpuBackend(opts: { allowSoftware: boolean }): Promise<{ adapterLine: string }> {
  if (active && tf.getBackend() === 'webgpu') return active;
  const found = await requestAdapter();
  if (!found.ok) throw new BackendError(`WebGPU backend unavailable: ${found.reason}`);
  const info = describe(found.adapter);
  if (info.isFallback && !opts.allowSoftware)
    throw new BackendError(`WebGPU backend not used: ${refuseSoftware(info)}`);

  // tfjs-backend-webgpu registers itself at load time, and only if navigator.gpu exists by then.
  exposeDawn(found.dawn);
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!tf.findBackendFactory('webgpu')) {
    throw new BackendError(
      '@tensorflow/tfjs-backend-webgpu did not register on our @tensorflow/tfjs: either it was imported before ' +
        'navigator.gpu was set (load it only through initWebgpuBackend) or it uses another copy of ' +
        `@tensorflow/tfjs-core (ours: ${require.resolve('@tensorflow/tfjs-core')}; run \`npm dedupe\`)`,
    );
  }
  // setBackend catches a failing factory (device request) and returns false; tfjs logs the cause.
  if (!(await tf.setBackend('webgpu')) || tf.getBackend() !== 'webgpu') {
    throw new BackendError(`tf.setBackend('webgpu') failed on ${formatAdapterLine(info)}; see the warning above`);
  }
  active = { adapterLine: `Dawn on ${formatAdapterLine(info)}` };
  return active;
}

/**
 * The largest tensor the active WebGPU device can hold, in bytes: every
 * tensor is one storage buffer bound whole to a shader, so it must fit both
 * maxBufferSize and maxStorageBufferBindingSize. WebGPU reports no total
 * memory; the memory plan checks its largest activation against this.
 */
export function webgpuMemoryLimitBytes(): number {
  if (tf.getBackend() !== 'webgpu') {
    throw new BackendError(
      `webgpuMemoryLimitBytes() needs the webgpu backend active (active: ${tf.getBackend() ?? 'none'}); call initWebgpuBackend() first`,
    );
  }
  const { limits } = (tf.backend() as unknown as { device: GPUDevice }).device;
  return Math.min(limits.maxBufferSize, limits.maxStorageBufferBindingSize);
}
