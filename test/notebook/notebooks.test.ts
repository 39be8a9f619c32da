import { strict as assert } from 'node:assert';
import type { DatasetName } from '../../src/data/types';
import { joined, readOutputs, useExecutedNotebooks } from './executed';

describe('notebooks, executed headless (smoke preset, generated data)', function () {
  const run = useExecutedNotebooks();

  const datasets: DatasetName[] = ['kitti-road', 'kitti-semantic', 'cityscapes', 'camvid'];
  // The notebooks with a "what went wrong" cell (confusion heatmap, worst images).
  const analysed = (d: DatasetName) => d === 'kitti-road' || d === 'camvid';
  for (const dataset of datasets) {
    it(`${dataset}: runs to the end with the live Plotly chart and inline PNGs`, () => {
      const outputs = readOutputs(run().outputs[dataset].notebook);
      assert.equal(outputs.filter((o) => o.output_type === 'error').length, 0);
      const html = outputs.map((o) => joined(o.data?.['text/html'])).filter(Boolean);
      // plotly.js once, then the chart: one output, redrawn in place, holding both traces.
      assert.equal(html.filter((h) => h.includes('window.Plotly = Plotly')).length, 1);
      const figures = html.filter((h) => h.includes('class="fcn-figure"'));
      const charts = figures.filter((h) => h.includes('"name":"train"'));
      assert.equal(charts.length, 1);
      // The "what went wrong" cell adds the confusion heatmap and the worst-images grid.
      const heatmaps = figures.filter((h) => h.includes('"type":"heatmap"'));
      assert.equal(heatmaps.length, analysed(dataset) ? 1 : 0);
      assert.match(charts[0], /"name":"train"/);
      assert.match(charts[0], /"name":"validation"/);
      assert.doesNotMatch(charts[0], /regularisation/, 'the smoke preset has no L2 term to draw');
      // Two epochs drawn: x = [1, 2] for the train trace.
      assert.match(charts[0], /"x":\[1,2\]/);
      const pngs = outputs.filter((o) => o.data?.['image/png']);
      const expectedPngs = analysed(dataset) ? 3 : 2;
      assert.ok(pngs.length >= expectedPngs, `expected the data grid, the test grid${analysed(dataset) ? ' and the worst images' : ''}, got ${pngs.length} PNGs`);
      const text = outputs.map((o) => joined(o.text)).join('');
      assert.match(text, /backend: \w+/);
      assert.match(text, /preset\s+smoke \(FCN_PRESET\)/);
      assert.match(text, /mean IoU\s+\d+\.\d\d/);
      assert.match(text, /figures: /);
      if (dataset === 'kitti-road') assert.match(text, /MaxF\s+AP/);
      if (analysed(dataset)) {
        assert.match(text, /worst \d+ by loss: /);
        assert.match(text, /Pixels labelled 255 \(ignore\) count nowhere/);
      }
      if (dataset === 'camvid') assert.match(text, /input size\s+96x128/, 'CamVid\'s smoke preset keeps 4:3');
    });
  }

  it('a missing dataset prints how to get it, and the later cells skip without an error', () => {
    const outputs = readOutputs(run().missing.notebook);
    assert.equal(outputs.filter((o) => o.output_type === 'error').length, 0);
    const text = outputs.map((o) => joined(o.text)).join('');
    assert.match(text, /no-such-folder is missing/);
    assert.match(text, /To get kitti-semantic: unzip/);
    assert.match(text, /training: skipped \(no kitti-semantic data/);
    assert.equal(text.match(/To get kitti-semantic/g)?.length, 1, 'the how-to is printed once');
    assert.match(text, /figures: skipped/);
    assert.equal(outputs.filter((o) => o.data?.['image/png']).length, 0);
  });
});
