import { strict as assert } from 'node:assert';
import { accumulateConfusion, createConfusionMatrix } from '../../src/eval/confusion';
import { collapseWarning } from '../../src/eval/evaluate';

describe('eval/collapseWarning', () => {
  const NAMES = ['not road', 'road', 'car'];
  /** 100 pixels: labels 60/30/10, predictions given as counts per class. */
  const matrix = (predCounts: [number, number, number]) => {
    const labels = Uint8Array.from([...Array(60).fill(0), ...Array(30).fill(1), ...Array(10).fill(2)]);
    const preds = Uint8Array.from(predCounts.flatMap((n, c) => Array(n).fill(c)));
    const cm = createConfusionMatrix(3);
    accumulateConfusion(cm, labels, preds, 255);
    return cm;
  };

  it('warns when over 99% of pixels go to one class while two or more classes hold 5% of the labels', () => {
    assert.equal(
      collapseWarning(matrix([100, 0, 0]), NAMES),
      'validation predictions collapsed: 100.0% of pixels predicted as "not road" while 3 classes each hold 5% or more of the labels',
    );
  });

  it('is quiet for a prediction that uses several classes, and for an empty matrix', () => {
    assert.equal(collapseWarning(matrix([98, 2, 0]), NAMES), null);
    assert.equal(collapseWarning(createConfusionMatrix(3), NAMES), null);
  });
});
