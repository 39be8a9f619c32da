import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import type { DatasetName } from '../../src/data/types';
import { joined, readCells, readOutputs, useExecutedNotebooks } from './executed';

describe('notebooks, executed headless (smoke preset, generated data)', function () {
  const run = useExecutedNotebooks();

  const datasets: DatasetName[] = ['kitti-road', 'kitti-semantic', 'cityscapes', 'camvid'];
  for (const dataset of datasets) {
    it(`${dataset}: runs to the end with plotly.js once, the live chart, the lr finder, error analysis and the compare cell`, () => {
      const outputs = readOutputs(run().outputs[dataset].notebook);
      assert.equal(outputs.filter((o) => o.output_type === 'error').length, 0);
      const html = outputs.map((o) => joined(o.data?.['text/html'])).filter(Boolean);
      // plotly.js once (the hyperparameters cell), then the charts, each one output redrawn in place.
      assert.equal(html.filter((h) => h.includes('window.Plotly = Plotly')).length, 1);
      assert.ok(
        readCells(run().outputs[dataset].notebook)
          .find((c) => c.source.includes('NotebookSession.setUp'))
          ?.html.includes('window.Plotly = Plotly'),
        "plotly.js is in the hyperparameters cell's output",
      );
      const figures = html.filter((h) => h.includes('class="fcn-figure"'));
      const charts = figures.filter((h) => h.includes('"name":"train"'));
      assert.equal(charts.length, 1);
      // The "what went wrong" cell adds the confusion heatmap and the worst-images grid, in every notebook.
      assert.equal(figures.filter((h) => h.includes('"type":"heatmap"')).length, 1);
      assert.equal(figures.filter((h) => h.includes('"name":"smoothed"')).length, 1, "the lr finder's chart");
      assert.equal(figures.filter((h) => h.includes('"yaxis":"y2"')).length, 1, 'the compare chart');
      assert.match(charts[0], /"name":"validation"/);
      assert.doesNotMatch(charts[0], /regularisation/, 'the smoke preset has no L2 term to draw');
      // Two epochs drawn: x = [1, 2] for the train trace.
      assert.match(charts[0], /"x":\[1,2\]/);
      // Photo grids as JPEG: the data grid, the worst images, the test grid.
      const jpegs = outputs.filter((o) => o.data?.['image/jpeg']);
      assert.equal(
        jpegs.length,
        3,
        `expected the data grid, the worst images and the test grid, got ${jpegs.length} JPEGs`,
      );
      const text = outputs.map((o) => joined(o.text)).join('');
      assert.match(text, /backend: \w+/);
      assert.doesNotMatch(text, /Warning: |BackendVk/, "Dawn's probe warnings stay out of the notebook");
      assert.match(text, /preset\s+smoke \(FCN_PRESET\)/);
      assert.match(text, /settings: the smoke preset's, unchanged/);
      assert.match(text, /run folder: \S+notebook-[\w-]+ \(new: nothing trained with these settings yet\)/);
      assert.match(text, /lr finder: (suggested learningRate \d\.\de-?\d+|no suggestion)/);
      assert.match(text, /mean IoU\s+\d+\.\d\d/);
      assert.match(text, /figures: /);
      assert.match(text, /worst \d+ by loss: /);
      assert.match(text, /Pixels labelled 255 \(ignore\) count nowhere/);
      assert.match(
        text,
        /run\s+settings that differ\s+best val mIoU\s+epochs\s+minutes\n\S+\s+all alike\s+\d+\.\d%\s+2\s+\d+\.\d/,
      );
      if (dataset === 'kitti-road') assert.match(text, /MaxF\s+AP/);
      if (dataset === 'camvid') assert.match(text, /input size\s+96x128/, "CamVid's smoke preset keeps 4:3");
    });
  }

  it('kitti-road executed with its light outputs stays under 6 MB', () => {
    const bytes = fs.statSync(run().outputs['kitti-road'].notebook).size;
    assert.ok(bytes <= 6e6, `${run().outputs['kitti-road'].notebook} is ${(bytes / 1e6).toFixed(1)} MB`);
  });

  it('after a kernel restart, running from the top finds the finished run: no retraining, evaluation and figures from it', () => {
    const outputs = readOutputs(run().rerun.notebook);
    assert.equal(outputs.filter((o) => o.output_type === 'error').length, 0);
    const text = outputs.map((o) => joined(o.text)).join('');
    assert.match(text, /run folder: \S+ exists, finished: 2\/2 epochs; the training cell shows it without retraining/);
    assert.match(text, /training: using the run in \S+, finished: 2\/2 epochs/);
    assert.match(text, /training: not retrained/);
    assert.doesNotMatch(text, /epoch 1\/2/, 'no epoch was trained');
    assert.match(text, /mean IoU\s+\d+\.\d\d/);
    assert.match(text, /figures: /);
    const chart = outputs.map((o) => joined(o.data?.['text/html'])).find((h) => h.includes('"name":"train"'));
    assert.match(chart ?? '', /"x":\[1,2\]/, 'the loss chart is drawn from the run on disk');
  });

  it('a missing dataset prints how to get it, and the later cells skip without an error', () => {
    const outputs = readOutputs(run().missing.notebook);
    assert.equal(outputs.filter((o) => o.output_type === 'error').length, 0);
    const text = outputs.map((o) => joined(o.text)).join('');
    assert.match(text, /no-such-folder is missing/);
    assert.match(text, /To get kitti-semantic: unzip/);
    assert.match(text, /training: skipped \(no kitti-semantic data/);
    assert.equal(text.match(/To get kitti-semantic/g)?.length, 1, 'the how-to is printed once');
    assert.match(text, /figures: skipped/);
    assert.equal(outputs.filter((o) => o.data?.['image/jpeg'] || o.data?.['image/png']).length, 0);
    assert.match(text, /compare runs: skipped/);
  });
});
