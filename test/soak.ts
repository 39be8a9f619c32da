/**
 * Soak test (npm run soak; not in npm test): one training run killed with
 * SIGKILL at 50 random moments, resumed after each. After every kill the
 * run folder must load (model, optimizer, state) and the next resume must
 * continue from it; at the end the run finishes and evaluates.
 *   npm run soak [-- --kills 50]
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { selectBackend } from '../src/backend';
import { synthesizeRoadSet } from '../src/data/builtin-road';
import { adamOptimizer } from '../src/train/adam';
import { hasCheckpoint, loadRunModel, loadTrainState } from '../src/run/checkpoint';
import { tmpDir } from './helpers';

const FCN = path.resolve(__dirname, '../bin/fcn.cjs');

/** Starts `fcn train --resume` and SIGKILLs it after `ms`; resolves with whether it was still running. */
function trainThenKill(args: string[], ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [FCN, ...args], {
      env: { ...process.env, FCN_BACKEND: 'wasm' },
      stdio: 'ignore',
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('exit', (_code, signal) => {
      clearTimeout(timer);
      resolve(signal === 'SIGKILL');
    });
  });
}

/** Null when the folder holds no checkpoint yet, else its epoch; throws when it is damaged. */
async function checkRun(run: string): Promise<{ epoch: number; step: number } | null> {
  if (!hasCheckpoint(run)) return null;
  const model = await loadRunModel(run);
  const optimizer = adamOptimizer(1e-3);
  try {
    const state = await loadTrainState(run, optimizer);
    return { epoch: state.epoch, step: state.step };
  } finally {
    model.dispose();
    optimizer.dispose();
  }
}

async function main(): Promise<void> {
  const opts = new Command('soak')
    .option('--kills <n>', 'SIGKILLs', (v) => Number(v), 50)
    .parse()
    .opts<{ kills: number }>();
  await selectBackend({ forced: 'wasm', log: null });
  const dir = tmpDir('fcn-soak-');
  const data = path.join(dir, 'road');
  const run = path.join(dir, 'run');
  await synthesizeRoadSet(data, { count: 12, seed: 1, progress: false });
  const train = (epochs: number) => [
    'train',
    '--data',
    data,
    '--preset',
    'smoke',
    '--epochs',
    String(epochs),
    '--out',
    run,
    '--resume',
    '--no-progress',
  ];
  let survived = 0;
  let killed = 0;
  let last: { epoch: number; step: number } | null = null;
  for (let k = 1; k <= opts.kills; k++) {
    // 1.5-6 s: start-up takes about 1.5 s here; an epoch of 12 small frames about as long as a checkpoint write.
    const ms = 1500 + Math.random() * 4500;
    if (await trainThenKill(train(10_000), ms)) killed++;
    try {
      const now = await checkRun(run);
      if (last && now && now.step < last.step) throw new Error(`went back from step ${last.step} to ${now.step}`);
      last = now ?? last;
      survived++;
      console.log(
        `kill ${k} at ${(ms / 1000).toFixed(1)} s: ${now ? `epoch ${now.epoch}, step ${now.step}` : 'no checkpoint yet'}`,
      );
    } catch (err) {
      console.log(`kill ${k} at ${(ms / 1000).toFixed(1)} s: the run folder does not load: ${(err as Error).message}`);
    }
  }
  const finish = spawnSync(process.execPath, [FCN, ...train((last?.epoch ?? 0) + 1)], {
    env: { ...process.env, FCN_BACKEND: 'wasm' },
    encoding: 'utf8',
  });
  const evaluated = spawnSync(process.execPath, [FCN, 'eval', '--run', run, '--no-progress'], {
    env: { ...process.env, FCN_BACKEND: 'wasm' },
    encoding: 'utf8',
  });
  const ok = finish.status === 0 && evaluated.status === 0;
  console.log(
    `soak: ${opts.kills} SIGKILLs (${killed} while training ran), ${survived} survived (the run folder loaded ` +
      `and resumed); the run then ${ok ? 'finished and evaluated' : `failed:\n${finish.stderr}${evaluated.stderr}`}`,
  );
  fs.rmSync(dir, { recursive: true, force: true });
  process.exitCode = survived === opts.kills && ok ? 0 : 1;
}

void main();
