import { strict as assert } from 'node:assert';
import { resetPlotlyLoaded, showFigure, showPng, showStatus } from '../../src/notebook';
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
    fig.update(lossChart([{ epoch: 1, trainLoss: 0.5, valLoss: 0.6 }, { epoch: 2, trainLoss: 0.25, valLoss: 0.4 }]));
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
    assert.deepEqual(displays[1].shown.map((s) => s.value), ['starting', 'epoch 1/2']);
  });
});
