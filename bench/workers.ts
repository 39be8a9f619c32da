/**
 * Images/s of one FCN-8 training step in one thread (trainStep) against the
 * data-parallel stepper over 2 lanes (main thread + 1 worker), on wasm, and
 * what the per-step weight broadcast costs next to Adam's update.
 * 1-lane and 2-lane runs alternate so that load from other processes on the
 * machine hits both alike; medians over the repeats are reported. Besides
 * wall time it reports the CPU seconds per image (all threads of this
 * process): the work the split adds, whatever the other processes take, and
 * the cores this process actually got (CPU time / wall time), and an
 * estimate of the 2-core ratio from in-thread CPU times (idealRatio).
 *
 *   npx tsx bench/workers.ts [--widths 0.25,1] [--batches 2,4] [--input 96x288] [--steps 3] [--repeats 3]
 */
import * as tf from '@tensorflow/tfjs';
import * as os from 'node:os';

import { selectBackend } from '../src/backend';
import type { Batch } from '../src/data/types';
import { parseInputShape } from '../src/model/config';
import { buildFcn8 } from '../src/model/fcn8';
import { resolveTrainConfig, type TrainConfig } from '../src/run/config';
import { adamOptimizer } from '../src/train/adam';
import { lossGradients, trainStep, trainableVariables, type Stepper } from '../src/train/loop';
import { shardBatch, splitBatch } from '../src/train/shard-gradients';
import { VariableLayout, readVariables, writeVariables } from '../src/train/worker-protocol';
import { createDataParallelStepper } from '../src/train/workers';
import { roadScene } from '../test/train/fixtures';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function sceneBatch(size: number, h: number, w: number): Batch {
  const images = new Uint8Array(size * h * w * 3);
  const labels = new Uint8Array(size * h * w);
  for (let i = 0; i < size; i++) {
    const s = roadScene(i, h, w);
    images.set(s.image, i * h * w * 3);
    labels.set(s.label, i * h * w);
  }
  return { ids: Array.from({ length: size }, (_, i) => `scene_${i}`), height: h, width: w, images, labels };
}

interface StepTime {
  /** Wall seconds per step. */
  wall: number;
  /** CPU seconds per step, all threads of this process. */
  cpu: number;
}

/** Time per step over `steps` steps, after the step counter `first`. */
async function timeSteps(stepper: Stepper, batch: Batch, first: number, steps: number): Promise<StepTime> {
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  for (let s = 0; s < steps; s++) await stepper(batch, first + s);
  const cpu = process.cpuUsage(cpuStart);
  return { wall: (performance.now() - start) / 1000 / steps, cpu: (cpu.user + cpu.system) / 1e6 / steps };
}

function describe(times: StepTime[], images: number): { ips: number; line: string } {
  const wall = median(times.map((t) => t.wall));
  const cpu = median(times.map((t) => t.cpu));
  return {
    ips: images / wall,
    line:
      `${(images / wall).toFixed(2)} img/s (s/step ${times.map((t) => t.wall.toFixed(2)).join(' ')}; ` +
      `${(cpu / images).toFixed(2)} CPU s/img; ${(cpu / wall).toFixed(2)} cores)`,
  };
}

/** Milliseconds of one call of `f`, median of 5. */
async function timeMs(f: () => Promise<void> | void): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < 5; i++) {
    const start = performance.now();
    await f();
    ms.push(performance.now() - start);
  }
  return median(ms);
}

/** CPU milliseconds of `f` in this thread, median of `repeats`. */
async function cpuMs(f: (r: number) => Promise<void>, repeats: number): Promise<number> {
  const ms: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const start = process.cpuUsage();
    await f(r);
    const d = process.cpuUsage(start);
    ms.push((d.user + d.system) / 1e3);
  }
  return median(ms);
}

/**
 * What 2 lanes would give on 2 free cores, from CPU times measured in this
 * thread (robust to other processes): trainStep on the whole batch against
 * the 2-lane critical path, i.e. the larger shard's gradients, the weight
 * broadcast, then summing and the update.
 */
async function idealRatio(
  config: TrainConfig,
  batch: Batch,
  repeats: number,
): Promise<{ whole: number; critical: number }> {
  const model = buildFcn8(config.model);
  const optimizer = adamOptimizer(config.learningRate);
  const vars = trainableVariables(model);
  const layout = VariableLayout.of(vars);
  const buffer = layout.allocate();
  const shards = splitBatch(batch, 2, 255, null);
  const larger = shards[shards.length - 1];
  await trainStep(model, optimizer, batch, config, 0, 255);
  const whole = await cpuMs(async (r) => {
    await trainStep(model, optimizer, batch, config, 1 + r, 255);
  }, repeats);
  const critical = await cpuMs(async (r) => {
    writeVariables(vars, layout, buffer);
    const { grads } = await lossGradients(model, shardBatch(batch, larger, false), {
      step: 1 + r,
      ignoreIndex: 255,
      classWeights: null,
      scale: larger.scale,
    });
    // The buffer stands in for the other lane's gradient, added as the stepper adds it.
    const summed = vars.map((v, i) => ({
      name: v.name,
      tensor: tf.tidy(() => tf.add(grads[v.name], tf.tensor(layout.view(buffer, i), v.shape))),
    }));
    optimizer.applyGradients(summed);
    tf.dispose([...Object.values(grads), ...summed.map((g) => g.tensor)]);
  }, repeats);
  model.dispose();
  optimizer.dispose();
  return { whole, critical };
}

/** Broadcast (main: read weights into the shared buffer; worker: load them) against one Adam update. */
async function syncCosts(
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
): Promise<{ write: number; load: number; adam: number }> {
  const vars = trainableVariables(model);
  const layout = VariableLayout.of(vars);
  const buffer = layout.allocate();
  const write = await timeMs(() => writeVariables(vars, layout, buffer));
  // The worker's side, done here on a copy of the variables so the model is untouched.
  const copies = vars.map((v) => tf.tidy(() => tf.variable(tf.zerosLike(v))));
  const load = await timeMs(() => readVariables(copies, layout, buffer));
  const grads = vars.map((v) => ({ name: v.name, tensor: tf.zerosLike(v) }));
  const adam = await timeMs(async () => {
    optimizer.applyGradients(grads);
    await vars[0].data();
  });
  tf.dispose([...copies, ...grads.map((g) => g.tensor)]);
  return { write, load, adam };
}

async function main(): Promise<void> {
  const backend = await selectBackend({ forced: 'wasm', log: null });
  const widths = arg('widths', '0.25,1').split(',').map(Number);
  const batches = arg('batches', '2,4').split(',').map(Number);
  const [h, w] = parseInputShape(arg('input', '96x288'));
  const steps = Number(arg('steps', '3'));
  const repeats = Number(arg('repeats', '3'));
  console.log(
    `${backend.line}; load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(
        ' ',
      )}; input ${h}x${w}, fc6 lite, ${steps} timed steps per run, ${repeats} runs each, 1 and 2 lanes alternating`,
  );

  for (const width of widths) {
    const config: TrainConfig = resolveTrainConfig('cpu', {
      batchSize: Math.max(...batches),
      model: { inputShape: [h, w], widthMultiplier: width, fc6: 'lite', dropout: 0 },
    });
    const singleModel = buildFcn8(config.model);
    const singleOpt = adamOptimizer(config.learningRate);
    const model = buildFcn8(config.model);
    const optimizer = adamOptimizer(config.learningRate);
    const dp = await createDataParallelStepper({ model, optimizer, config, workers: 2, ignoreIndex: 255 });
    const one: Stepper = (b, s) => trainStep(singleModel, singleOpt, b, config, s, 255);
    try {
      for (const size of batches) {
        const batch = sceneBatch(size, h, w);
        // Warm-up: first-call kernel setup and Adam's slots.
        await one(batch, 0);
        await dp.stepper(batch, 0);
        const t1: StepTime[] = [];
        const t2: StepTime[] = [];
        for (let r = 0; r < repeats; r++) {
          t1.push(await timeSteps(one, batch, 1 + r * steps, steps));
          t2.push(await timeSteps(dp.stepper, batch, 1 + r * steps, steps));
        }
        const [a, b] = [describe(t1, size), describe(t2, size)];
        console.log(
          `width ${width} batch ${size}: 1 lane ${a.line}; 2 lanes ${b.line}; ratio ${(b.ips / a.ips).toFixed(2)}`,
        );
        const ideal = await idealRatio(config, batch, repeats);
        console.log(
          `width ${width} batch ${size}: in-thread CPU ms: whole-batch step ${ideal.whole.toFixed(0)}, 2-lane critical path ` +
            `${ideal.critical.toFixed(0)}: ratio on 2 free cores about ${(ideal.whole / ideal.critical).toFixed(2)}`,
        );
      }
      const cost = await syncCosts(singleModel, singleOpt);
      const params = trainableVariables(singleModel).reduce((n, v) => n + v.size, 0);
      console.log(
        `width ${width}: ${(params / 1e6).toFixed(2)}M parameters; weight broadcast ${cost.write.toFixed(1)} ms (main) + ` +
          `${cost.load.toFixed(1)} ms (worker) per step, against ${cost.adam.toFixed(1)} ms for one Adam update`,
      );
    } finally {
      await dp.close();
      singleModel.dispose();
      singleOpt.dispose();
      model.dispose();
      optimizer.dispose();
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
