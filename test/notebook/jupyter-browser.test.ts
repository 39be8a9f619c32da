import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { synthesizeRoadSet } from '../../src/data';
import { PROJECT_ROOT } from '../../src/notebook';
import { findChromium, launchChromium } from '../../src/viz/chart-png';
import { notebookSkipReason } from './executed';

/** Kept after the run (git-ignored), to look at what the browser showed. */
const ARTEFACTS = path.join(PROJECT_ROOT, 'test-artifacts', 'notebook');
const TOKEN = 'fcn-ts-test-token';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net
      .createServer()
      .listen(0, '127.0.0.1', () => {
        const { port } = server.address() as net.AddressInfo;
        server.close(() => resolve(port));
      })
      .on('error', reject);
  });
}

/** The classic notebook's page API (notebook 6), as far as the test uses it. */
const runCell = (page: Page, index: number) =>
  page.evaluate((i) => {
    (window as any).Jupyter.notebook.execute_cells([i]);
  }, index);

/** Waits until cell `index` has run (its prompt shows a number, not '*'). */
async function waitForCell(page: Page, index: number, timeoutMs: number): Promise<void> {
  await page.waitForFunction(
    (i) => {
      const cell = (window as any).Jupyter.notebook.get_cell(i);
      return typeof cell.input_prompt_number === 'number';
    },
    index,
    { timeout: timeoutMs, polling: 200 },
  );
}

/** Every code cell's text output and whether any output is an error. */
const cellOutputs = (page: Page) =>
  page.evaluate(
    () =>
      (window as any).Jupyter.notebook
        .get_cells()
        .filter((c: any) => c.cell_type === 'code')
        .map((c: any) => ({
          source: c.get_text() as string,
          text: c.output_area.outputs.map((o: any) => [o.text ?? '', o.data?.['text/plain'] ?? ''].join('')).join(''),
          errors: c.output_area.outputs
            .filter((o: any) => o.output_type === 'error')
            .map((o: any) => `${o.ename}: ${o.evalue}`),
        })) as { source: string; text: string; errors: string[] }[],
  );

/**
 * kitti_road.ipynb as a person uses it: a real Jupyter Notebook server on
 * 127.0.0.1 with a token, the notebook opened in Chromium, the cells run one
 * at a time, the kernel restarted and the cells run again. Smoke preset on
 * 12 synthetic frames, so it takes a few minutes.
 */
describe('kitti_road notebook in a real Jupyter server, in Chromium', function () {
  this.timeout(900_000);
  let root: string;
  let server: ChildProcess | null = null;

  before(function () {
    const reason =
      notebookSkipReason() ?? (findChromium() ? null : 'Chromium is not installed (bash scripts/setup.sh installs it)');
    if (reason) {
      console.log(`      skipped: ${reason}`);
      this.skip();
    }
  });
  after(() => {
    if (server && server.exitCode === null) server.kill('SIGTERM');
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('runs cell by cell with a live chart; after a restart uses the finished run; an edited rate makes a second run', async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'fcn-jupyter-'));
    // The notebook in a folder of its own (Jupyter may save it), beside a link to dist/ for its `../dist` import.
    const nbDir = path.join(root, 'nb');
    fs.mkdirSync(nbDir);
    fs.copyFileSync(path.join(PROJECT_ROOT, 'notebooks', 'kitti_road.ipynb'), path.join(nbDir, 'kitti_road.ipynb'));
    fs.symlinkSync(path.join(PROJECT_ROOT, 'dist'), path.join(root, 'dist'));
    await synthesizeRoadSet(path.join(root, 'road'), { count: 12, seed: 1, progress: false });
    const port = await freePort();
    const env = {
      ...process.env,
      FCN_PRESET: 'smoke',
      FCN_DATA: path.join(root, 'road'),
      FCN_RUNS: path.join(root, 'runs'),
      FCN_FIGURES: path.join(root, 'figures'),
    };
    server = spawn(
      'bash',
      [
        path.join(PROJECT_ROOT, 'scripts', 'jupyter.sh'),
        'notebook',
        '--no-browser',
        '--ip=127.0.0.1',
        `--port=${port}`,
        `--NotebookApp.token=${TOKEN}`,
        `--notebook-dir=${root}`,
        // CI containers run as root, which Jupyter refuses without this.
        ...(process.getuid?.() === 0 ? ['--allow-root'] : []),
      ],
      { env, stdio: 'ignore' },
    );

    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
      const pageErrors: string[] = [];
      page.on('pageerror', (e) => pageErrors.push(e.message));
      const url = `http://127.0.0.1:${port}/notebooks/nb/kitti_road.ipynb?token=${TOKEN}`;
      for (let tries = 0; ; tries++) {
        try {
          await page.goto(url, { waitUntil: 'load' });
          break;
        } catch (err) {
          if (tries > 60) throw err;
          await new Promise((r) => setTimeout(r, 500));
        }
      }
      const kernelReady = () =>
        page.waitForFunction(
          () => {
            const k = (window as any).Jupyter?.notebook?.kernel;
            return Boolean(k && k.is_connected() && document.querySelector('#kernel_indicator_icon.kernel_idle_icon'));
          },
          undefined,
          { timeout: 120_000, polling: 250 },
        );
      await kernelReady();
      const codeCells: number[] = await page.evaluate(() =>
        (window as any).Jupyter.notebook
          .get_cells()
          .map((c: any, i: number) => (c.cell_type === 'code' ? i : -1))
          .filter((i: number) => i >= 0),
      );
      const trainingCell = await page.evaluate(() =>
        (window as any).Jupyter.notebook.get_cells().findIndex((c: any) => c.get_text().includes('nb.train()')),
      );

      const runAll = async (sampleChart: boolean): Promise<number[]> => {
        const points: number[] = [];
        for (const i of codeCells) {
          await runCell(page, i);
          if (i === trainingCell && sampleChart) {
            // While training runs: the chart's markers, sampled until the cell is done.
            const done = waitForCell(page, i, 300_000).then(() => true);
            let finished = false;
            void done.then(() => {
              finished = true;
            });
            while (!finished) {
              points.push(
                await page.evaluate(
                  (c) =>
                    (window as any).Jupyter.notebook
                      .get_cell(c)
                      .output_area.element[0].querySelectorAll('.fcn-figure .scatterlayer .trace .points path').length,
                  i,
                ),
              );
              await new Promise((r) => setTimeout(r, 150));
            }
          }
          await waitForCell(page, i, 300_000);
        }
        return points;
      };

      const points = await runAll(true);
      fs.mkdirSync(ARTEFACTS, { recursive: true });
      // The notebook scrolls inside its own element: bring the training cell (the chart) into the shot.
      await page.evaluate(
        (c) => (window as any).Jupyter.notebook.get_cell(c).element[0].scrollIntoView(),
        trainingCell,
      );
      await page.screenshot({ path: path.join(ARTEFACTS, 'jupyter-first-run.png'), fullPage: true });
      assert.ok(
        new Set(points).size >= 2 && points.at(-1) === Math.max(...points),
        `the live chart's markers grow while training runs: ${points.join(',')}`,
      );
      const first = await cellOutputs(page);
      assert.deepEqual(
        first.flatMap((c) => c.errors),
        [],
      );
      const firstText = first.map((c) => c.text).join('\n');
      assert.match(firstText, /run folder: \S+ \(new: nothing trained with these settings yet\)/);
      assert.match(firstText, /training: 2 epochs done/);

      // Kernel → Restart, then the cells from the top again.
      await page.evaluate(() => (window as any).Jupyter.notebook.kernel.restart());
      await page.waitForTimeout(1000);
      await kernelReady();
      await page.evaluate(() => (window as any).Jupyter.notebook.clear_all_output());
      await runAll(false);
      await page.screenshot({ path: path.join(ARTEFACTS, 'jupyter-after-restart.png'), fullPage: true });
      const second = await cellOutputs(page);
      assert.deepEqual(
        second.flatMap((c) => c.errors),
        [],
      );
      const secondText = second.map((c) => c.text).join('\n');
      assert.match(secondText, /exists, finished: 2\/2 epochs; the training cell shows it without retraining/);
      assert.match(secondText, /training: not retrained/);
      assert.match(secondText, /mean IoU\s+\d+\.\d\d/);

      // Edit the learning rate in the hyperparameters cell and run again: a new run folder, two runs compared.
      const edited = await page.evaluate(() => {
        const cell = (window as any).Jupyter.notebook
          .get_cells()
          .find((c: any) => c.get_text().includes('NotebookSession.setUp'));
        cell.set_text(cell.get_text().replace('learningRate: 0.001,', 'learningRate: 0.002,'));
        return cell.get_text() as string;
      });
      assert.match(edited, /learningRate: 0\.002,/);
      await runAll(false);
      await page.screenshot({ path: path.join(ARTEFACTS, 'jupyter-edited-lr.png'), fullPage: true });
      const third = await cellOutputs(page);
      assert.deepEqual(
        third.flatMap((c) => c.errors),
        [],
      );
      const thirdText = third.map((c) => c.text).join('\n');
      assert.match(thirdText, /changed from the smoke preset: learningRate 0\.001 → 0\.002/);
      assert.match(thirdText, /\(new: nothing trained with these settings yet\)/);
      assert.match(
        thirdText,
        /\n\S+\s+learningRate 0\.001\s+[\d.]+%\s+2\s+[\d.]+\n\S+\s+learningRate 0\.002\s+[\d.]+%\s+2\s+[\d.]+/,
      );
      assert.equal(
        fs.readdirSync(path.join(root, 'runs')).filter((d) => d.startsWith('notebook-kitti-road-')).length,
        2,
      );
      assert.deepEqual(pageErrors, [], 'no JavaScript error in the page');
    } finally {
      await browser.close();
    }
  });
});
