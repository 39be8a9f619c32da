import { strict as assert } from 'node:assert';
import { accumulateRoadCurve, createRoadCurve, roadMetrics } from '../../src/eval/kitti-maxf';
import { DataError } from '../../src/util/errors';

const close = (actual: number | null, expected: number, what: string) => {
  assert.ok(actual !== null, `${what} is null`);
  assert.ok(Math.abs(actual - expected) < 1e-12, `${what}: ${actual} != ${expected}`);
};

describe('eval/kitti-maxf', () => {
  // Road pixels at p = 1, 0.8, 0.4 (q = 255, 204, 102), non-road at 0.6, 0.2, 0 (q = 153, 51, 0).
  // Positive iff q >= k:
  //   k = 0          TP 3 FP 3  PRE 1/2 REC 1    F 2/3
  //   k = 1..51      TP 3 FP 2  PRE 3/5 REC 1    F 3/4
  //   k = 52..102    TP 3 FP 1  PRE 3/4 REC 1    F 6/7   <- MaxF, first at k = 52
  //   k = 103..153   TP 2 FP 1  PRE 2/3 REC 2/3  F 2/3
  //   k = 154..204   TP 2 FP 0  PRE 1   REC 2/3  F 4/5
  //   k = 205..255   TP 1 FP 0  PRE 1   REC 1/3  F 1/2
  // AP: recall >= 0 .. 0.6 reaches precision 1 (7 levels), >= 0.7 .. 1 only 3/4 (4 levels) -> (7 + 3) / 11.
  const probs = Float32Array.from([1, 0.8, 0.4, 0.6, 0.2, 0]);
  const labels = Uint8Array.from([1, 1, 1, 0, 0, 0]);

  it('scores a hand-computed curve', () => {
    const m = roadMetrics(accumulateRoadCurve(createRoadCurve(), probs, labels));
    close(m.maxF, 6 / 7, 'MaxF');
    close(m.threshold, 52 / 255, 'threshold');
    close(m.precision, 3 / 4, 'PRE');
    close(m.recall, 1, 'REC');
    close(m.fpr, 1 / 3, 'FPR');
    close(m.fnr, 0, 'FNR');
    close(m.ap, 10 / 11, 'AP');
    assert.deepEqual([m.tp, m.fp, m.fn, m.tn], [3, 1, 0, 2]);
    assert.equal(m.curve.length, 256); // no point has PRE = REC = 0
  });

  it('pools counts over images and skips ignore pixels', () => {
    const acc = createRoadCurve();
    accumulateRoadCurve(acc, probs.subarray(0, 2), labels.subarray(0, 2));
    // A third image whose only labelled pixels are the rest; the 255s carry wrong, extreme confidences.
    accumulateRoadCurve(
      acc,
      Float32Array.from([...probs.subarray(2), 1, 0]),
      Uint8Array.from([...labels.subarray(2), 255, 255]),
    );
    const pooled = roadMetrics(acc);
    const whole = roadMetrics(accumulateRoadCurve(createRoadCurve(), probs, labels));
    assert.deepEqual(pooled, whole);
  });

  it('gives MaxF 1 and AP 1 for a perfect prediction', () => {
    const m = roadMetrics(
      accumulateRoadCurve(createRoadCurve(), Float32Array.from([1, 1, 0, 0, 0]), Uint8Array.from([1, 1, 0, 0, 255])),
    );
    close(m.maxF, 1, 'MaxF');
    close(m.ap, 1, 'AP');
    close(m.fpr, 0, 'FPR');
  });

  it('quantises to 8 bit as the devkit does: p 0.2001 and 0.2 fall in one bin', () => {
    // Both round to q = 51, so no threshold separates them: k <= 51 gives PRE 1/2 REC 1 (F 2/3),
    // k > 51 predicts nothing (PRE = REC = 0, dropped). Unquantised, t = 0.20005 would give F 1.
    const m = roadMetrics(
      accumulateRoadCurve(createRoadCurve(), Float32Array.from([0.2001, 0.2]), Uint8Array.from([1, 0])),
    );
    close(m.maxF, 2 / 3, 'MaxF');
    close(m.threshold, 0, 'threshold');
    close(m.ap, 1 / 2, 'AP');
    assert.equal(m.curve.length, 52);
    assert.ok(m.curve.every((p) => p.precision > 0 || p.recall > 0));
  });

  it('accepts float overshoot of a probability by less than half a level', () => {
    const m = roadMetrics(
      accumulateRoadCurve(createRoadCurve(), Float32Array.from([1 + 1e-6, -1e-6]), Uint8Array.from([1, 0])),
    );
    close(m.maxF, 1, 'MaxF');
    assert.deepEqual([m.tp, m.fp, m.fn, m.tn], [1, 0, 0, 1]); // both counted, at q = 255 and q = 0
    assert.throws(
      () => accumulateRoadCurve(createRoadCurve(), Float32Array.from([1.01]), Uint8Array.from([1])),
      (e: unknown) => e instanceof DataError && /is not a probability/.test(e.message),
    );
  });

  it('throws DataError on a bad label, a non-probability, a size mismatch and a curve without road', () => {
    assert.throws(
      () => accumulateRoadCurve(createRoadCurve(), Float32Array.from([0.5]), Uint8Array.from([2])),
      (e: unknown) => e instanceof DataError && /road label 2 at pixel 0/.test(e.message),
    );
    assert.throws(
      () => accumulateRoadCurve(createRoadCurve(), Float32Array.from([0.5, NaN]), Uint8Array.from([1, 1])),
      (e: unknown) => e instanceof DataError && /roadProb\[1\] = NaN/.test(e.message),
    );
    assert.throws(() => accumulateRoadCurve(createRoadCurve(), new Float32Array(2), new Uint8Array(3)), DataError);
    assert.throws(
      () => roadMetrics(accumulateRoadCurve(createRoadCurve(), Float32Array.from([0.3]), Uint8Array.from([0]))),
      (e: unknown) => e instanceof DataError && /no road pixels/.test(e.message),
    );
  });
});
