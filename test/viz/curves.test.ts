import { strict as assert } from 'node:assert';
import { confusionHeatmap, figureHtml, lossChart } from '../../src/viz/curves';
import { accumulateConfusion, createConfusionMatrix } from '../../src/eval/confusion';
import { ConfigError } from '../../src/util/errors';

describe('viz/curves', () => {
  const history = [
    { epoch: 1, trainLoss: 0.9, valLoss: 1.0 },
    { epoch: 2, trainLoss: 0.6, valLoss: null },
    { epoch: 3, trainLoss: 0.4, valLoss: 0.5 },
  ];

  it('lossChart: train and validation traces on epochs, validation only where it ran', () => {
    const fig = lossChart(history, { title: 'run 7' });
    assert.deepEqual(
      fig.data.map((t) => t.name),
      ['train', 'validation'],
    );
    assert.deepEqual(fig.data[0].x, [1, 2, 3]);
    assert.deepEqual(fig.data[0].y, [0.9, 0.6, 0.4]);
    assert.deepEqual(fig.data[1].x, [1, 3]);
    assert.deepEqual(fig.data[1].y, [1.0, 0.5]);
    assert.deepEqual(fig.layout.title, { text: 'run 7' });
    assert.deepEqual(fig.layout.xaxis, { title: { text: 'epoch' } });
  });

  it('lossChart: regularisation loss as a dashed third trace when recorded', () => {
    const fig = lossChart(history.map((h, i) => ({ ...h, regLoss: 0.1 / (i + 1) })));
    assert.deepEqual(
      fig.data.map((t) => t.name),
      ['train', 'validation', 'regularisation'],
    );
    assert.deepEqual(fig.data[2].line, { dash: 'dash' });
    assert.deepEqual(fig.data[2].y, [0.1, 0.05, 0.1 / 3]);
    assert.equal(fig.data[0].line, undefined);
  });

  it('confusionHeatmap: rows divided by their ground-truth totals, absent rows null', () => {
    // gt 0: [3, 1, 0] -> [3/4, 1/4, 0]; gt 1: [0, 2, 0] -> [0, 1, 0]; gt 2 absent -> nulls
    const cm = accumulateConfusion(
      createConfusionMatrix(3),
      Uint8Array.from([0, 0, 0, 0, 1, 1]),
      Uint8Array.from([0, 0, 0, 1, 1, 1]),
    );
    const fig = confusionHeatmap(cm, ['road', 'car', 'sky']);
    assert.equal(fig.data.length, 1);
    assert.equal(fig.data[0].type, 'heatmap');
    assert.deepEqual(fig.data[0].z, [
      [3 / 4, 1 / 4, 0],
      [0, 1, 0],
      [null, null, null],
    ]);
    assert.deepEqual(fig.data[0].x, ['road', 'car', 'sky']);
    assert.deepEqual(fig.data[0].y, ['road', 'car', 'sky']);
    assert.throws(() => confusionHeatmap(cm, ['road']), ConfigError);
  });

  it('figureHtml: a standalone page with plotly inlined and the spec escaped', () => {
    const fig = lossChart(history, { title: 'loss </script><b>' });
    const html = figureHtml(fig);
    assert.match(html, /^<!DOCTYPE html>/);
    assert.match(html, /plotly\.js v3\.7\.0/); // the bundle's banner: inlined, not linked
    assert.doesNotMatch(html, /<script[^>]+src=/);
    assert.match(html, /<title>loss &lt;\/script&gt;&lt;b&gt;<\/title>/);
    // The only "</script" are the two element ends: the title inside the JSON is escaped.
    assert.equal(html.split('</script>').length - 1, 2);
    const call = /Plotly\.newPlot\('figure', (.*), (.*), \{responsive: true\}\);/.exec(html);
    assert.ok(call, 'newPlot call present');
    assert.deepEqual(JSON.parse(call[1]), fig.data);
    assert.deepEqual(JSON.parse(call[2]), fig.layout);
  });
});
