import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { formatAdapterLine, webgpuMemoryLimitBytes } from '../../src/backend/webgpu';
import { BackendError } from '../../src/util/errors';
import { relNormError, rmDir, tmpDir } from '../helpers';
import { ADAM_STEPS, CheckResult, LEAK_STEPS, PassRecord } from './webgpu-check';
import { TINY_FCN_SHAPES } from './tiny-fcn';

const TOLERANCE = 1e-4;
const REPO = path.resolve(__dirname, '../..');
const CHECK_SCRIPT = path.join(__dirname, 'webgpu-check.ts');
/** The child compiles every shader on a software GPU: ~30 s on 2 cores. */
const CHECK_TIMEOUT_MS = 150_000;

/** Runs webgpu-check.ts in its own process and reads what it wrote. */
async function runCheck(): Promise<CheckResult> {
  const dir = tmpDir('fcn-webgpu-');
  const out = path.join(dir, 'result.json');
  try {
    await new Promise<void>((resolve, reject) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', CHECK_SCRIPT, out],
        { cwd: REPO, timeout: CHECK_TIMEOUT_MS, maxBuffer: 16 << 20 },
        (err, _stdout, stderr) => {
          if (err)
            reject(
              new Error(
                `${path.relative(REPO, CHECK_SCRIPT)} failed (${err.message.split('\n')[0]}):\n${stderr.slice(-4000)}`,
              ),
            );
          else resolve();
        },
      );
    });
    return JSON.parse(fs.readFileSync(out, 'utf8')) as CheckResult;
  } finally {
    rmDir(dir);
  }
}

/** Asserts that webgpu's numbers equal cpu's to TOLERANCE (relative, in the L2 norm). */
function assertClose(gpu: ArrayLike<number>, cpu: ArrayLike<number>, what: string): void {
  assert.equal(gpu.length, cpu.length, `${what}: ${gpu.length} values on webgpu, ${cpu.length} on cpu`);
  const err = relNormError(gpu, cpu);
  assert.ok(
    err < TOLERANCE,
    `${what}: webgpu differs from cpu by ${err.toExponential(2)} relative (limit ${TOLERANCE})`,
  );
}

function assertGradsClose(pass: { cpu: PassRecord; webgpu: PassRecord }, expectedNames?: readonly string[]): void {
  const names = Object.keys(pass.cpu.grads).sort();
  assert.deepEqual(Object.keys(pass.webgpu.grads).sort(), names);
  if (expectedNames) assert.deepEqual(names, [...expectedNames].sort());
  for (const name of names) {
    const cpu = pass.cpu.grads[name];
    // A zero gradient would make the comparison vacuous.
    assert.ok(
      cpu.some((g) => g !== 0),
      `gradient of ${name} is all zero on cpu`,
    );
    assertClose(pass.webgpu.grads[name], cpu, `gradient of ${name}`);
  }
}

describe('backend/webgpu without a device', () => {
  it('formats an adapter as one line', () => {
    const line = formatAdapterLine({
      vendor: 'mesa',
      architecture: 'software',
      description: 'llvmpipe: Mesa 25.0.7',
      isFallback: true,
    });
    assert.equal(line, 'llvmpipe: Mesa 25.0.7 [mesa/software, software adapter]');
    assert.equal(
      formatAdapterLine({ vendor: 'nvidia', architecture: '', description: 'H100', isFallback: false }),
      'H100 [nvidia]',
    );
  });

  it('webgpuMemoryLimitBytes() says to call initWebgpuBackend() when webgpu is not active', function () {
    if (tf.getBackend() === 'webgpu') this.skip();
    assert.throws(
      () => webgpuMemoryLimitBytes(),
      (e: Error) => e instanceof BackendError && /call initWebgpuBackend\(\) first/.test(e.message),
    );
  });
});

describe('backend/webgpu on Dawn (cpu as reference, in a child process)', function () {
  this.timeout(CHECK_TIMEOUT_MS + 10_000);
  let r: Exclude<CheckResult, { skipped: string }>;

  before(async function () {
    const result = await runCheck();
    if ('skipped' in result) {
      console.warn(`      skipped: no WebGPU adapter: ${result.skipped}`);
      this.skip();
    }
    r = result;
    console.log(`      ${r.adapterLine}; child timings (ms): ${JSON.stringify(r.timingsMs)}`);
  });

  it('reports the adapter and a per-tensor memory limit', () => {
    assert.ok(r.adapterLine.includes(r.adapter.description), r.adapterLine);
    assert.ok(Number.isInteger(r.memoryLimitBytes) && r.memoryLimitBytes >= 1 << 20, `limit ${r.memoryLimitBytes}`);
  });

  it('refuses a software adapter unless allowSoftware', function () {
    if (!r.adapter.isFallback) this.skip(); // a real GPU: nothing to refuse
    assert.ok(r.softwareRefusal, 'initWebgpuBackend({allowSoftware: false}) accepted a software adapter');
    assert.equal(r.softwareRefusal.name, 'BackendError');
    assert.match(r.softwareRefusal.message, /software one .*FCN_BACKEND=webgpu/);
  });

  it('tiny FCN: logits and loss equal cpu', () => {
    assertClose(r.tiny.webgpu.output, r.tiny.cpu.output, 'logits');
    assertClose([r.tiny.webgpu.loss], [r.tiny.cpu.loss], 'loss');
  });

  it('tiny FCN: every gradient equals cpu', () => {
    assertGradsClose(r.tiny, Object.keys(TINY_FCN_SHAPES));
  });

  it(`tiny FCN: ${ADAM_STEPS} Adam steps give cpu's losses and weights`, () => {
    const { cpu, webgpu } = r.adam;
    assert.equal(webgpu.losses.length, ADAM_STEPS);
    assertClose(webgpu.losses, cpu.losses, 'losses');
    assert.ok(cpu.losses[ADAM_STEPS - 1] < cpu.losses[0], `loss did not fall: ${cpu.losses.join(', ')}`);
    for (const name of Object.keys(TINY_FCN_SHAPES))
      assertClose(webgpu.weights[name], cpu.weights[name], `${name} after training`);
  });

  it(`no tensor or GPU buffer growth across ${LEAK_STEPS} Adam steps`, () => {
    const steps = r.leak;
    assert.equal(steps.length, LEAK_STEPS);
    // Step 1 creates Adam's moments; the buffer pool settles after step 2.
    for (const [i, s] of steps.entries()) {
      assert.equal(
        s.numTensors,
        steps[0].numTensors,
        `step ${i + 1}: ${s.numTensors} tensors, ${steps[0].numTensors} after step 1`,
      );
      assert.equal(
        s.numBytesInGPU,
        steps[0].numBytesInGPU,
        `step ${i + 1}: ${s.numBytesInGPU} bytes in GPU, ${steps[0].numBytesInGPU} after step 1`,
      );
    }
    assert.ok(steps[0].numBytesInGPU > 0, 'tf.memory() reports no numBytesInGPU: the steps did not run on webgpu');
    assert.equal(
      steps[LEAK_STEPS - 1].numBytesAllocatedInGPU,
      steps[1].numBytesAllocatedInGPU,
      'the GPU buffer pool kept growing',
    );
  });

  it("FCN-8 (width 1/16, 64x96, fc6 'lite'): logits, loss and every gradient equal cpu", () => {
    assertClose(r.fcn8.webgpu.output, r.fcn8.cpu.output, 'logits');
    assertClose([r.fcn8.webgpu.loss], [r.fcn8.cpu.loss], 'loss');
    assertGradsClose(r.fcn8);
  });
});
