import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { registerTrainingGradients } from '../src/backend';
import { registerWasmTrainingKernels } from '../src/backend/wasm-kernels';

/** Activates a tfjs backend for the tests that follow (wasm gets our training kernels), as selectBackend does. */
export async function useBackend(name: 'wasm' | 'cpu'): Promise<void> {
  if (tf.getBackend() !== name) {
    await tf.setBackend(name);
    await tf.ready();
  }
  registerTrainingGradients();
  if (name === 'wasm') await registerWasmTrainingKernels();
}

/** A fresh temporary folder, removed by the caller's `after`. */
export function tmpDir(prefix = 'fcn-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function rmDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Largest |a - b| / max(|b|, eps) over two arrays of equal length. */
export function maxRelError(a: ArrayLike<number>, b: ArrayLike<number>, eps = 1e-6): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), eps));
  return worst;
}

/** ||a - b|| / ||b||: robust where single entries are near zero. */
export function relNormError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-30);
}

const ROOT = path.resolve(__dirname, '..');

/** Runs the built `fcn` command on wasm (npm test builds dist/ first); its exit code and both streams. */
export function fcn(args: string[], env: NodeJS.ProcessEnv = {}): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/fcn.cjs'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, FCN_BACKEND: 'wasm', ...env },
    timeout: 240_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
