import * as tf from '@tensorflow/tfjs';
import { strict as assert } from 'node:assert';
import type { Batch } from '../../src/data/types';
import { findWorstSamples, rankWorst, sampleMeanIoU, type SampleScore } from '../../src/eval/worst';
import { ConfigError } from '../../src/util/errors';
import { useBackend } from '../helpers';

const s = (id: string, loss: number, meanIoU: number | null): SampleScore => ({ id, loss, meanIoU });

describe('worst validation images', () => {
  before(() => useBackend('wasm'));

  it('sampleMeanIoU: per-image mean over the classes present, ignore pixels skipped', () => {
    // labels 0 0 1 1 255, preds 0 1 1 1 0:
    // class 0: tp 1, union 2 + 1 - 1 = 2 -> 1/2; class 1: tp 2, union 2 + 3 - 2 = 3 -> 2/3; class 2 absent -> left out.
    const iou = sampleMeanIoU(Uint8Array.from([0, 0, 1, 1, 255]), Uint8Array.from([0, 1, 1, 1, 0]), 3, 255);
    assert.ok(iou !== null && Math.abs(iou - (1 / 2 + 2 / 3) / 2) < 1e-12, `got ${iou}`);
    assert.equal(sampleMeanIoU(Uint8Array.from([255, 255]), Uint8Array.from([0, 1]), 2, 255), null);
  });

  it('rankWorst: highest loss or lowest IoU first, ties by id, unscored last', () => {
    const scores = [s('b', 0.5, 0.2), s('a', 0.5, 0.9), s('c', 0.9, null), s('d', NaN, 0.1)];
    assert.deepEqual(
      rankWorst(scores, 3, 'loss').map((x) => x.id),
      ['c', 'a', 'b'],
    );
    assert.deepEqual(
      rankWorst(scores, 4, 'iou').map((x) => x.id),
      ['d', 'b', 'a', 'c'],
    );
    assert.deepEqual(
      rankWorst(scores, 10, 'loss').map((x) => x.id),
      ['c', 'a', 'b', 'd'],
    );
    assert.throws(
      () => rankWorst(scores, 0, 'loss'),
      (e: Error) => e instanceof ConfigError && /positive integer; got 0/.test(e.message),
    );
    assert.throws(() => rankWorst(scores, 1, 'miou' as 'iou'), /ranked by 'loss' or 'iou'; got "miou"/);
  });

  it('findWorstSamples: scores every image, keeps the k worst with image, labels and prediction', async () => {
    // 3 images of 1x2 pixels, labels [0, 1] each. Logits make image 0 right, image 1 half wrong, image 2 all wrong.
    const labels = Uint8Array.from([0, 1, 0, 1, 0, 1]);
    const images = Uint8Array.from({ length: 18 }, (_, i) => i * 10);
    const batches: Batch[] = [
      { ids: ['img0', 'img1'], height: 1, width: 2, images: images.slice(0, 12), labels: labels.slice(0, 4) },
      { ids: ['img2'], height: 1, width: 2, images: images.slice(12), labels: labels.slice(4) },
    ];
    const logitsOf: Record<number, number[]> = {
      2: [4, 0, 0, 4, /* img1 */ 4, 0, 4, 0],
      1: [0, 4, 4, 0],
    };
    const model = {
      predict: (x: tf.Tensor4D) => tf.tensor4d(logitsOf[x.shape[0]], [x.shape[0], 1, 2, 2]),
    } as unknown as tf.LayersModel;
    async function* source() {
      yield* batches;
    }
    const tensors = tf.memory().numTensors;
    const { worst, scores } = await findWorstSamples(model, source(), {
      k: 2,
      by: 'iou',
      numClasses: 2,
      ignoreIndex: 255,
    });
    assert.equal(tf.memory().numTensors, tensors);
    assert.deepEqual(
      scores.map((x) => x.id),
      ['img0', 'img1', 'img2'],
    );
    // img1: class 0 tp 1 union 2 -> 1/2; class 1 tp 0 union 1 -> 0; mean 1/4. img2: both 0.
    assert.deepEqual(
      scores.map((x) => x.meanIoU),
      [1, 0.25, 0],
    );
    assert.ok(scores[0].loss < scores[1].loss && scores[1].loss < scores[2].loss);
    assert.deepEqual(
      worst.map((x) => x.id),
      ['img2', 'img1'],
    );
    assert.deepEqual(Array.from(worst[0].prediction.data), [1, 0]);
    assert.deepEqual(Array.from(worst[0].label.data), [0, 1]);
    assert.deepEqual(Array.from(worst[0].image.data), Array.from(images.slice(12)));
    assert.deepEqual([worst[1].image.height, worst[1].image.width], [1, 2]);
    assert.deepEqual(Array.from(worst[1].image.data), Array.from(images.slice(6, 12)));
  });
});
