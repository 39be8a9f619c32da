import * as path from 'node:path';
import { CUDA_LIBRARIES, type SelectedBackend } from '../backend';
import { SETUP_MESA_COMMAND, formatAdapterLine } from '../backend/webgpu';
import { fail, ok, warn, type DoctorCheck } from './check';
import type { EnvironmentProbe } from './probe';

/** Where Chromium is expected (Debian's package); figure PNGs and the browser tests use it. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Where `tslab install --prefix <project>/.jupyter` (scripts/jupyter.sh) registers the kernel. */
export function tslabKernelDir(projectDir: string): string {
  return path.join(projectDir, '.jupyter', 'share', 'jupyter', 'kernels', 'tslab');
}

const REGISTER_KERNEL = 'bash scripts/jupyter.sh --version (registers it with tslab install --prefix .jupyter)';
const GPU_PACKAGE = '@tensorflow/tfjs-node-gpu';
const NODE_PACKAGE = '@tensorflow/tfjs-node';

/** "20.19.0" → [20, 19, 0]; missing parts are 0. */
function versionParts(v: string): number[] {
  const parts = v
    .replace(/^v/, '')
    .split('.')
    .map((p) => parseInt(p, 10));
  return [0, 1, 2].map((i) => (Number.isFinite(parts[i]) ? parts[i] : 0));
}

function compareVersions(a: string, b: string): number {
  const [x, y] = [versionParts(a), versionParts(b)];
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return 0;
}

export function checkNode(probe: EnvironmentProbe): DoctorCheck {
  const pkgText = probe.readFile(path.join(probe.projectDir, 'package.json'));
  const range = pkgText === null ? undefined : (JSON.parse(pkgText) as { engines?: { node?: string } }).engines?.node;
  const have = `node ${probe.nodeVersion}`;
  if (!range)
    return warn(
      'node',
      `${have}; package.json in ${probe.projectDir} names no engines.node`,
      'run fcn doctor from the project folder',
    );
  // package.json uses the one form ">=X.Y.Z"; anything else is reported rather than guessed.
  const m = /^>=\s*(\d+(?:\.\d+){0,2})$/.exec(range.trim());
  if (!m)
    return warn('node', `${have}; engines.node "${range}" is not of the form >=X.Y.Z, so it was not checked`, null);
  if (compareVersions(probe.nodeVersion, m[1]) < 0) {
    return fail(
      'node',
      `${have}, but package.json engines needs ${range}`,
      `install Node ${m[1]} or newer (e.g. \`nvm install ${versionParts(m[1])[0]}\`), then \`npm ci\``,
    );
  }
  return ok('node', `${have} (engines: ${range})`);
}

/** Why the backend selection skipped `choice`, if it got that far. */
function skippedReason(selected: SelectedBackend | null, choice: SelectedBackend['choice']): string | null {
  return selected?.skipped.find((s) => s.choice === choice)?.reason ?? null;
}

export function checkTfjsNodeGpu(probe: EnvironmentProbe, selected: SelectedBackend | null): DoctorCheck {
  const name = 'tfjs-node-gpu';
  const install = `npm install ${GPU_PACKAGE}@4.22.0 (it needs CUDA 11.2 and cuDNN 8: ${CUDA_LIBRARIES.join(', ')})`;
  if (!probe.resolvePackage(GPU_PACKAGE)) {
    return probe.hasNvidiaGpu()
      ? warn(name, 'not installed, but an NVIDIA GPU is present', install)
      : ok(name, 'not installed; no NVIDIA GPU here, so it is not needed');
  }
  const libs = CUDA_LIBRARIES.map((lib) => ({ lib, at: probe.findSharedLibrary(lib) }));
  const missing = libs.filter((l) => !l.at).map((l) => l.lib);
  if (missing.length) {
    return warn(
      name,
      `installed, but CUDA/cuDNN libraries not found: ${missing.join(', ')}` +
        (missing.length < libs.length
          ? ` (found: ${libs
              .filter((l) => l.at)
              .map((l) => l.at)
              .join(', ')})`
          : ''),
      'install CUDA 11.2 and cuDNN 8, or add the folder that holds them to LD_LIBRARY_PATH',
    );
  }
  const reason = skippedReason(selected, 'gpu');
  if (reason)
    return warn(name, `installed with its CUDA libraries, but not usable: ${reason}`, `npm rebuild ${GPU_PACKAGE}`);
  return ok(name, `installed; ${libs.map((l) => l.at).join(', ')}`);
}

export async function checkWebgpu(probe: EnvironmentProbe): Promise<DoctorCheck> {
  const found = await probe.webgpuAdapter();
  if (!found.ok)
    return warn(
      'webgpu',
      found.reason,
      `${SETUP_MESA_COMMAND} on Linux without a GPU driver; otherwise update the GPU driver`,
    );
  const line = formatAdapterLine(found.adapter);
  if (found.adapter.isFallback) {
    return warn(
      'webgpu',
      `software adapter only: ${line}; slower than wasm, so used only with FCN_BACKEND=webgpu`,
      'nothing to do on a machine without a GPU; with one, install its Vulkan driver',
    );
  }
  return ok('webgpu', `adapter ${line}`);
}

export function checkTfjsNode(probe: EnvironmentProbe, selected: SelectedBackend | null): DoctorCheck {
  if (!probe.resolvePackage(NODE_PACKAGE)) {
    return warn(
      'tfjs-node',
      'not installed (libtensorflow on the CPU; faster than wasm for training)',
      `npm install ${NODE_PACKAGE}@4.22.0 (its install script downloads libtensorflow, so it needs network)`,
    );
  }
  const reason = skippedReason(selected, 'node');
  if (reason) return warn('tfjs-node', `installed, but not usable: ${reason}`, `npm rebuild ${NODE_PACKAGE}`);
  return ok('tfjs-node', 'installed');
}

export async function checkWasm(probe: EnvironmentProbe): Promise<DoctorCheck> {
  const r = await probe.wasmSimd();
  if (!r.ok) return fail('wasm', `@tensorflow/tfjs-backend-wasm does not load: ${r.reason}`, 'npm ci');
  if (!r.simd) {
    return warn(
      'wasm',
      'loads, but without SIMD (several times slower)',
      'use a CPU and Node with WebAssembly SIMD (any x86-64 or arm64 with Node 20)',
    );
  }
  return ok('wasm', 'loads, with SIMD');
}

export async function checkTrainingBackend(
  probe: EnvironmentProbe,
): Promise<{ check: DoctorCheck; selected: SelectedBackend | null }> {
  try {
    const selected = await probe.selectBackend();
    const check =
      selected.choice === 'cpu'
        ? warn(
            'training backend',
            `${selected.line}; VGG16 training on pure JavaScript takes days`,
            'npm ci (restores @tensorflow/tfjs-backend-wasm)',
          )
        : ok('training backend', selected.line.replace(/^backend: /, ''));
    return { check, selected };
  } catch (err) {
    return {
      check: fail('training backend', (err as Error).message, 'unset FCN_BACKEND, or fix the backend named above'),
      selected: null,
    };
  }
}

/** The first match of `name` on PATH. */
function findOnPath(probe: EnvironmentProbe, name: string): string | null {
  for (const dir of (probe.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const p = path.join(dir, name);
    if (probe.exists(p)) return p;
  }
  return null;
}

/** The Python a console script runs on, from its shebang ("#!/usr/bin/python3" or "#!/usr/bin/env python3"). */
function scriptPython(probe: EnvironmentProbe, script: string): string | null {
  const first = (probe.readFile(script) ?? '').split('\n')[0];
  const m = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(first);
  if (!m) return null;
  if (path.basename(m[1]) === 'env' && m[2]) return findOnPath(probe, m[2]) ?? m[2];
  return m[1];
}

export function checkJupyter(probe: EnvironmentProbe): DoctorCheck {
  const python = probe.jupyterPython();
  const onPath = findOnPath(probe, 'jupyter');
  const pathNote = onPath
    ? `; jupyter on PATH: ${onPath} (Python ${scriptPython(probe, onPath) ?? 'unknown: no shebang'})`
    : '';
  if (!python) {
    return fail(
      'jupyter',
      `no Python with Jupyter (notebook + nbconvert) found, so npm start cannot open the notebooks${pathNote}`,
      'bash scripts/setup.sh (apt: jupyter-notebook jupyter-nbconvert python3-ipykernel), or python3 -m pip install --user notebook nbconvert',
    );
  }
  return ok('jupyter', `Python ${python} has notebook + nbconvert${pathNote}`);
}

/**
 * scripts/jupyter.sh registers the kernel (tslab install --prefix .jupyter)
 * whenever it is missing or points elsewhere, so only a missing tslab stops
 * `npm start`.
 */
export function checkTslabKernel(probe: EnvironmentProbe): DoctorCheck {
  const tslab = path.join(probe.projectDir, 'node_modules', '.bin', 'tslab');
  if (!probe.exists(tslab))
    return fail('tslab kernel', `${tslab} is missing, so the TypeScript kernel cannot run`, 'npm ci');
  const specPath = path.join(tslabKernelDir(probe.projectDir), 'kernel.json');
  const text = probe.readFile(specPath);
  if (text === null)
    return warn('tslab kernel', `not registered yet (no ${specPath}); npm start registers it`, REGISTER_KERNEL);
  let binary: unknown;
  try {
    binary = ((JSON.parse(text) as { argv?: unknown[] }).argv ?? [])[0];
  } catch (err) {
    return warn(
      'tslab kernel',
      `${specPath} is not valid JSON (${(err as Error).message}); npm start registers it again`,
      `rm ${specPath}; ${REGISTER_KERNEL}`,
    );
  }
  if (binary !== tslab) {
    return warn(
      'tslab kernel',
      `${specPath} runs ${String(binary)}, not this project's ${tslab}; npm start registers it again`,
      REGISTER_KERNEL,
    );
  }
  return ok('tslab kernel', `registered at ${specPath} (runs ${tslab}; scripts/jupyter.sh points JUPYTER_PATH at it)`);
}

export function checkChromium(probe: EnvironmentProbe): DoctorCheck {
  if (probe.exists(CHROMIUM_PATH)) return ok('chromium', CHROMIUM_PATH);
  return warn(
    'chromium',
    `${CHROMIUM_PATH} not found: figure PNGs and the browser tests are skipped`,
    'sudo apt-get install -y chromium (or bash scripts/setup.sh --test)',
  );
}

/** Reads checkVgg16Weights's status words ("ok", "bad", "partial", "missing") into one check. */
export async function checkWeights(probe: EnvironmentProbe): Promise<DoctorCheck> {
  const dir = path.join(probe.projectDir, 'data', 'weights');
  const lines = await probe.checkWeights(dir);
  const word = (l: string) => l.split(/\s+/)[0];
  const bad = lines.filter((l) => word(l) === 'bad');
  const good = lines.filter((l) => word(l) === 'ok');
  const summary = lines[lines.length - 1] ?? '';
  if (bad.length) {
    return fail(
      'vgg16 weights',
      bad.map((l) => l.replace(/^bad\s+/, '').replace(/; delete it.*$/, '')).join('; '),
      `delete the damaged file and run \`npx fcn weights download\` (or \`npx fcn weights import <file>\`)`,
    );
  }
  if (good.length) return ok('vgg16 weights', good.map((l) => l.replace(/^ok\s+/, '')).join('; '));
  const partial = lines.filter((l) => word(l) === 'partial').map((l) => l.replace(/^partial\s+/, ''));
  return warn(
    'vgg16 weights',
    `${summary}${partial.length ? `; ${partial.join('; ')}` : ''}`,
    '`npx fcn weights download` (553 MB; --notop: 59 MB), or `npx fcn weights import <file>` for a file fetched by hand',
  );
}

/** One check per folder in data/ (weights/ aside): present and in a layout a loader reads. */
export async function checkDatasets(probe: EnvironmentProbe): Promise<DoctorCheck[]> {
  const dataDir = path.join(probe.projectDir, 'data');
  const folders = probe.listDirs(dataDir).filter((d) => d !== 'weights');
  if (!folders.length) {
    return [ok('datasets', `no dataset folders in ${dataDir}; training makes the built-in road set on first use`)];
  }
  return Promise.all(
    folders.map(async (folder) => {
      const dir = path.join(dataDir, folder);
      const layout = await probe.detectLayout(dir);
      const name = `data/${folder}`;
      if (!layout) {
        return warn(
          name,
          `${dir} is not in a dataset layout fcn-ts reads`,
          'lay it out as data/README.md shows (e.g. training/image_2 + training/gt_image_2 for KITTI Road), or move it out of data/',
        );
      }
      const where = layout.root === dir ? '' : ` in ${layout.root}`;
      return ok(
        name,
        `${layout.dataset}${where} (${layout.evidence}); use --dataset ${layout.dataset} --data ${layout.root}`,
      );
    }),
  );
}
