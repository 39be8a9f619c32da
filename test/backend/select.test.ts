import { strict as assert } from 'node:assert';
import { selectBackend, type BackendChoice, type BackendProbe, type ProbeResult } from '../../src/backend';

/** A probe whose answers per backend are given; records what was tried. */
function stubProbe(answers: Partial<Record<BackendChoice, ProbeResult>>) {
  const tried: string[] = [];
  const probe: BackendProbe = {
    async init(choice, { forced }) {
      tried.push(`${choice}${forced ? '!' : ''}`);
      return answers[choice] ?? { ok: false, reason: 'not installed' };
    },
  };
  return { probe, tried };
}

describe('selectBackend', () => {
  it('takes the first backend that loads, in order, and says why the better ones were skipped', async () => {
    const { probe, tried } = stubProbe({
      wasm: { ok: true, detail: 'wasm with SIMD' },
      cpu: { ok: true, detail: 'js' },
    });
    const lines: string[] = [];
    const b = await selectBackend({ forced: '', probe, log: (l) => lines.push(l) });
    assert.equal(b.choice, 'wasm');
    assert.deepEqual(tried, ['gpu', 'webgpu', 'node', 'wasm']);
    assert.equal(lines.length, 1);
    assert.match(
      lines[0],
      /^backend: wasm \(wasm with SIMD\); skipped @tensorflow\/tfjs-node-gpu: not installed; @tensorflow\/tfjs-backend-webgpu: not installed; @tensorflow\/tfjs-node: not installed$/,
    );
  });

  it('prefers tfjs-node-gpu when it loads', async () => {
    const { probe } = stubProbe({ gpu: { ok: true, detail: 'CUDA' }, wasm: { ok: true, detail: 'w' } });
    const b = await selectBackend({ forced: '', probe, log: null });
    assert.equal(b.choice, 'gpu');
    assert.equal(b.name, 'tensorflow');
    assert.deepEqual(b.skipped, []);
  });

  it('reports a GPU package that loads without CUDA as skipped, with the libraries named', async () => {
    const { probe } = stubProbe({
      gpu: { ok: false, reason: 'installed, but CUDA libraries not found: libcudart.so.11.0' },
      webgpu: { ok: false, reason: 'only a software adapter (llvmpipe)' },
      node: { ok: true, detail: 'libtensorflow' },
    });
    const b = await selectBackend({ forced: '', probe, log: null });
    assert.equal(b.choice, 'node');
    assert.match(b.line, /libcudart\.so\.11\.0/);
    assert.match(b.line, /software adapter/);
  });

  it('FCN_BACKEND forces one backend and tries no other', async () => {
    const { probe, tried } = stubProbe({ cpu: { ok: true, detail: 'js' }, wasm: { ok: true, detail: 'w' } });
    const b = await selectBackend({ forced: 'CPU', probe, log: null });
    assert.equal(b.choice, 'cpu');
    assert.deepEqual(tried, ['cpu!']);
    assert.match(b.line, /forced by FCN_BACKEND/);
  });

  it('fails clearly when the forced backend cannot load', async () => {
    const { probe } = stubProbe({ wasm: { ok: true, detail: 'w' } });
    await assert.rejects(
      selectBackend({ forced: 'gpu', probe, log: null }),
      /FCN_BACKEND=gpu was asked for, but @tensorflow\/tfjs-node-gpu cannot be used: not installed\. Unset FCN_BACKEND/,
    );
  });

  it('rejects an unknown FCN_BACKEND value and lists the valid ones', async () => {
    const { probe } = stubProbe({});
    await assert.rejects(
      selectBackend({ forced: 'cuda', probe, log: null }),
      /FCN_BACKEND=cuda is not a backend; use one of gpu, webgpu, node, wasm, cpu/,
    );
  });

  it('turns a throwing loader into a skip reason', async () => {
    const probe: BackendProbe = {
      async init(choice) {
        if (choice === 'gpu') throw new Error('libtensorflow.so: cannot open shared object file');
        return choice === 'cpu' ? { ok: true, detail: 'js' } : { ok: false, reason: 'not installed' };
      },
    };
    const b = await selectBackend({ forced: '', probe, log: null });
    assert.equal(b.choice, 'cpu');
    assert.match(b.line, /tfjs-node-gpu: libtensorflow\.so: cannot open shared object file/);
  });
});
