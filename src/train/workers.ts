import * as tf from '@tensorflow/tfjs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { BackendError, ConfigError, WorkerError } from '../util/errors';
import { lossClassWeights, type TrainConfig } from '../run/config';
import { lossGradients, trainableVariables, type Stepper } from './loop';
import { shardBatch, splitBatch } from './shard-gradients';
import {
  VariableLayout,
  addFromBuffer,
  faultFromEnv,
  writeVariables,
  type FromWorker,
  type InjectedFault,
  type ToWorker,
  type WorkerInit,
} from './worker-protocol';

/**
 * Data-parallel training over worker_threads. tfjs's wasm backend runs one
 * thread in Node, so a step uses one core; here a batch is split by images
 * over W lanes (the main thread and W-1 workers), each computes the gradient
 * of its shard's share of the whole-batch loss (the main thread's with the
 * regularisation term), and the main thread sums them and applies them with
 * its own optimizer. Before each step the main model's weights go to the
 * workers through a shared buffer, so the main model and optimizer stay the
 * only state: checkpoints, validation and resume read them unchanged, and a
 * worker can never drift.
 */

export interface DataParallelOptions {
  /**
   * The model to train; workers build replicas from config.model, so it must be buildFcn8(config.model)'s architecture.
   */
  model: tf.LayersModel;
  optimizer: tf.Optimizer;
  config: TrainConfig;
  /** Compute lanes in all, the main thread included (2 = one worker thread); 0 = one per core. */
  workers: number;
  ignoreIndex: number;
  /** Test-only: make a worker fail at a given step (default: FCN_INJECT_WORKER_FAULT, see faultFromEnv). */
  injectFault?: InjectedFault;
}

export interface DataParallelStepper {
  /** One step over all lanes; a drop-in for trainStep in fit({stepper}). */
  stepper: Stepper;
  /** Lanes in use for a full batch (main thread included). */
  lanes: number;
  /** Terminates the workers. Safe to call twice, and after a failure. */
  close(): Promise<void>;
}

/** Lanes for a `workers` setting: 0 = one per core. */
export function resolveLanes(workers: number): number {
  return workers === 0 ? os.availableParallelism() : workers;
}

/** The worker's entry file: TypeScript under tsx (tests, `npx tsx`), JavaScript in dist/. */
function workerScript(): { file: string; execArgv: string[] } {
  const ts = path.extname(__filename) === '.ts';
  return {
    file: path.join(__dirname, ts ? 'worker-entry.ts' : 'worker-entry.js'),
    execArgv: ts ? ['--require', 'tsx/cjs'] : [],
  };
}

/** The main thread's end of one worker: one request at a time, and a failure that sticks. */
class WorkerLane {
  failure: WorkerError | null = null;
  private pending: { resolve(m: FromWorker): void; reject(e: Error): void } | null = null;
  private step: number | null = null;
  private closing = false;

  constructor(
    readonly lane: number,
    private readonly of: number,
    readonly worker: Worker,
    readonly grads: SharedArrayBuffer,
  ) {
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'error') this.fail(m.message);
      else this.settle((p) => p.resolve(m));
    });
    worker.on('error', (err) => this.fail(err.message));
    worker.on('exit', (code) => {
      // A step still waiting when close() ends the thread (e.g. from a signal handler) must not wait forever.
      if (this.closing) this.settle((p) => p.reject(this.closed()));
      else this.fail(`the thread exited with code ${code}`);
    });
  }

  /** Resolves with the worker's next message (the first one is 'ready'). */
  next(step: number | null, message?: ToWorker): Promise<FromWorker> {
    this.step = step;
    if (this.failure) return Promise.reject(this.failure);
    if (this.closing) return Promise.reject(this.closed());
    // Referenced only while it works, so a forgotten close() does not keep Node alive.
    this.worker.ref();
    const reply = new Promise<FromWorker>((resolve, reject) => {
      this.pending = { resolve, reject };
    });
    // The shard's arrays are copies made for this message: move them instead of cloning.
    if (message)
      this.worker.postMessage(message, [
        message.shard.images.buffer as ArrayBuffer,
        message.shard.labels.buffer as ArrayBuffer,
      ]);
    return reply;
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.worker.terminate();
  }

  private closed(): WorkerError {
    return new WorkerError(
      `data-parallel worker ${this.lane} was closed${this.step === null ? '' : ` at step ${this.step}`}`,
    );
  }

  private fail(reason: string): void {
    if (this.failure) return;
    const when = this.step === null ? 'while starting' : `at step ${this.step}`;
    const state = this.step === null ? ' Train in one thread with --workers 1.' : ' The step was not applied.';
    this.failure = new WorkerError(
      `data-parallel worker ${this.lane} of ${this.of} failed ${when}: ${reason}.${state}`,
    );
    this.settle((p) => p.reject(this.failure!));
    void this.close();
  }

  private settle(how: (p: NonNullable<WorkerLane['pending']>) => void): void {
    const p = this.pending;
    this.pending = null;
    this.worker.unref();
    if (p) how(p);
  }
}

/**
 * Starts W-1 workers (W = resolveLanes(opts.workers)) and returns a stepper
 * that trains `model` with `optimizer` exactly as trainStep on the whole
 * batch would, to float rounding (dropout masks differ: they are keyed by
 * the shard's shape). Only the wasm backend: it is the one that leaves
 * cores idle.
 */
export async function createDataParallelStepper(opts: DataParallelOptions): Promise<DataParallelStepper> {
  const { model, optimizer, config, ignoreIndex } = opts;
  if (tf.getBackend() !== 'wasm') {
    throw new BackendError(
      `data-parallel workers run on the wasm backend only; the active one is ${tf.getBackend()}. ` +
        'Set workers: 1 (the GPU and tfjs-node backends use every core on their own)',
    );
  }
  const lanes = resolveLanes(opts.workers);
  const classWeights = lossClassWeights(config);
  const vars = trainableVariables(model);
  const layout = VariableLayout.of(vars);
  const weights = layout.allocate();
  const script = workerScript();
  const workers = Array.from({ length: lanes - 1 }, (_, i) => {
    const grads = layout.allocate();
    const init: WorkerInit = {
      lane: i + 1,
      model: config.model,
      ignoreIndex,
      classWeights,
      weights,
      grads,
      fault: opts.injectFault ?? faultFromEnv(),
    };
    return new WorkerLane(
      i + 1,
      lanes - 1,
      new Worker(script.file, { workerData: init, execArgv: script.execArgv }),
      grads,
    );
  });
  const close = async () => {
    await Promise.all(workers.map((w) => w.close()));
  };

  try {
    const replies = await Promise.all(workers.map((w) => w.next(null)));
    for (const reply of replies) {
      const theirs = reply.type === 'ready' ? new VariableLayout(reply.shapes) : null;
      if (!theirs || theirs.describe() !== layout.describe()) {
        throw new ConfigError(
          `the worker's model built from config.model has variables [${theirs?.describe()}], the model to train has ` +
            `[${layout.describe()}]; pass the TrainConfig the model was built (or loaded) with`,
        );
      }
    }
  } catch (err) {
    await close();
    throw err;
  }

  const stepper: Stepper = async (batch, step) => {
    const failure = workers.find((w) => w.failure)?.failure;
    if (failure) throw failure;
    const shards = splitBatch(batch, lanes, ignoreIndex, classWeights);
    // A worker whose shard has no valid pixel would only add zeros.
    const remote = shards
      .slice(1)
      .map((shard, i) => ({ shard, lane: workers[i] }))
      .filter((r) => r.shard.scale > 0);
    if (remote.length) writeVariables(vars, layout, weights);
    const replies = Promise.all(
      remote.map(({ shard, lane }) =>
        lane.next(step, {
          type: 'step',
          step,
          shard: shardBatch(batch, shard, true),
          scale: shard.scale,
        }),
      ),
    );
    // A worker that fails while this thread computes is reported when awaited below, not as an unhandled rejection.
    replies.catch(() => {});
    // This lane's gradient carries the regularisation term; it stays on the wasm heap and the workers' are added to it
    // there.
    const own = await lossGradients(model, shardBatch(batch, shards[0], false), {
      step,
      ignoreIndex,
      classWeights,
      scale: shards[0].scale,
      withReg: true,
    });
    const { grads } = own;
    try {
      let loss = own.loss;
      for (const [r, reply] of (await replies).entries()) {
        if (reply.type !== 'grads')
          throw new WorkerError(`worker ${remote[r].lane.lane} sent '${reply.type}' during step ${step}`);
        loss += reply.loss;
        vars.forEach((v, i) => {
          const theirs = layout.view(remote[r].lane.grads, i);
          const mine = grads[v.name];
          if (mine && addFromBuffer(mine, theirs)) return;
          const copy = tf.tensor(theirs, v.shape, 'float32');
          grads[v.name] = mine ? tf.add(mine, copy) : copy;
          if (mine) tf.dispose([mine, copy]);
        });
      }
      optimizer.applyGradients(vars.map((v) => ({ name: v.name, tensor: grads[v.name] })).filter((g) => g.tensor));
      return { loss, regLoss: own.regLoss };
    } finally {
      tf.dispose(Object.values(grads));
    }
  };
  return { stepper, lanes, close };
}
