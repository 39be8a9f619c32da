import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { selectBackend } from '../../src/backend';
import { openDataset, splitTrainVal } from '../../src/data';
import { synthesizeRoadSet } from '../../src/data/builtin-road';
import { buildFcn8 } from '../../src/model/fcn8';
import { adamOptimizer } from '../../src/train/adam';
import {
  PREVIOUS_DIR,
  RUN_FILES,
  checkpointBytes,
  loadRunModel,
  loadTrainState,
  saveCheckpoint,
  type TrainState,
} from '../../src/run/checkpoint';
import { resolveTrainConfig } from '../../src/run/config';
import { trainStep } from '../../src/train/loop';
import { countFcn8Params } from '../../src/train/memory-plan';
import { runTraining } from '../../src/train/run';
import { DataError, StorageError } from '../../src/util/errors';
import { fcn, rmDir, tmpDir } from '../helpers';
import { roadScene } from './fixtures';

/**
 * Faults a long run meets (issue 18), each injected for real: a full disk
 * (a small tmpfs when the tests run as root, else an ENOSPC writer), damaged
 * run files, images that vanish while training runs, a worker thread that
 * dies. Each asserts the message (file named, fix given), the exit code, and
 * that the last good checkpoint still loads and resumes.
 */

const ROOT = path.resolve(__dirname, '../..');
const SMOKE = resolveTrainConfig('smoke');
const STACK_LINE = /^\s+at .+:\d+:\d+\)?$/m;

const listTmp = (dir: string) => fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'));

function mountTmpfs(dir: string, bytes: number): boolean {
  if (process.getuid?.() !== 0) return false;
  return spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir]).status === 0;
}

/** Fills the file system of `dir` to the last byte. */
function fillDisk(file: string): void {
  const fd = fs.openSync(file, 'w');
  try {
    for (let chunk = 1 << 20; chunk >= 512;) {
      try {
        fs.writeSync(fd, Buffer.alloc(chunk));
      } catch {
        chunk >>= 1;
      }
    }
  } finally {
    fs.closeSync(fd);
  }
}

describe('faults a long training run meets', function () {
  this.timeout(600_000);
  let dir: string;
  let data: string;
  before(async function () {
    if (!fs.existsSync(path.join(ROOT, 'dist/cli/index.js'))) this.skip();
    dir = tmpDir('fcn-faults-');
    data = path.join(dir, 'road');
    await synthesizeRoadSet(data, { count: 8, seed: 3, progress: false });
  });
  after(() => dir && rmDir(dir));

  describe('disk full', () => {
    it('on a small tmpfs: names file, space and the epoch to resume from, removes partial files, exits 1, resumes', function () {
      const mnt = path.join(dir, 'small');
      fs.mkdirSync(mnt);
      const one = checkpointBytes(countFcn8Params(SMOKE.model));
      // Room for the first checkpoint and the JSON files, not for a second one beside it.
      if (!mountTmpfs(mnt, Math.ceil(1.5 * one) + 256 * 1024)) {
        console.log('      (skipped: mounting a tmpfs needs root; the ENOSPC writer test below covers the same path)');
        this.skip();
      }
      try {
        const run = path.join(mnt, 'run');
        let r = fcn(['train', '--data', data, '--preset', 'smoke', '--out', run, '--no-progress']);
        assert.equal(r.code, 1, r.err);
        assert.match(r.err, /warning: the disk of .* holds fewer than two checkpoints/);
        assert.match(
          r.err,
          new RegExp(
            `error: could not write \\w+\\.\\w+ in ${run}: no space left on the device ` +
              '\\(ENOSPC\\); it needs [\\d.]+ [KM]iB, [\\d.]+ [KM]iB free there\\. The partial files were removed; the last ' +
              `complete checkpoint \\(epoch 1\\) in ${run} is intact\\. Free some space, then continue with: ` +
              `npx fcn train --out ${run} --resume`,
          ),
        );
        assert.doesNotMatch(r.err, STACK_LINE);
        assert.deepEqual(listTmp(run), []);

        // Evaluation on a disk with no byte left still prints its scores and says what it did not save.
        fillDisk(path.join(mnt, 'filler'));
        r = fcn(['eval', '--run', run, '--no-progress']);
        assert.equal(r.code, 1, r.err);
        assert.match(r.out, /mean IoU/);
        assert.match(r.err, /not saved: could not write metrics\.json in .*\(ENOSPC\).*The scores above are complete/);
        assert.deepEqual(listTmp(run), []);

        fs.rmSync(path.join(mnt, 'filler'));
        assert.equal(spawnSync('mount', ['-o', `remount,size=${8 * one}`, mnt]).status, 0);
        r = fcn(['train', '--data', data, '--preset', 'smoke', '--out', run, '--resume', '--no-progress']);
        assert.equal(r.code, 0, r.err);
        assert.match(r.err, /resume: .* at epoch 1, step 3/);
        assert.equal(JSON.parse(fs.readFileSync(path.join(run, RUN_FILES.history), 'utf8')).length, 2);
      } finally {
        spawnSync('umount', [mnt]);
      }
    });

    it('through an ENOSPC writer: the save fails whole, the last checkpoint and its previous/ copy stay', async () => {
      await selectBackend({ forced: 'wasm', log: null });
      const config = resolveTrainConfig('smoke', { model: { inputShape: [32, 32] } });
      const model = buildFcn8(config.model);
      const optimizer = adamOptimizer(config.learningRate);
      const run = path.join(dir, 'enospc');
      const { image, label } = roadScene(0, 32, 32);
      const state = (epoch: number): TrainState => ({
        epoch,
        step: epoch,
        batchInEpoch: 0,
        partial: { lossSum: 0, regSum: 0, batches: 0 },
      });
      // The module object itself (not `import *`'s copy): the source reads fs.writeFileSync from it at each call.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const realFs = require('node:fs') as { writeFileSync: typeof fs.writeFileSync };
      const original = realFs.writeFileSync;
      try {
        for (const epoch of [1, 2]) {
          await trainStep(
            model,
            optimizer,
            { ids: ['a'], height: 32, width: 32, images: image, labels: label },
            config,
            epoch,
          );
          await saveCheckpoint(run, model, optimizer, state(epoch));
        }
        realFs.writeFileSync = (file, ...rest) => {
          if (String(file).endsWith(`${RUN_FILES.optimizer}.tmp`)) {
            throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
          }
          return original(file, ...rest);
        };
        await assert.rejects(
          saveCheckpoint(run, model, optimizer, state(3)),
          (err: unknown) =>
            err instanceof StorageError &&
            err.message.startsWith(`could not write optimizer.bin in ${run}: no space left`) &&
            /last complete checkpoint \(epoch 2\) .* is intact/.test(err.message),
        );
      } finally {
        realFs.writeFileSync = original;
      }
      assert.deepEqual(listTmp(run), []);
      const resumed = adamOptimizer(config.learningRate);
      assert.equal((await loadTrainState(run, resumed)).epoch, 2);
      (await loadRunModel(run)).dispose();
      resumed.dispose();
      model.dispose();
      optimizer.dispose();
    });
  });

  it('a kill inside a save: finished when every new file was written, else discarded; the run always loads', async () => {
    await selectBackend({ forced: 'wasm', log: null });
    const config = resolveTrainConfig('smoke', { model: { inputShape: [32, 32] } });
    const model = buildFcn8(config.model);
    const optimizer = adamOptimizer(config.learningRate);
    const { image, label } = roadScene(1, 32, 32);
    const state = (epoch: number): TrainState => ({
      epoch,
      step: epoch,
      batchInEpoch: 0,
      partial: { lossSum: 0, regSum: 0, batches: 0 },
    });
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the module object, as above
    const realFs = require('node:fs') as { renameSync: typeof fs.renameSync };
    const original = realFs.renameSync;
    const kills: [string, (run: string) => Promise<void>, number][] = [
      // After the first rename: every new file was written, so the save is finished on load.
      [
        'between the renames',
        async (run) => {
          let calls = 0;
          realFs.renameSync = (...args) => {
            if (calls++ === 1) throw new Error('killed');
            original(...args);
          };
          await saveCheckpoint(run, model, optimizer, state(2)).catch(() => {});
          realFs.renameSync = original;
        },
        2,
      ],
      // While the files were written (no state.json.tmp yet): the last checkpoint stays.
      [
        'while writing',
        async (run) => {
          fs.writeFileSync(path.join(run, `${RUN_FILES.weights}.tmp`), 'half a file');
        },
        1,
      ],
    ];
    for (const [when, kill, epoch] of kills) {
      const run = path.join(dir, `killed ${when}`);
      await trainStep(model, optimizer, { ids: ['a'], height: 32, width: 32, images: image, labels: label }, config, 0);
      await saveCheckpoint(run, model, optimizer, state(1));
      await kill(run);
      assert.ok(listTmp(run).length > 0, `the save killed ${when} left .tmp files`);
      const probe = adamOptimizer(1e-3);
      assert.equal((await loadTrainState(run, probe)).epoch, epoch, when);
      (await loadRunModel(run)).dispose();
      probe.dispose();
      assert.deepEqual(listTmp(run), []);
    }
    model.dispose();
    optimizer.dispose();
  });

  describe('damaged run files', () => {
    let good: string;
    before(() => {
      good = path.join(dir, 'good');
      const r = fcn(['train', '--data', data, '--preset', 'smoke', '--out', good, '--no-progress']);
      assert.equal(r.code, 0, r.err);
      assert.ok(fs.existsSync(path.join(good, PREVIOUS_DIR, RUN_FILES.weights)), 'epoch 1 is kept in previous/');
    });
    const edit = (file: string, change: (bytes: Buffer) => Buffer | string) =>
      fs.writeFileSync(file, change(fs.readFileSync(file)));
    const json = (f: (v: Record<string, unknown>) => void) => (b: Buffer) => {
      const v = JSON.parse(b.toString()) as Record<string, unknown>;
      f(v);
      return JSON.stringify(v);
    };
    const cases: {
      damage: string;
      file: string;
      change: (b: Buffer) => Buffer | string;
      command: 'eval' | 'resume';
      says: RegExp;
    }[] = [
      {
        damage: 'truncated weights.bin',
        file: RUN_FILES.weights,
        change: (b) => b.subarray(0, b.length >> 1),
        command: 'eval',
        says: /weights\.bin has \d+ bytes; state\.json recorded \d+ when it was saved: the file is truncated/,
      },
      {
        damage: 'zeroed weights.bin',
        file: RUN_FILES.weights,
        change: (b) => Buffer.alloc(b.length),
        command: 'eval',
        says: /weights\.bin has the right size \(\d+ bytes\) but not the SHA-256 state\.json recorded/,
      },
      {
        damage: 'truncated model.json',
        file: RUN_FILES.model,
        change: (b) => b.subarray(0, 100),
        command: 'eval',
        says: /model\.json has 100 bytes; state\.json recorded \d+/,
      },
      {
        damage: 'truncated optimizer.bin',
        file: RUN_FILES.optimizer,
        change: (b) => b.subarray(0, 8),
        command: 'resume',
        says: /optimizer\.bin has 8 bytes; state\.json recorded \d+/,
      },
      {
        damage: 'state.json from another version',
        file: RUN_FILES.state,
        change: json((v) => {
          v.version = 99;
        }),
        command: 'eval',
        says: /state\.json: "version" is 99, expected 1 or 2; the checkpoint is damaged or from another version/,
      },
      {
        damage: 'state.json with a bad field',
        file: RUN_FILES.state,
        change: json((v) => {
          v.epoch = 'two';
        }),
        command: 'resume',
        says: /state\.json: "epoch" is "two", expected a whole number >= 0/,
      },
      {
        damage: 'config.json edited into an invalid one',
        file: RUN_FILES.config,
        change: json((v) => {
          v.learningRate = -1;
        }),
        command: 'eval',
        says: /config\.json: learningRate must be in \(0, 1\); got -1\. Fix that field/,
      },
    ];
    for (const c of cases) {
      it(`${c.damage}: one line naming the file and what is wrong, exit 1${c.file === RUN_FILES.config ? '' : ', the older checkpoint named'}`, () => {
        const run = path.join(dir, c.damage.replace(/\W+/g, '-'));
        fs.cpSync(good, run, { recursive: true });
        edit(path.join(run, c.file), c.change);
        const r =
          c.command === 'eval'
            ? fcn(['eval', '--run', run, '--no-progress'])
            : fcn([
                'train',
                '--data',
                data,
                '--preset',
                'smoke',
                '--out',
                run,
                '--resume',
                '--epochs',
                '3',
                '--no-progress',
              ]);
        assert.equal(r.code, 1, r.err);
        assert.match(r.err, c.says);
        assert.ok(r.err.includes(path.join(run, c.file)), `names ${path.join(run, c.file)}: ${r.err}`);
        assert.doesNotMatch(r.err, STACK_LINE);
        if (c.file !== RUN_FILES.config) {
          const prev = path.join(run, PREVIOUS_DIR);
          assert.ok(
            r.err.includes(
              `An older complete checkpoint (epoch 1) is in ${prev}; to go back to it: cp ${prev}/* ${run}/`,
            ),
            r.err,
          );
        }
      });
    }

    it('the older checkpoint, copied back as the message says, resumes to the end', () => {
      const run = path.join(dir, 'zeroed-weights-bin');
      assert.ok(fs.existsSync(run), 'the zeroed-weights case ran first');
      const prev = path.join(run, PREVIOUS_DIR);
      for (const f of fs.readdirSync(prev)) fs.copyFileSync(path.join(prev, f), path.join(run, f));
      const r = fcn(['train', '--data', data, '--preset', 'smoke', '--out', run, '--resume', '--no-progress']);
      assert.equal(r.code, 0, r.err);
      assert.match(r.err, /resume: .* at epoch 1, step 3/);
      assert.equal(JSON.parse(fs.readFileSync(path.join(run, RUN_FILES.history), 'utf8')).length, 2);
    });
  });

  it('a worker thread that dies: the message names it, a checkpoint is saved, --workers 1 resumes', () => {
    const run = path.join(dir, 'worker');
    let r = fcn(['train', '--data', data, '--preset', 'smoke', '--workers', '2', '--out', run, '--no-progress'], {
      FCN_INJECT_WORKER_FAULT: 'exit:1:4',
    });
    assert.equal(r.code, 1, r.err);
    assert.match(
      r.err,
      /error: data-parallel worker 1 of 1 failed at step 4: the thread exited with code 3\. The step was not applied\./,
    );
    assert.match(
      r.err,
      /A checkpoint was saved at epoch 2, batch 1 \(step 4\); continue in one thread with --resume --workers 1\./,
    );
    assert.doesNotMatch(r.err, STACK_LINE);
    r = fcn([
      'train',
      '--data',
      data,
      '--preset',
      'smoke',
      '--workers',
      '1',
      '--out',
      run,
      '--resume',
      '--no-progress',
    ]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /resume: .* at epoch 1, batch 1, step 4/);
    assert.equal(JSON.parse(fs.readFileSync(path.join(run, RUN_FILES.history), 'utf8')).length, 2);
  });

  describe('images that change while training runs (streamed from disk)', () => {
    let big: string;
    let trainImages: string[];
    before(async () => {
      await selectBackend({ forced: 'wasm', log: null });
      big = path.join(dir, 'road40');
      await synthesizeRoadSet(big, { count: 40, seed: 5, progress: false });
      const ds = await openDataset('kitti-road', big);
      trainImages = splitTrainVal(await ds.samples('train'), SMOKE.valFraction, SMOKE.seed).train.map(
        (s) => s.imagePath,
      );
    });
    const train = (runDir: string, damage: (files: string[]) => void, resume = false) =>
      runTraining({
        config: SMOKE,
        dataset: { name: 'kitti-road', dir: big },
        runDir,
        resume,
        weights: null,
        stream: true,
        log: () => {},
        progress: false,
        callbacks: {
          onEpochEnd: (epoch) => {
            if (epoch === 1) damage(trainImages);
          },
        },
      });

    it('one truncated image is skipped with a warning that names it, counted in the epoch summary', async () => {
      const victim = trainImages[7];
      const bytes = fs.readFileSync(victim);
      try {
        const result = await train(path.join(dir, 'stream-one'), () =>
          fs.writeFileSync(victim, bytes.subarray(0, 200)),
        );
        assert.equal(result.outcome, 'done');
        assert.deepEqual(
          result.history[0].warnings.filter((w) => w.startsWith('skipped')),
          [],
        );
        assert.ok(
          result.history[1].warnings.includes(`skipped 1 unreadable training sample this epoch: ${victim}`),
          result.history[1].warnings.join('\n'),
        );
      } finally {
        fs.writeFileSync(victim, bytes);
      }
    });

    it('more than 5% gone: the run stops with a checkpoint and resumes once they are back', async () => {
      const runDir = path.join(dir, 'stream-many');
      const victims = trainImages.slice(0, 2);
      const saved = victims.map((f) => fs.readFileSync(f));
      await assert.rejects(
        train(runDir, () => victims.forEach((f) => fs.rmSync(f))),
        (err: unknown) =>
          err instanceof DataError &&
          new RegExp(`^2 of ${trainImages.length} samples could not be read in epoch 2 \\(more than 5%`).test(
            err.message,
          ) &&
          /changed or is damaged while training ran.*A checkpoint was saved at epoch 2, batch \d+ \(step \d+\)/.test(
            err.message,
          ),
      );
      const probe = adamOptimizer(1e-3);
      const stopped = await loadTrainState(runDir, probe);
      probe.dispose();
      assert.equal(stopped.epoch, 1);
      assert.ok(stopped.step >= trainImages.length / SMOKE.batchSize, 'the checkpoint is in epoch 2');
      victims.forEach((f, i) => fs.writeFileSync(f, saved[i]));
      const result = await train(runDir, () => {}, true);
      assert.equal(result.outcome, 'done');
      assert.equal(result.history.length, 2);
    });
  });
});
