import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import type { SelectedBackend } from '../../src/backend';
import { BackendError } from '../../src/util/errors';
import {
  formatDoctorReport,
  runDoctor,
  tslabKernelDir,
  type DoctorCheck,
  type EnvironmentProbe,
} from '../../src/doctor';

const PROJECT = '/proj';
const KERNEL_JSON = path.join(tslabKernelDir(PROJECT), 'kernel.json');
const WASM_SELECTED: SelectedBackend = {
  choice: 'wasm',
  name: 'wasm',
  detail: 'wasm with SIMD, fcn-ts training kernels',
  skipped: [
    { choice: 'gpu', reason: 'not installed' },
    { choice: 'node', reason: 'not installed' },
  ],
  line: 'backend: wasm (wasm with SIMD, fcn-ts training kernels); skipped ...',
};

/** A healthy machine: wasm, Jupyter with the kernel registered, Chromium, weights and KITTI Road. */
function fakeProbe(
  overrides: Partial<EnvironmentProbe> & { files?: Record<string, string>; packages?: string[] } = {},
): EnvironmentProbe {
  const files: Record<string, string> = {
    [`${PROJECT}/package.json`]: JSON.stringify({ engines: { node: '>=20.19.0' } }),
    '/usr/bin/jupyter': '#!/usr/bin/python3\nimport re\n',
    [KERNEL_JSON]: JSON.stringify({
      argv: ['/proj/node_modules/.bin/tslab', 'kernel', '--config-path', '{connection_file}'],
    }),
    '/proj/node_modules/.bin/tslab': '',
    '/usr/bin/chromium': '',
    ...overrides.files,
  };
  const packages = new Set(overrides.packages ?? ['@tensorflow/tfjs-backend-wasm']);
  const { files: _f, packages: _p, ...rest } = overrides;
  return {
    projectDir: PROJECT,
    nodeVersion: '20.20.2',
    env: { PATH: '/usr/local/bin:/usr/bin' },
    readFile: (f) => (f in files ? files[f] : null),
    exists: (f) => f in files,
    listDirs: (d) => (d === `${PROJECT}/data` ? ['data_road', 'weights'] : []),
    resolvePackage: (name) => (packages.has(name) ? `/proj/node_modules/${name}` : null),
    findSharedLibrary: () => null,
    hasNvidiaGpu: () => false,
    webgpuAdapter: async () => ({ ok: false, reason: 'Dawn found no WebGPU adapter: no Vulkan driver is installed' }),
    wasmSimd: async () => ({ ok: true, simd: true }),
    jupyterPython: () => '/usr/bin/python3',
    selectBackend: async () => WASM_SELECTED,
    checkWeights: async (dir) => [
      `ok      ${dir}/vgg16_weights_tf_dim_ordering_tf_kernels.h5: Keras's published file (553467096 bytes, md5 64373286793e3c8b2b4e3219cbf3544b)`,
      `missing ${dir}/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5: get it with \`fcn weights download --notop\``,
      `training starts from ${dir}/vgg16_weights_tf_dim_ordering_tf_kernels.h5`,
    ],
    detectLayout: async (dir) =>
      dir.endsWith('data_road')
        ? { kind: 'kitti-road', dataset: 'kitti-road', root: dir, evidence: 'training/image_2 + training/gt_image_2' }
        : null,
    ...rest,
  };
}

function find(checks: readonly DoctorCheck[], name: string): DoctorCheck {
  const c = checks.find((x) => x.name === name);
  assert.ok(c, `no check named ${name}; got ${checks.map((x) => x.name).join(', ')}`);
  return c;
}

describe('fcn doctor', () => {
  it('a healthy machine: every part checked, no FAIL, exit code 0', async () => {
    const report = await runDoctor(fakeProbe());
    assert.deepEqual(
      report.checks.map((c) => c.name),
      [
        'node',
        'tfjs-node-gpu',
        'webgpu',
        'tfjs-node',
        'wasm',
        'training backend',
        'jupyter',
        'tslab kernel',
        'chromium',
        'vgg16 weights',
        'data/data_road',
      ],
    );
    assert.equal(report.exitCode, 0);
    assert.equal(find(report.checks, 'training backend').status, 'OK');
    assert.match(find(report.checks, 'training backend').detail, /^wasm/);
    assert.match(find(report.checks, 'jupyter').detail, /^Python \/usr\/bin\/python3 has notebook/);
    assert.equal(find(report.checks, 'tslab kernel').status, 'OK');
    assert.match(find(report.checks, 'vgg16 weights').detail, /md5 64373286793e3c8b2b4e3219cbf3544b/);
    assert.match(find(report.checks, 'data/data_road').detail, /kitti-road/);
    assert.match(formatDoctorReport(report), /npm start can run/);
  });

  it('no Python with Jupyter: FAIL with the install commands, exit code 1', async () => {
    const probe = fakeProbe({ jupyterPython: () => null });
    const report = await runDoctor({ ...probe, exists: (f) => f !== '/usr/bin/jupyter' && probe.exists(f) });
    const c = find(report.checks, 'jupyter');
    assert.equal(c.status, 'FAIL');
    assert.match(c.fix ?? '', /bash scripts\/setup\.sh .*jupyter-notebook/);
    assert.match(c.fix ?? '', /pip install --user notebook nbconvert/);
    assert.equal(report.exitCode, 1);
    const text = formatDoctorReport(report);
    assert.match(text, /^FAIL jupyter: no Python with Jupyter \(notebook \+ nbconvert\) found/m);
    assert.match(text, /^ {5}fix: bash scripts\/setup\.sh/m);
    assert.match(text, /npm start cannot run: fix the 1 FAIL line/);
  });

  it('a jupyter on PATH whose Python lacks nbconvert is named in the FAIL', async () => {
    const c = find((await runDoctor(fakeProbe({ jupyterPython: () => null }))).checks, 'jupyter');
    assert.equal(c.status, 'FAIL');
    assert.match(c.detail, /jupyter on PATH: \/usr\/bin\/jupyter \(Python \/usr\/bin\/python3\)/);
  });

  it('Jupyter found: names the Python, and the python3 behind "#!/usr/bin/env python3" on PATH', async () => {
    const c = find(
      (
        await runDoctor(
          fakeProbe({
            files: { '/usr/bin/jupyter': '#!/usr/bin/env python3\n', '/usr/local/bin/python3': '' },
          }),
        )
      ).checks,
      'jupyter',
    );
    assert.equal(c.status, 'OK');
    assert.match(
      c.detail,
      /^Python \/usr\/bin\/python3 has notebook \+ nbconvert; jupyter on PATH: \/usr\/bin\/jupyter \(Python \/usr\/local\/bin\/python3\)/,
    );
  });

  it('tslab kernel not registered yet: WARN (npm start registers it) naming scripts/jupyter.sh', async () => {
    const probe = fakeProbe();
    const report = await runDoctor({ ...probe, readFile: (f) => (f === KERNEL_JSON ? null : probe.readFile(f)) });
    const c = find(report.checks, 'tslab kernel');
    assert.equal(c.status, 'WARN');
    assert.match(c.detail, /\/proj\/\.jupyter\/share\/jupyter\/kernels\/tslab\/kernel\.json/);
    assert.match(
      c.fix ?? '',
      /bash scripts\/jupyter\.sh --version \(registers it with tslab install --prefix \.jupyter\)/,
    );
    assert.equal(report.exitCode, 0);
  });

  it('a kernel registered for another checkout: WARN naming both commands', async () => {
    const report = await runDoctor(
      fakeProbe({ files: { [KERNEL_JSON]: JSON.stringify({ argv: ['/old/node_modules/.bin/tslab', 'kernel'] }) } }),
    );
    const c = find(report.checks, 'tslab kernel');
    assert.equal(c.status, 'WARN');
    assert.match(
      c.detail,
      /runs \/old\/node_modules\/\.bin\/tslab, not this project's \/proj\/node_modules\/\.bin\/tslab/,
    );
  });

  it('tslab not installed: FAIL with npm ci', async () => {
    const probe = fakeProbe();
    const report = await runDoctor({
      ...probe,
      exists: (f) => f !== '/proj/node_modules/.bin/tslab' && probe.exists(f),
    });
    const c = find(report.checks, 'tslab kernel');
    assert.equal(c.status, 'FAIL');
    assert.equal(c.fix, 'npm ci');
    assert.equal(report.exitCode, 1);
  });

  it('missing module: the wasm backend does not load → FAIL with npm ci', async () => {
    const report = await runDoctor(
      fakeProbe({
        wasmSimd: async () => ({ ok: false, reason: "Cannot find module '@tensorflow/tfjs-backend-wasm'" }),
      }),
    );
    const c = find(report.checks, 'wasm');
    assert.equal(c.status, 'FAIL');
    assert.match(c.detail, /Cannot find module '@tensorflow\/tfjs-backend-wasm'/);
    assert.equal(c.fix, 'npm ci');
    assert.equal(report.exitCode, 1);
  });

  it('tfjs-node-gpu installed but cuDNN missing: WARN naming the library and LD_LIBRARY_PATH', async () => {
    const report = await runDoctor(
      fakeProbe({
        packages: ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-backend-wasm'],
        hasNvidiaGpu: () => true,
        findSharedLibrary: (name) => (name === 'libcudnn.so.8' ? null : `/usr/local/cuda/lib64/${name}`),
      }),
    );
    const c = find(report.checks, 'tfjs-node-gpu');
    assert.equal(c.status, 'WARN');
    assert.match(
      c.detail,
      /CUDA\/cuDNN libraries not found: libcudnn\.so\.8 \(found: \/usr\/local\/cuda\/lib64\/libcudart\.so\.11\.0/,
    );
    assert.match(c.fix ?? '', /cuDNN 8.*LD_LIBRARY_PATH/);
    assert.equal(report.exitCode, 0, 'a missing optional backend does not stop npm start');
  });

  it('tfjs-node-gpu missing on a machine with an NVIDIA GPU: WARN with the install command; without one: OK', async () => {
    const withGpu = find((await runDoctor(fakeProbe({ hasNvidiaGpu: () => true }))).checks, 'tfjs-node-gpu');
    assert.equal(withGpu.status, 'WARN');
    assert.match(
      withGpu.fix ?? '',
      /npm install @tensorflow\/tfjs-node-gpu@4\.22\.0 .*libcudart\.so\.11\.0, libcublas\.so\.11, libcudnn\.so\.8/,
    );
    const without = find((await runDoctor(fakeProbe())).checks, 'tfjs-node-gpu');
    assert.equal(without.status, 'OK');
    assert.match(without.detail, /not installed/);
  });

  it('tfjs-node missing: WARN with the install command', async () => {
    const c = find((await runDoctor(fakeProbe())).checks, 'tfjs-node');
    assert.equal(c.status, 'WARN');
    assert.match(c.fix ?? '', /npm install @tensorflow\/tfjs-node@4\.22\.0/);
  });

  it('installed tfjs-node that the selection could not load: WARN quoting the reason', async () => {
    const report = await runDoctor(
      fakeProbe({
        packages: ['@tensorflow/tfjs-node', '@tensorflow/tfjs-backend-wasm'],
        selectBackend: async () => ({
          ...WASM_SELECTED,
          skipped: [{ choice: 'node', reason: 'installed but failed to load (libtensorflow.so.2: cannot open)' }],
        }),
      }),
    );
    const c = find(report.checks, 'tfjs-node');
    assert.equal(c.status, 'WARN');
    assert.match(c.detail, /libtensorflow\.so\.2: cannot open/);
    assert.equal(c.fix, 'npm rebuild @tensorflow/tfjs-node');
  });

  it('a software WebGPU adapter is a WARN that says it is software', async () => {
    const report = await runDoctor(
      fakeProbe({
        webgpuAdapter: async () => ({
          ok: true,
          adapter: { vendor: 'mesa', architecture: 'software', description: 'llvmpipe', isFallback: true },
        }),
      }),
    );
    const c = find(report.checks, 'webgpu');
    assert.equal(c.status, 'WARN');
    assert.match(c.detail, /software adapter only: llvmpipe \[mesa\/software, software adapter\]/);
  });

  it('no adapter: WARN with the Mesa script', async () => {
    const c = find((await runDoctor(fakeProbe())).checks, 'webgpu');
    assert.equal(c.status, 'WARN');
    assert.match(c.fix ?? '', /scripts\/setup-mesa\.sh/);
  });

  it('wasm without SIMD: WARN', async () => {
    const c = find((await runDoctor(fakeProbe({ wasmSimd: async () => ({ ok: true, simd: false }) }))).checks, 'wasm');
    assert.equal(c.status, 'WARN');
    assert.match(c.detail, /without SIMD/);
  });

  it("no backend loads (a forced one fails): FAIL with the selection's message", async () => {
    const report = await runDoctor(
      fakeProbe({
        selectBackend: async () => {
          throw new BackendError(
            'FCN_BACKEND=gpu was asked for, but @tensorflow/tfjs-node-gpu cannot be used: not installed',
          );
        },
      }),
    );
    const c = find(report.checks, 'training backend');
    assert.equal(c.status, 'FAIL');
    assert.match(c.detail, /FCN_BACKEND=gpu was asked for/);
    assert.match(c.fix ?? '', /unset FCN_BACKEND/);
    assert.equal(report.exitCode, 1);
  });

  it('the cpu backend is a WARN: it would take days', async () => {
    const report = await runDoctor(
      fakeProbe({
        selectBackend: async () => ({
          ...WASM_SELECTED,
          choice: 'cpu',
          name: 'cpu',
          line: 'backend: cpu (pure JavaScript)',
        }),
      }),
    );
    assert.equal(find(report.checks, 'training backend').status, 'WARN');
  });

  it('Node older than engines: FAIL naming both versions', async () => {
    const report = await runDoctor({ ...fakeProbe(), nodeVersion: '18.20.4' });
    const c = find(report.checks, 'node');
    assert.equal(c.status, 'FAIL');
    assert.match(c.detail, /node 18\.20\.4, but package\.json engines needs >=20\.19\.0/);
    assert.match(c.fix ?? '', /install Node 20\.19\.0 or newer/);
    assert.equal(report.exitCode, 1);
  });

  it('Node 20.19.0 exactly meets >=20.19.0; 20.9.0 does not (numeric, not text, comparison)', async () => {
    assert.equal(find((await runDoctor({ ...fakeProbe(), nodeVersion: '20.19.0' })).checks, 'node').status, 'OK');
    assert.equal(find((await runDoctor({ ...fakeProbe(), nodeVersion: '20.9.0' })).checks, 'node').status, 'FAIL');
  });

  it('a damaged weight file: FAIL; none at all: WARN with download and import', async () => {
    const bad = find(
      (
        await runDoctor(
          fakeProbe({
            checkWeights: async (dir) => [
              `bad     ${dir}/vgg16.h5: truncated; delete it and run \`fcn weights download\``,
              'no usable VGG16 weights',
            ],
          }),
        )
      ).checks,
      'vgg16 weights',
    );
    assert.equal(bad.status, 'FAIL');
    assert.match(bad.detail, /vgg16\.h5: truncated$/);
    const none = find(
      (
        await runDoctor(
          fakeProbe({
            checkWeights: async (dir) => [
              `missing ${dir}/a.h5`,
              `partial ${dir}/b.h5.part: 10 of 20 bytes`,
              `no usable VGG16 weights in ${dir}`,
            ],
          }),
        )
      ).checks,
      'vgg16 weights',
    );
    assert.equal(none.status, 'WARN');
    assert.match(
      none.detail,
      /no usable VGG16 weights in \/proj\/data\/weights; \/proj\/data\/weights\/b\.h5\.part: 10 of 20 bytes/,
    );
    assert.match(none.fix ?? '', /npx fcn weights download.*npx fcn weights import <file>/);
  });

  it('an unrecognised data folder: WARN pointing at data/README.md; no folders: one OK line', async () => {
    const report = await runDoctor(fakeProbe({ listDirs: () => ['data_road', 'junk'] }));
    const junk = find(report.checks, 'data/junk');
    assert.equal(junk.status, 'WARN');
    assert.match(junk.fix ?? '', /data\/README\.md/);
    assert.equal(find(report.checks, 'data/data_road').status, 'OK');
    const empty = await runDoctor(fakeProbe({ listDirs: () => [] }));
    assert.match(find(empty.checks, 'datasets').detail, /built-in road set/);
  });

  it('Chromium missing: WARN with the apt command, npm start still runs', async () => {
    const probe = fakeProbe();
    const report = await runDoctor({ ...probe, exists: (f) => f !== '/usr/bin/chromium' && probe.exists(f) });
    const c = find(report.checks, 'chromium');
    assert.equal(c.status, 'WARN');
    assert.match(c.fix ?? '', /apt-get install -y chromium/);
    assert.equal(report.exitCode, 0);
  });

  it('a probe that throws becomes a FAIL line, not a crash', async () => {
    const report = await runDoctor(
      fakeProbe({
        checkWeights: async () => {
          throw new Error('EACCES: permission denied');
        },
      }),
    );
    const c = find(report.checks, 'vgg16 weights');
    assert.equal(c.status, 'FAIL');
    assert.match(c.detail, /EACCES/);
  });
});
