import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { Batch } from '../data/types';
import { lossGradients, trainableVariables } from './loop';

/**
 * The pieces of data-parallel training that every lane (main thread or
 * worker) shares: how a batch is cut into shards, and the gradient of one
 * shard's share of the whole-batch loss.
 */

/** Images [from, to) of a batch, with the factor that turns its mean loss into its share of the batch's. */
export interface Shard {
  readonly from: number;
  readonly to: number;
  /**
   * The shard's loss weight (valid pixels, or their summed class weight)
   * over the whole batch's: pixelCrossEntropy divides by that weight, so
   * scale * shardLoss summed over shards is the whole-batch loss. 0 where
   * the shard has no valid pixel (its loss and gradient are 0 then, not NaN).
   */
  readonly scale: number;
}

/**
 * Sum of the per-pixel loss weights of images [from, to): the divisor
 * pixelCrossEntropy uses. A label that is not ignoreIndex counts 1, or its
 * class weight (0 for an id with no weight, as the one-hot row is empty).
 */
export function lossWeight(
  batch: Batch,
  from: number,
  to: number,
  ignoreIndex: number,
  classWeights: readonly number[] | null,
): number {
  const pixels = batch.height * batch.width;
  const labels = batch.labels;
  let sum = 0;
  for (let i = from * pixels; i < to * pixels; i++) {
    const id = labels[i];
    if (id !== ignoreIndex) sum += classWeights ? (classWeights[id] ?? 0) : 1;
  }
  return sum;
}

/**
 * Cuts a batch of B images into min(lanes, B) contiguous shards as even as
 * possible; the larger ones go last, so lane 0 (the main thread, which also
 * combines and applies the gradients) gets the smaller share.
 */
export function splitBatch(
  batch: Batch,
  lanes: number,
  ignoreIndex: number,
  classWeights: readonly number[] | null,
): Shard[] {
  const images = batch.ids.length;
  const used = Math.max(1, Math.min(lanes, images));
  const base = Math.floor(images / used);
  const extra = images % used;
  const ranges: [number, number][] = [];
  for (let lane = 0, from = 0; lane < used; lane++) {
    const size = base + (lane >= used - extra ? 1 : 0);
    ranges.push([from, from + size]);
    from += size;
  }
  const weights = ranges.map(([from, to]) => lossWeight(batch, from, to, ignoreIndex, classWeights));
  const total = weights.reduce((a, b) => a + b, 0);
  return ranges.map(([from, to], i) => ({ from, to, scale: total > 0 ? weights[i] / total : 0 }));
}

/** Images [from, to) of a batch; copies when `copy` (a view would post its whole buffer to a worker). */
export function shardBatch(batch: Batch, shard: Shard, copy: boolean): Batch {
  const pixels = batch.height * batch.width;
  const cut = (a: Uint8Array, per: number) =>
    copy ? a.slice(shard.from * per, shard.to * per) : a.subarray(shard.from * per, shard.to * per);
  return {
    ids: batch.ids.slice(shard.from, shard.to),
    height: batch.height,
    width: batch.width,
    images: cut(batch.images, pixels * 3),
    labels: cut(batch.labels, pixels),
  };
}

/**
 * Writes the gradients of scale * dataLoss(shard) with respect to the
 * model's trainable variables into into(i), straight from the wasm heap
 * (data-parallel training runs on wasm only), and returns scale * the
 * shard's mean data loss: its part of the whole-batch loss. No tensor
 * outlives the call. A worker's share; the main lane adds the
 * regularisation term to its own (src/train/workers.ts).
 */
export async function shardGradients(
  model: tf.LayersModel,
  shard: Batch,
  scale: number,
  step: number,
  ignoreIndex: number,
  classWeights: readonly number[] | null,
  into: (variable: number) => Float32Array,
): Promise<number> {
  const vars = trainableVariables(model);
  const { grads, loss } = await lossGradients(model, shard, { step, ignoreIndex, classWeights, scale, withReg: false });
  const backend = tf.backend() as BackendWasm;
  vars.forEach((v, i) => {
    const g = grads[v.name];
    // A variable the loss does not reach has no entry; its share is zero.
    if (g) into(i).set(backend.typedArrayFromHeap(g));
    else into(i).fill(0);
  });
  tf.dispose(Object.values(grads));
  return loss;
}
