import * as tf from '@tensorflow/tfjs';
import * as path from 'node:path';
import { buildFcn8 } from '../../src/model/fcn8';
import { RUN_FILES, saveCheckpoint } from '../../src/run/checkpoint';
import { writeJson } from '../../src/util/storage';
import { resolveTrainConfig } from '../../src/run/config';
import type { RgbImage } from '../../src/data/types';
import { predict } from '../../src/infer/predict';
import { loadRun } from '../../src/run/load-run';

const STATE = { epoch: 1, step: 1, batchInEpoch: 0, partial: { lossSum: 0, regSum: 0, batches: 0 } };

export const ROAD_CLASSES = [
  { name: 'not road', color: [255, 0, 0] },
  { name: 'road', color: [255, 0, 255] },
] as const;

/** A run folder with a randomly initialised small model (score layers made non-zero). */
export async function fakeRun(dir: string, dropout: number) {
  const config = resolveTrainConfig('smoke', { model: { dropout, inputShape: [64, 96] } });
  const model = buildFcn8(config.model);
  for (const name of ['score_fr', 'score_pool4', 'score_pool3']) {
    const layer = model.getLayer(name);
    const w = layer.getWeights().map((t, i) => tf.randomNormal(t.shape, 0, 0.5, 'float32', 7 + i));
    layer.setWeights(w);
    tf.dispose(w);
  }
  const optimizer = tf.train.adam(1e-3);
  await saveCheckpoint(dir, model, optimizer, STATE);
  writeJson(path.join(dir, RUN_FILES.config), config);
  writeJson(path.join(dir, RUN_FILES.dataset), { name: 'kitti-road', dir: '/nowhere', classes: ROAD_CLASSES });
  model.dispose();
  optimizer.dispose();
}

/**
 * Shifts the road logit of a fake run (score_pool3's bias, which reaches
 * every pixel through the bilinear upscore8) so that about half of the
 * pixels of `images` come out as road: a random model otherwise predicts one
 * class almost everywhere, and a test comparing label maps would compare constants.
 */
export async function balanceRoad(dir: string, images: readonly RgbImage[]): Promise<number[]> {
  const run = await loadRun(dir);
  const margins: number[] = [];
  for (const image of images) {
    const p = await predict(run.model, image, { inputShape: run.config.model.inputShape });
    for (let i = 0; i < p.height * p.width; i++) margins.push(Math.log(p.probs[2 * i + 1] / p.probs[2 * i]));
  }
  margins.sort((a, b) => a - b);
  const median = margins[margins.length >> 1];
  const layer = run.model.getLayer('score_pool3');
  const [kernel, bias] = layer.getWeights();
  const shifted = tf.add(bias, tf.tensor1d([0, -median]));
  layer.setWeights([kernel, shifted]);
  shifted.dispose();
  const fractions: number[] = [];
  for (const image of images) {
    const p = await predict(run.model, image, { inputShape: run.config.model.inputShape });
    fractions.push(p.labels.data.reduce((n, v) => n + v, 0) / p.labels.data.length);
  }
  const optimizer = tf.train.adam(1e-3);
  await saveCheckpoint(dir, run.model, optimizer, STATE);
  optimizer.dispose();
  run.model.dispose();
  return fractions;
}
