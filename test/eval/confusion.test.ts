import { strict as assert } from 'node:assert';
import { accumulateConfusion, createConfusionMatrix, segmentationMetrics } from '../../src/eval/confusion';
import { ConfigError, DataError } from '../../src/util/errors';

const close = (actual: number | null, expected: number, what: string) => {
  assert.ok(actual !== null, `${what} is null`);
  assert.ok(Math.abs(actual - expected) < 1e-12, `${what}: ${actual} != ${expected}`);
};

describe('eval/confusion', () => {
  // 4 classes, d absent from ground truth and prediction; the two ignored pixels
  // carry predictions 3 and 1 that must count nowhere.
  const labels = Uint8Array.from([0, 0, 0, 0, 1, 1, 1, 2, 2, 255, 255]);
  const preds = Uint8Array.from([0, 0, 0, 1, 1, 1, 2, 2, 0, 3, 1]);
  const names = ['a', 'b', 'c', 'd'];

  it('counts valid pixels with rows = ground truth, columns = prediction', () => {
    const cm = accumulateConfusion(createConfusionMatrix(4), labels, preds);
    assert.deepEqual(Array.from(cm.counts), [3, 1, 0, 0, 0, 2, 1, 0, 1, 0, 1, 0, 0, 0, 0, 0]);
  });

  it('derives every score from tp/fp/fn, with an absent class null and out of the mean', () => {
    const m = segmentationMetrics(accumulateConfusion(createConfusionMatrix(4), labels, preds), names);
    assert.equal(m.totalPixels, 9);
    close(m.pixelAccuracy, 6 / 9, 'pixel accuracy'); // (3 + 2 + 1) / 9
    // a: tp 3, fp 1 (gt c), fn 1 (pred b)
    const [a, b, c, d] = m.classes;
    assert.deepEqual([a.tp, a.fp, a.fn, a.gtPixels, a.predPixels], [3, 1, 1, 4, 4]);
    close(a.iou, 3 / 5, 'IoU a');
    close(a.precision, 3 / 4, 'precision a');
    close(a.recall, 3 / 4, 'recall a');
    close(a.f1, 6 / 8, 'F1 a'); // 2*3 / (2*3 + 1 + 1)
    // b: tp 2, fp 1, fn 1
    close(b.iou, 2 / 4, 'IoU b');
    close(b.precision, 2 / 3, 'precision b');
    close(b.recall, 2 / 3, 'recall b');
    close(b.f1, 4 / 6, 'F1 b');
    // c: tp 1, fp 1, fn 1
    close(c.iou, 1 / 3, 'IoU c');
    close(c.precision, 1 / 2, 'precision c');
    close(c.recall, 1 / 2, 'recall c');
    close(c.f1, 2 / 4, 'F1 c');
    assert.deepEqual([d.iou, d.precision, d.recall, d.f1, d.gtPixels], [null, null, null, null, 0]);
    assert.equal(m.classesInMean, 3);
    close(m.meanIoU, (3 / 5 + 1 / 2 + 1 / 3) / 3, 'mean IoU'); // 43/90
    // frequencies 4/9, 3/9, 2/9: 4/9*3/5 + 3/9*1/2 + 2/9*1/3 = 137/270
    close(m.frequencyWeightedIoU, 137 / 270, 'fw IoU');
  });

  it('keeps a class that is predicted but absent from the ground truth in the mean at IoU 0', () => {
    const cm = accumulateConfusion(createConfusionMatrix(2), Uint8Array.from([0, 0]), Uint8Array.from([0, 1]));
    const m = segmentationMetrics(cm, ['road', 'car']);
    // road: tp 1, fn 1 -> IoU 1/2, precision 1/1, recall 1/2; car: tp 0, fp 1 -> IoU 0/1
    close(m.classes[0].iou, 1 / 2, 'IoU road');
    close(m.classes[0].precision, 1, 'precision road');
    close(m.classes[0].recall, 1 / 2, 'recall road');
    close(m.classes[1].iou, 0, 'IoU car');
    close(m.classes[1].precision, 0, 'precision car');
    assert.equal(m.classes[1].recall, null);
    close(m.meanIoU, (1 / 2 + 0) / 2, 'mean IoU');
    close(m.frequencyWeightedIoU, 1 / 2, 'fw IoU'); // only road has ground truth, at frequency 1
  });

  it('pools over images: two calls equal one call on the concatenation', () => {
    const split = createConfusionMatrix(4);
    accumulateConfusion(split, labels.subarray(0, 5), preds.subarray(0, 5));
    accumulateConfusion(split, labels.subarray(5), preds.subarray(5));
    const whole = accumulateConfusion(createConfusionMatrix(4), labels, preds);
    assert.deepEqual(Array.from(split.counts), Array.from(whole.counts));
  });

  it('takes Int32Array maps and another ignore index', () => {
    const cm = accumulateConfusion(
      createConfusionMatrix(2),
      Int32Array.from([-1, 1, 0]),
      Int32Array.from([0, 1, 1]),
      -1,
    );
    assert.deepEqual(Array.from(cm.counts), [0, 1, 0, 1]);
  });

  it('throws DataError naming a label that is neither a class nor ignore', () => {
    assert.throws(
      () => accumulateConfusion(createConfusionMatrix(4), Uint8Array.from([0, 7]), Uint8Array.from([0, 0])),
      (e: unknown) => e instanceof DataError && /label 7 at pixel 1/.test(e.message),
    );
  });

  it('throws DataError on a prediction out of range and on a size mismatch', () => {
    assert.throws(
      () => accumulateConfusion(createConfusionMatrix(2), Uint8Array.from([0]), Uint8Array.from([2])),
      (e: unknown) => e instanceof DataError && /prediction 2/.test(e.message),
    );
    assert.throws(
      () => accumulateConfusion(createConfusionMatrix(2), new Uint8Array(3), new Uint8Array(2)),
      (e: unknown) => e instanceof DataError && /3 pixels but predictions 2/.test(e.message),
    );
  });

  it('refuses an empty matrix, a wrong name count and a bad class count', () => {
    assert.throws(() => segmentationMetrics(createConfusionMatrix(2), ['a', 'b']), DataError);
    assert.throws(
      () => segmentationMetrics(createConfusionMatrix(2), ['a']),
      (e: unknown) => e instanceof ConfigError && /1 class names for a 2-class/.test(e.message),
    );
    assert.throws(() => createConfusionMatrix(0), ConfigError);
  });
});
