import { strict as assert } from 'node:assert';
import sharp from 'sharp';
import {
  DISPLAY_WIDTH,
  embedPlotly,
  resetPlotlyLoaded,
  showFigure,
  showPhotos,
  showPng,
  showStatus,
} from '../../src/notebook';
import { lossChart } from '../../src/viz/curves';
import { recordingDisplays } from './fake-display';

describe('notebook display helpers', () => {
  beforeEach(() => resetPlotlyLoaded());

  it('sends plotly.js once per kernel, then the chart; update redraws in the same display', () => {
    const { makeDisplay, displays } = recordingDisplays();
    const fig = showFigure(lossChart([{ epoch: 1, trainLoss: 0.5, valLoss: 0.6 }]), { makeDisplay });
    showFigure(lossChart([]), { makeDisplay });
    // [plotly.js, first chart, second chart]: the library is not sent again.
    assert.equal(displays.length, 3);
    assert.match(String(displays[0].shown[0].value), /window\.Plotly = Plotly/);
    fig.update(
      lossChart([
        { epoch: 1, trainLoss: 0.5, valLoss: 0.6 },
        { epoch: 2, trainLoss: 0.25, valLoss: 0.4 },
      ]),
    );
    assert.equal(displays.length, 3);
    const chart = displays[1].shown;
    assert.equal(chart.length, 2);
    assert.match(String(chart[1].value), /"x":\[1,2\],"y":\[0\.5,0\.25\]/);
    // A fresh element id per draw, so Plotly never targets the output being replaced.
    const ids = chart.map((c) => /id="([^"]+)"/.exec(String(c.value))?.[1]);
    assert.notEqual(ids[0], ids[1]);
  });

  it('escapes "</script>" in trace names so a name cannot end the script early', () => {
    const { makeDisplay, displays } = recordingDisplays();
    const spec = lossChart([]);
    showFigure({ ...spec, data: [{ type: 'scatter', name: '</script><b>x' }] }, { makeDisplay });
    const html = String(displays[1].shown[0].value);
    assert.equal(html.match(/<\/script>/g)?.length, 1);
    assert.match(html, /\\u003c\/script>/);
  });

  it('showPng and showStatus use their own displays; a status line is replaced, not appended to', () => {
    const { makeDisplay, displays } = recordingDisplays();
    showPng(new Uint8Array([137, 80, 78, 71]), makeDisplay);
    const status = showStatus('starting', makeDisplay);
    status.set('epoch 1/2');
    assert.equal(displays.length, 2);
    assert.equal(displays[0].shown[0].kind, 'png');
    assert.deepEqual(
      displays[1].shown.map((s) => s.value),
      ['starting', 'epoch 1/2'],
    );
  });

  it('embedPlotly sends the minified plotly.js on every call (the hyperparameters cell), and later charts reuse it', () => {
    const { makeDisplay, displays } = recordingDisplays();
    embedPlotly(makeDisplay);
    showFigure(lossChart([]), { makeDisplay });
    assert.equal(displays.length, 2);
    const library = String(displays[0].shown[0].value);
    assert.match(library, /window\.Plotly = Plotly/);
    // plotly.js-dist-min 3.7.0 is 4.9 MB; the unminified bundle, 11 MB, would break the 6 MB notebook budget.
    assert.ok(library.length < 5_000_000, `plotly.js is ${library.length} characters`);
    assert.doesNotMatch(String(displays[1].shown[0].value), /window\.Plotly = Plotly/);
    embedPlotly(makeDisplay);
    assert.equal(displays.length, 3, "re-running the cell sends it again, into that cell's new output");
  });

  it('showPhotos shows a JPEG at display width, never enlarged', async () => {
    const { makeDisplay, displays } = recordingDisplays();
    const image = (width: number) =>
      sharp({ create: { width, height: 200, channels: 3, background: { r: 40, g: 160, b: 60 } } })
        .png()
        .toBuffer();
    await showPhotos(await image(1204), makeDisplay);
    await showPhotos(await image(300), makeDisplay);
    const sizes = await Promise.all(
      displays.map(async (d) => {
        assert.equal(d.shown[0].kind, 'jpeg');
        const meta = await sharp(Buffer.from(d.shown[0].value as Uint8Array)).metadata();
        assert.equal(meta.format, 'jpeg');
        return meta.width;
      }),
    );
    assert.deepEqual(sizes, [DISPLAY_WIDTH, 300]);
  });
});
