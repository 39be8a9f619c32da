import { strict as assert } from 'node:assert';
import { DATASET_NAMES } from '../../src/data/registry';
import { PRESETS, learningRateAt, lossClassWeights, resolveTrainConfig } from '../../src/run/config';
import { medianFrequencyWeights } from '../../src/train/class-weights';
import { ConfigError } from '../../src/util/errors';

describe('run/config: presets per dataset, schedules, class weights', () => {
  it("presets keep each dataset's aspect ratio (KITTI about 3.3:1, Cityscapes 2:1, CamVid 4:3)", () => {
    const aspect = {
      'kitti-road': [3, 3.6],
      'kitti-semantic': [3, 3.6],
      cityscapes: [2, 2],
      camvid: [4 / 3, 4 / 3],
    } as const;
    for (const dataset of DATASET_NAMES) {
      // KITTI's smoke preset stays small and square-ish: it only checks that everything runs.
      const presets = dataset.startsWith('kitti') ? ['paper', 'cpu'] : Object.keys(PRESETS);
      for (const preset of presets) {
        const [h, w] = resolveTrainConfig(preset, {}, dataset).model.inputShape;
        const [lo, hi] = aspect[dataset];
        assert.ok(w / h >= lo - 1e-9 && w / h <= hi + 1e-9, `${dataset} ${preset}: ${h}x${w}`);
      }
    }
  });

  it('a dataset preset is overridden by explicit values, and leaves the other presets alone', () => {
    assert.deepEqual(
      resolveTrainConfig('cpu', { model: { inputShape: [96, 128] } }, 'camvid').model.inputShape,
      [96, 128],
    );
    assert.deepEqual(resolveTrainConfig('cpu').model.inputShape, PRESETS.cpu.model.inputShape);
  });

  it('learning-rate schedules: constant, poly and cosine from the peak to 0', () => {
    const at = (lrSchedule: 'constant' | 'poly' | 'cosine', step: number) =>
      learningRateAt({ learningRate: 1e-3, lrSchedule }, step, 100);
    assert.equal(at('constant', 50), 1e-3);
    assert.equal(at('poly', 0), 1e-3);
    assert.ok(Math.abs(at('poly', 50) - 1e-3 * 0.5 ** 0.9) < 1e-12);
    assert.equal(at('poly', 100), 0);
    assert.ok(Math.abs(at('cosine', 50) - 5e-4) < 1e-12);
    assert.ok(at('cosine', 100) < 1e-18);
    assert.throws(
      () => resolveTrainConfig('cpu', { lrSchedule: 'step' as never }),
      /lrSchedule must be one of constant, poly, cosine/,
    );
  });

  it('median-frequency weights by hand: freq = pixels / pixels of the images holding the class', () => {
    // Class 0: 30 of 100 px; class 1: 10 of 100 px (in one image of 100); class 2: 5 of 50 px; class 3 absent.
    const w = medianFrequencyWeights([30, 10, 5, 0], [100, 100, 50, 0]);
    // freq = 0.3, 0.1, 0.1 → median 0.1 → weights 1/3, 1, 1; absent class 0.
    assert.deepEqual(
      w.map((x) => Number(x.toFixed(6))),
      [0.333333, 1, 1, 0],
    );
  });

  it('class weights: explicit values are checked, median-frequency must be resolved before the loss', () => {
    assert.throws(
      () => resolveTrainConfig('cpu', { classWeights: [1, 2, 3] }),
      /classWeights has 3 entries; the model has 2 classes/,
    );
    assert.throws(
      () => resolveTrainConfig('cpu', { classWeights: [1, -1] }),
      /classWeights\[1\] must be a finite number >= 0/,
    );
    const c = resolveTrainConfig('cpu', { classWeights: 'median-frequency' });
    assert.throws(() => lossClassWeights(c), ConfigError);
    assert.deepEqual(lossClassWeights(resolveTrainConfig('cpu', { classWeights: [1, 2] })), [1, 2]);
  });
});
