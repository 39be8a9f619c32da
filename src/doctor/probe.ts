import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findSharedLibrary, selectBackend, type SelectedBackend } from '../backend';
import { probeWebgpu, type WebgpuProbe } from '../backend/webgpu';
import { detectLayout, type DetectedLayout } from '../data/layout';
import { checkVgg16Weights } from '../model/weights-file';

/**
 * Everything `fcn doctor` looks at outside itself, so tests can drive it over
 * fake environments (a missing module, a missing library, no Jupyter).
 * Paths are absolute or relative to `projectDir`'s caller, as given.
 */
export interface EnvironmentProbe {
  /** The project folder: package.json, data/, .jupyter/. */
  readonly projectDir: string;
  /** process.versions.node, e.g. "20.19.0". */
  readonly nodeVersion: string;
  /** PATH and LD_LIBRARY_PATH are read from here. */
  readonly env: NodeJS.ProcessEnv;
  /** A file's text, or null when it cannot be read. */
  readFile(file: string): string | null;
  exists(file: string): boolean;
  /** Names of the sub-folders of `dir`; [] when it does not exist. */
  listDirs(dir: string): string[];
  /** The folder a package is installed in, or null when it is not installed. */
  resolvePackage(name: string): string | null;
  /** The path of a shared library as the dynamic loader would find it, or null. */
  findSharedLibrary(name: string): string | null;
  /** An NVIDIA driver is loaded (a GPU tfjs-node-gpu could use). */
  hasNvidiaGpu(): boolean;
  /** Dawn's adapter, software ones included. */
  webgpuAdapter(): Promise<WebgpuProbe>;
  /** Whether the wasm backend loads and has SIMD. */
  wasmSimd(): Promise<{ ok: true; simd: boolean } | { ok: false; reason: string }>;
  /** The Python whose Jupyter `npm start` uses (scripts/jupyter.sh --python), or null when none has it. */
  jupyterPython(): string | null;
  /** The backend training would use (throws BackendError when none loads). */
  selectBackend(): Promise<SelectedBackend>;
  /** checkVgg16Weights's lines for `dir`. */
  checkWeights(dir: string): Promise<string[]>;
  detectLayout(dir: string): Promise<DetectedLayout | null>;
}

/** The real machine, looked at from `projectDir` (default: the working folder). */
/**
 * The Python that has Jupyter, or null: scripts/jupyter.sh decides, so doctor, `npm start` and `npm run notebook`
 * agree.
 */
export function findJupyterPython(projectDir: string): string | null {
  const script = path.join(projectDir, 'scripts', 'jupyter.sh');
  if (!fs.existsSync(script)) return null;
  const r = spawnSync('bash', [script, '--python'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() || null : null;
}

export function defaultEnvironmentProbe(projectDir: string = process.cwd()): EnvironmentProbe {
  return {
    projectDir,
    nodeVersion: process.versions.node,
    env: process.env,
    readFile(file) {
      try {
        return fs.readFileSync(file, 'utf8');
      } catch {
        return null;
      }
    },
    exists: (file) => fs.existsSync(file),
    listDirs(dir) {
      try {
        return fs
          .readdirSync(dir, { withFileTypes: true })
          .filter((e) => e.isDirectory())
          .map((e) => e.name)
          .sort();
      } catch {
        return [];
      }
    },
    resolvePackage(name) {
      try {
        return path.dirname(require.resolve(`${name}/package.json`, { paths: [projectDir] }));
      } catch {
        return null;
      }
    },
    findSharedLibrary: (name) => findSharedLibrary(name),
    hasNvidiaGpu: () => fs.existsSync('/proc/driver/nvidia/version') || fs.existsSync('/dev/nvidia0'),
    webgpuAdapter: () => probeWebgpu({ allowSoftware: true }),
    async wasmSimd() {
      try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- the probe is whether it loads
        require('@tensorflow/tfjs-backend-wasm');
      } catch (err) {
        return { ok: false, reason: (err as Error).message.split('\n')[0] };
      }
      // Registered by tfjs-backend-wasm; validates a SIMD module without starting the backend.
      return { ok: true, simd: Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) };
    },
    jupyterPython: () => findJupyterPython(projectDir),
    selectBackend: () => selectBackend({ log: null }),
    checkWeights: (dir) => checkVgg16Weights({ dir }),
    detectLayout: (dir) => detectLayout(dir),
  };
}
