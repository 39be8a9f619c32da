import { strict as assert } from 'node:assert';
import { accumulateConfusion, createConfusionMatrix, segmentationMetrics } from '../../src/eval/confusion';
import { accumulateRoadCurve, createRoadCurve, roadMetrics } from '../../src/eval/kitti-maxf';
import { formatMetricsTable } from '../../src/eval/format';

describe('eval/format', () => {
  // Same matrix as confusion.test.ts: IoU a 3/5, b 1/2, c 1/3, d absent; mean 43/90 = 47.78 %.
  const cm = accumulateConfusion(
    createConfusionMatrix(4),
    Uint8Array.from([0, 0, 0, 0, 1, 1, 1, 2, 2, 255]),
    Uint8Array.from([0, 0, 0, 1, 1, 1, 2, 2, 0, 3]),
  );
  const metrics = segmentationMetrics(cm, ['road', 'sidewalk', 'car', 'bicycle']);

  it('prints per-class rows, the summary and the policy line', () => {
    const text = formatMetricsTable(metrics);
    const lines = text.split('\n');
    assert.match(lines[0], /^class\s+IoU\s+precision\s+recall\s+F1\s+gt pixels$/);
    assert.match(text, /^road\s+60\.00\s+75\.00\s+75\.00\s+75\.00\s+4$/m);
    assert.match(text, /^car\s+33\.33\s+50\.00\s+50\.00\s+50\.00\s+2$/m);
    assert.match(text, /^bicycle\s+-\s+-\s+-\s+-\s+0$/m);
    assert.match(text, /^mean IoU\s+47\.78\s+\(3 of 4 classes\)$/m);
    assert.match(text, /^pixel accuracy\s+66\.67\s+\(9 valid pixels\)$/m);
    assert.match(text, /Pixels labelled with the ignore label count nowhere/);
    assert.match(text, /left out of the mean IoU/);
    assert.doesNotMatch(text, /MaxF/);
  });

  it('adds the road block when road metrics are given', () => {
    // The kitti-maxf.test.ts curve: MaxF 6/7, AP 10/11, PRE 3/4, REC 1, FPR 1/3, FNR 0 at k = 52.
    const road = roadMetrics(
      accumulateRoadCurve(
        createRoadCurve(),
        Float32Array.from([1, 0.8, 0.4, 0.6, 0.2, 0]),
        Uint8Array.from([1, 1, 1, 0, 0, 0]),
      ),
    );
    const text = formatMetricsTable(metrics, road);
    assert.match(text, /^MaxF\s+AP\s+PRE\s+REC\s+FPR\s+FNR\s+threshold$/m);
    assert.match(text, /^85\.71\s+90\.91\s+75\.00\s+100\.00\s+33\.33\s+0\.00\s+0\.2039$/m);
  });
});
