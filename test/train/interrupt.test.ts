import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { synthesizeRoadSet } from '../../src/data/builtin-road';
import { RUN_FILES } from '../../src/run/checkpoint';
import { stopOnInterrupt } from '../../src/train/interrupt';
import { fcn, rmDir, tmpDir } from '../helpers';

const ROOT = path.resolve(__dirname, '../..');

describe('train/interrupt', function () {
  this.timeout(300_000);

  it('the first SIGINT asks to stop, a second calls onSecond; release removes the handler', () => {
    const calls: string[] = [];
    const before = process.listenerCount('SIGINT');
    const { stop, release } = stopOnInterrupt(
      () => calls.push('first'),
      () => calls.push('second'),
    );
    process.emit('SIGINT');
    assert.equal(stop.stop, true);
    process.emit('SIGINT');
    assert.deepEqual(calls, ['first', 'second']);
    release();
    assert.equal(process.listenerCount('SIGINT'), before);
  });

  it('Ctrl-C during `fcn train` saves a checkpoint mid-run, exits 0, and --resume finishes the run', async function () {
    if (!fs.existsSync(path.join(ROOT, 'dist/cli/index.js'))) this.skip();
    const dir = tmpDir();
    try {
      const data = path.join(dir, 'road');
      const run = path.join(dir, 'run');
      await synthesizeRoadSet(data, { count: 8, seed: 2, progress: false });
      const child = spawn(
        process.execPath,
        [
          path.join(ROOT, 'bin/fcn.cjs'),
          'train',
          '--data',
          data,
          '--preset',
          'smoke',
          '--epochs',
          '50',
          '--out',
          run,
          '--no-progress',
        ],
        { env: { ...process.env, FCN_BACKEND: 'wasm' } },
      );
      let err = '';
      child.stderr.on('data', (b: Buffer) => {
        const first = !/epoch 1\/50/.test(err);
        err += b.toString();
        if (first && /epoch 1\/50/.test(err)) child.kill('SIGINT');
      });
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      assert.equal(code, 0, err);
      assert.match(err, /interrupt: saving a checkpoint after this batch/);
      assert.match(
        err,
        new RegExp(`stopped; checkpoint saved in ${run}\\. Continue with: npx fcn train --out ${run} --resume`),
      );
      const state = JSON.parse(fs.readFileSync(path.join(run, RUN_FILES.state), 'utf8')) as {
        epoch: number;
        step: number;
      };
      assert.ok(state.epoch >= 1 && state.epoch < 50, `stopped at epoch ${state.epoch}`);
      const r = fcn([
        'train',
        '--data',
        data,
        '--preset',
        'smoke',
        '--epochs',
        String(state.epoch + 1),
        '--out',
        run,
        '--resume',
        '--no-progress',
      ]);
      assert.equal(r.code, 0, r.err);
      assert.match(r.err, new RegExp(`resume: .* at epoch ${state.epoch}`));
      assert.equal(JSON.parse(fs.readFileSync(path.join(run, RUN_FILES.history), 'utf8')).length, state.epoch + 1);
    } finally {
      rmDir(dir);
    }
  });
});
