import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
const GPU = path.join(ROOT, 'bench', 'gpu');

/** What collect-files.cjs lists for the given roots. */
function collect(...roots: string[]): string[] {
  const r = spawnSync(process.execPath, [path.join(GPU, 'collect-files.cjs'), ROOT, ...roots], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split('\n');
}

describe('bench/gpu kit', () => {
  it("collects tfjs-backend-webgpu's node bundle, tfjs-core's, their package.json files, and nothing else of tfjs", () => {
    const files = collect('@tensorflow/tfjs-backend-webgpu');
    for (const f of [
      'node_modules/@tensorflow/tfjs-backend-webgpu/dist/tf-backend-webgpu.node.js',
      'node_modules/@tensorflow/tfjs-backend-webgpu/package.json',
      'node_modules/@tensorflow/tfjs-core/dist/tf-core.node.js',
      'node_modules/@tensorflow/tfjs-core/package.json',
      'node_modules/seedrandom/package.json',
    ])
      assert.ok(files.includes(f), `${f} is missing`);
    assert.ok(
      !files.some((f) => f.startsWith('node_modules/@tensorflow/tfjs-backend-webgl/')),
      'webgl is not loaded by webgpu',
    );
    assert.ok(!files.some((f) => f.endsWith('.map') || f.endsWith('.d.ts')), 'no source maps or typings');
  });

  it('fails on a root that is neither a file nor a package', () => {
    const r = spawnSync(process.execPath, [path.join(GPU, 'collect-files.cjs'), ROOT, 'no-such-package-xyz'], {
      encoding: 'utf8',
    });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /root no-such-package-xyz is neither a file nor a package/);
  });

  for (const script of ['pack.sh', 'run.sh']) {
    it(`${script} parses (bash -n)`, () => {
      const r = spawnSync('bash', ['-n', path.join(GPU, script)], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    });
  }
});
