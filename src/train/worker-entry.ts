/**
 * A data-parallel training worker (started by workers.ts, never imported).
 * It holds a replica of the model and, for each step, takes the main model's
 * weights from the shared buffer, computes the gradient of its shard's share
 * of the batch loss and writes it into its own shared buffer. It never
 * updates weights itself: the main thread is the source of truth.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { selectBackend } from '../backend';
import { buildFcn8 } from '../model/fcn8';
import { trainableVariables } from './loop';
import { shardGradients } from './shard-gradients';
import {
  VariableLayout,
  readVariables,
  type FromWorker,
  type InjectedFault,
  type ToWorker,
  type WorkerInit,
} from './worker-protocol';

const init = workerData as WorkerInit;
const port = parentPort!;
const post = (message: FromWorker) => port.postMessage(message);

/** The test-only fault planned for this worker at `step`, if any. */
function faultAt(step: number): InjectedFault['kind'] | null {
  const fault = init.fault;
  return fault && fault.worker === init.lane && fault.step === step ? fault.kind : null;
}

async function main(): Promise<void> {
  await selectBackend({ forced: 'wasm', log: null });
  const model = buildFcn8(init.model);
  const vars = trainableVariables(model);
  const layout = VariableLayout.of(vars);
  port.on('message', (message: ToWorker) => {
    const fault = faultAt(message.step);
    if (fault === 'exit') process.exit(3);
    // Thrown outside any handler, so the thread dies as on a real crash.
    if (fault === 'uncaught') throw new Error(`injected uncaught exception at step ${message.step}`);
    void (async () => {
      try {
        if (fault === 'throw') throw new Error(`injected error at step ${message.step}`);
        readVariables(vars, layout, init.weights);
        const loss = await shardGradients(
          model,
          message.shard,
          message.scale,
          message.step,
          init.ignoreIndex,
          init.classWeights,
          (i) => layout.view(init.grads, i),
        );
        post({ type: 'grads', loss });
      } catch (err) {
        post({ type: 'error', message: (err as Error).message ?? String(err) });
      }
    })();
  });
  post({ type: 'ready', shapes: layout.shapes.map((s) => [...s]) });
}

main().catch((err: Error) => post({ type: 'error', message: `could not start: ${err.message ?? String(err)}` }));
