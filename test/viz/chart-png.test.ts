import { strict as assert } from 'node:assert';
import sharp from 'sharp';
import { chartPng, ChromiumMissingError, findChromium, launchChromium } from '../../src/viz/chart-png';
import { lossChart } from '../../src/viz/curves';

describe('chartPng (Plotly spec → PNG in headless Chromium)', function () {
  this.timeout(60_000);

  it('findChromium honours CHROMIUM_PATH, and says null when it does not exist', () => {
    assert.equal(findChromium({ CHROMIUM_PATH: '/no/such/chromium' }), null);
    assert.equal(findChromium({ CHROMIUM_PATH: process.execPath }), process.execPath);
  });

  it('a missing Chromium is a ChromiumMissingError that says how to install it', async () => {
    const saved = process.env.CHROMIUM_PATH;
    process.env.CHROMIUM_PATH = '/no/such/chromium';
    try {
      await assert.rejects(
        launchChromium(),
        (err: Error) => err instanceof ChromiumMissingError && /apt-get install -y chromium/.test(err.message),
      );
    } finally {
      if (saved === undefined) delete process.env.CHROMIUM_PATH;
      else process.env.CHROMIUM_PATH = saved;
    }
  });

  it('draws the loss chart at the asked size, with both traces in their colours', async function () {
    if (!findChromium()) {
      console.log('      skipped: Chromium is not installed (bash scripts/setup.sh --test installs it)');
      this.skip();
    }
    const png = await chartPng(
      lossChart([
        { epoch: 1, trainLoss: 0.6, valLoss: 0.7 },
        { epoch: 2, trainLoss: 0.3, valLoss: 0.5 },
        { epoch: 3, trainLoss: 0.2, valLoss: 0.45 },
      ]),
      { width: 400, height: 300 },
    );
    const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height], [400, 300]);
    // Plotly's first two default colours: #1f77b4 (train) and #ff7f0e (validation).
    const near = (r: number, g: number, b: number) => {
      let n = 0;
      for (let i = 0; i < data.length; i += 3) {
        if (Math.abs(data[i] - r) < 20 && Math.abs(data[i + 1] - g) < 20 && Math.abs(data[i + 2] - b) < 20) n++;
      }
      return n;
    };
    assert.ok(near(0x1f, 0x77, 0xb4) > 50, 'train trace drawn');
    assert.ok(near(0xff, 0x7f, 0x0e) > 50, 'validation trace drawn');
  });
});
