import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../data/types';
import { pixelCrossEntropy } from '../model/loss';
import { batchTensors } from '../model/preprocess';
import { setDropoutStep } from '../model/step-dropout';
import { evaluateBatches, type EvalResult } from '../eval/evaluate';
import { DataError, FcnError, WorkerError } from '../util/errors';
import { learningRateAt, lossClassWeights, type TrainConfig } from '../run/config';
import type { TrainState } from '../run/checkpoint';
import { addL2Gradients, l2Factors } from './l2-gradient';
import { beforeTrainingStep } from '../backend';

/** Anything that yields the batches of an epoch (src/data BatchLoader). */
export interface BatchSource {
  readonly numBatches: number;
  epoch(epoch: number): AsyncIterable<Batch>;
  /** Samples that could not be read so far (e.g. deleted or truncated while training ran). */
  readonly skipped?: readonly { path: string; reason: string }[];
}

export interface BatchLogs {
  epoch: number;
  /** Index of the batch within the epoch, from 0. */
  batch: number;
  numBatches: number;
  step: number;
  /** Mean data (cross-entropy) loss of this batch over the pixels that count. */
  loss: number;
  /** Regularisation loss (L2) at this step; 0 without a regulariser. */
  regLoss: number;
  lr: number;
  /** Live tensors and backend bytes, so a leak shows while it happens. */
  numTensors: number;
  numBytes: number;
}

export interface EpochLogs {
  /** 1-based epoch number. */
  epoch: number;
  /** Mean data loss over the epoch's batches. */
  trainLoss: number;
  regLoss: number;
  /** Data loss on the validation split (pixels pooled), null without one. */
  valLoss: number | null;
  valMeanIoU: number | null;
  valPixelAccuracy: number | null;
  seconds: number;
  /** Warnings raised this epoch (one-class collapse, flat loss, tensor growth). */
  warnings: string[];
}

/** Training hooks with plain numbers (style.md "Training"); awaited, so a chart can repaint. */
export interface TrainCallbacks {
  onBatchEnd?: (step: number, logs: BatchLogs) => void | Promise<void>;
  onEpochEnd?: (epoch: number, logs: EpochLogs, state: TrainState) => void | Promise<void>;
}

/** Where to stop early: set `stop` (e.g. from a SIGINT handler) and the loop saves and returns after this batch. */
export interface StopFlag {
  stop: boolean;
}

export class TrainingDivergedError extends FcnError {}

/** The variables a step trains, in a fixed order (Adam keys its slots by position). */
export function trainableVariables(model: tf.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}

export interface StepResult {
  loss: number;
  regLoss: number;
}

/**
 * Runs one optimisation step on a batch. The default is trainStep in this
 * thread; the data-parallel trainer (src/train/workers.ts) provides one that
 * splits the batch over worker threads.
 */
export type Stepper = (batch: Batch, step: number) => Promise<StepResult>;

export interface LossGradients {
  /** Gradients keyed by variable name; the caller disposes them. */
  grads: tf.NamedTensorMap;
  loss: number;
  regLoss: number;
}

/**
 * Gradients of scale * dataLoss(batch) (+ the regularisation loss when
 * `withReg`) with respect to the model's trainable variables, and both
 * losses as numbers. Everything but the gradients is freed. An L2 penalty
 * is added in closed form (src/train/l2-gradient.ts), any other
 * regulariser through the tape.
 */
export async function lossGradients(
  model: tf.LayersModel,
  batch: Batch,
  opts: {
    step: number;
    ignoreIndex: number;
    classWeights: readonly number[] | null;
    scale?: number;
    withReg?: boolean;
  },
): Promise<LossGradients> {
  const { scale = 1, withReg = true } = opts;
  const l2 = withReg ? l2Factors(model) : null;
  const taped = withReg && l2 === null;
  setDropoutStep(model, opts.step);
  const vars = trainableVariables(model);
  beforeTrainingStep(vars);
  const { x, y } = batchTensors(batch);
  let dataLoss: tf.Scalar | null = null;
  let regLoss: tf.Scalar | null = null;
  const { value, grads } = tf.variableGrads(() => {
    const logits = model.apply(x, { training: true }) as tf.Tensor4D;
    const ce = pixelCrossEntropy(logits, y, opts.ignoreIndex, opts.classWeights);
    const data = scale === 1 ? ce : tf.mul<tf.Scalar>(ce, scale);
    const regs = taped ? model.calculateLosses() : [];
    // Pairwise adds: one addN over all 19 kernels needs more storage buffers than WebGPU allows per program (8).
    const reg = regs.length ? regs.reduce((a, b) => tf.add<tf.Scalar>(a, b)) : tf.scalar(0);
    dataLoss = tf.keep(data);
    regLoss = tf.keep(reg);
    return tf.add<tf.Scalar>(data, reg);
  }, vars);
  if (l2 !== null) {
    (regLoss as unknown as tf.Scalar).dispose();
    regLoss = addL2Gradients(grads, vars, l2);
  }
  const d = dataLoss as unknown as tf.Scalar;
  const r = regLoss as unknown as tf.Scalar;
  const [dv, rv] = await Promise.all([d.data(), r.data()]);
  tf.dispose([x, y, value, d, r]);
  return { grads, loss: dv[0], regLoss: rv[0] };
}

/**
 * One optimisation step on one batch: forward, backward, Adam update.
 * Returns the losses as plain numbers; no tensor outlives the call.
 */
export async function trainStep(
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  batch: Batch,
  config: TrainConfig,
  step: number,
  ignoreIndex = 255,
): Promise<StepResult> {
  const { grads, loss, regLoss } = await lossGradients(model, batch, {
    step,
    ignoreIndex,
    classWeights: lossClassWeights(config),
  });
  optimizer.applyGradients(grads);
  tf.dispose(Object.values(grads));
  return { loss, regLoss };
}

/** Lets timers, I/O and a notebook's display run between batches. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export interface FitOptions {
  config: TrainConfig;
  model: tf.LayersModel;
  optimizer: tf.Optimizer;
  train: BatchSource;
  val: BatchSource | null;
  classNames: readonly string[];
  ignoreIndex: number;
  /** The class the validation's KITTI road metrics score (null or absent: none). */
  roadClass?: number | null;
  /** Where training stands (fresh: epoch 0, step 0). Mutated as it goes. */
  state: TrainState;
  callbacks?: TrainCallbacks;
  /** Saves a checkpoint of the current state (the run folder's job). */
  save?: (state: TrainState) => Promise<void>;
  stop?: StopFlag;
  /** How a step is computed; default: trainStep(model, optimizer, ...) here. */
  stepper?: Stepper;
}

export type FitOutcome = 'done' | 'interrupted';

/**
 * The training loop, top to bottom: for each epoch, step through the shuffled
 * batches, then validate, report, checkpoint. A non-finite loss throws
 * TrainingDivergedError before anything is saved, so the last good
 * checkpoint stays. Resumes mid-epoch from `state`.
 */
export async function fit(opts: FitOptions): Promise<FitOutcome> {
  const { config, model, optimizer, train, val, state, callbacks = {}, stop } = opts;
  const stepper: Stepper =
    opts.stepper ?? ((batch, step) => trainStep(model, optimizer, batch, config, step, opts.ignoreIndex));
  const flatEpochs: number[] = [];
  for (let epoch = state.epoch; epoch < config.epochs; epoch++) {
    const started = Date.now();
    // Counted after the epoch's first step: Adam creates its slots on the very first one.
    let tensorsAtStart: number | null = null;
    let batchIndex = 0;
    const skippedBefore = train.skipped?.length ?? 0;
    try {
      for await (const batch of train.epoch(epoch)) {
        // 1. Skip what a resumed run already did in this epoch (the order is a function of seed and epoch).
        if (batchIndex < state.batchInEpoch) {
          batchIndex++;
          continue;
        }
        // 2. Forward, backward, update (at the schedule's rate: a function of the step, so a resume is exact).
        const lr = learningRateAt(config, state.step, config.epochs * train.numBatches);
        (optimizer as unknown as { learningRate: number }).learningRate = lr;
        const { loss, regLoss } = await stepper(batch, state.step);
        if (!Number.isFinite(loss) || !Number.isFinite(regLoss)) {
          throw new TrainingDivergedError(
            `loss became ${loss} at epoch ${epoch + 1}, batch ${batchIndex + 1} (step ${state.step}); ` +
              `the last good checkpoint is kept. Lower the learning rate (now ${config.learningRate}) and resume with --resume, ` +
              'or check the labels with `npx fcn data check`.',
          );
        }
        state.step++;
        state.batchInEpoch = ++batchIndex;
        state.partial.lossSum += loss;
        state.partial.regSum += regLoss;
        state.partial.batches++;
        const mem = tf.memory();
        tensorsAtStart ??= mem.numTensors;
        await callbacks.onBatchEnd?.(state.step, {
          epoch: epoch + 1,
          batch: batchIndex - 1,
          numBatches: train.numBatches,
          step: state.step,
          loss,
          regLoss,
          lr,
          numTensors: mem.numTensors,
          numBytes: mem.numBytes,
        });
        await yieldToEventLoop();
        if (stop?.stop) {
          await opts.save?.(state);
          return 'interrupted';
        }
      }
    } catch (err) {
      // A dead worker or data that changed under the run: nothing of the failed step was applied, so save what was
      // done.
      if (!(err instanceof WorkerError || err instanceof DataError) || !opts.save) throw err;
      await opts.save(state);
      err.message +=
        ` A checkpoint was saved at epoch ${epoch + 1}, batch ${state.batchInEpoch} (step ${state.step}); ` +
        (err instanceof WorkerError ? 'continue in one thread with --resume --workers 1.' : 'continue with --resume.');
      throw err;
    }
    // 3. Validate and report.
    const warnings: string[] = [];
    const skipped = train.skipped?.slice(skippedBefore) ?? [];
    if (skipped.length) {
      warnings.push(
        `skipped ${skipped.length} unreadable training sample${skipped.length > 1 ? 's' : ''} this epoch: ` +
          `${skipped
            .slice(0, 3)
            .map((s) => s.path)
            .join(', ')}${skipped.length > 3 ? ', ...' : ''}`,
      );
    }
    const trainLoss = state.partial.batches ? state.partial.lossSum / state.partial.batches : NaN;
    const regLoss = state.partial.batches ? state.partial.regSum / state.partial.batches : 0;
    let result: EvalResult | null = null;
    if (val && val.numBatches > 0) {
      result = await evaluateBatches(model, val.epoch(0), {
        classNames: opts.classNames,
        ignoreIndex: opts.ignoreIndex,
        roadClass: opts.roadClass,
      });
      if (result.collapseWarning) warnings.push(result.collapseWarning);
    }
    flatEpochs.push(trainLoss);
    const flat = flatLossWarning(flatEpochs, epoch);
    if (flat) warnings.push(flat);
    const growth = tensorsAtStart === null ? 0 : tf.memory().numTensors - tensorsAtStart;
    if (growth > 0)
      warnings.push(`tensor count grew by ${growth} over epoch ${epoch + 1}: a leak in a callback or custom code`);
    const logs: EpochLogs = {
      epoch: epoch + 1,
      trainLoss,
      regLoss,
      valLoss: result ? result.loss : null,
      valMeanIoU: result ? result.metrics.meanIoU : null,
      valPixelAccuracy: result ? result.metrics.pixelAccuracy : null,
      seconds: (Date.now() - started) / 1000,
      warnings,
    };
    // 4. Checkpoint: the epoch is done.
    state.epoch = epoch + 1;
    state.batchInEpoch = 0;
    state.partial = { lossSum: 0, regSum: 0, batches: 0 };
    await callbacks.onEpochEnd?.(epoch + 1, logs, state);
    await opts.save?.(state);
    if (stop?.stop) return epoch + 1 < config.epochs ? 'interrupted' : 'done';
  }
  return 'done';
}

/** Flags a loss that has not moved over the first epochs: often a learning rate or label problem. */
function flatLossWarning(losses: readonly number[], epoch: number): string | null {
  const window = 3;
  if (losses.length < window || epoch >= 10) return null;
  const recent = losses.slice(-window);
  const spread = (Math.max(...recent) - Math.min(...recent)) / Math.max(Math.abs(recent[0]), 1e-12);
  return spread < 0.005
    ? `train loss flat at ${recent[0].toFixed(4)} for ${window} epochs: try another learning rate or check the labels`
    : null;
}
