import * as fs from 'node:fs';
import { FcnError } from '../util/errors';
import { figureHtml, type PlotlyFigure } from './curves';

/** No headless browser to draw a chart with; the message says how to get one. */
export class ChromiumMissingError extends FcnError {}

/** Debian's and Ubuntu's names for the Chromium binary, in the order tried. */
const CHROMIUM_PATHS = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/**
 * Flags for Chromium as root in a container, with nothing leaving the machine.
 * playwright adds a fresh --user-data-dir of its own for every launch.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--headless',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** CHROMIUM_PATH when set, else the first system Chromium found; null when there is none. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | null {
  const candidates = env.CHROMIUM_PATH ? [env.CHROMIUM_PATH] : CHROMIUM_PATHS;
  return candidates.find((p) => fs.existsSync(p)) ?? null;
}

/** The note printed instead of a chart PNG on a machine without Chromium. */
export const CHROMIUM_MISSING_NOTE =
  'Chromium not found (looked for CHROMIUM_PATH, ' +
  CHROMIUM_PATHS.join(', ') +
  '); install it with `sudo apt-get install -y chromium` (or `bash scripts/setup.sh --test`) to get chart PNGs';

type PlaywrightBrowser = import('playwright-core').Browser;

/** Launches the system Chromium headless through playwright-core, with `extraArgs` after ours; the caller closes it. */
export async function launchChromium(extraArgs: readonly string[] = []): Promise<PlaywrightBrowser> {
  const executablePath = findChromium();
  if (!executablePath) throw new ChromiumMissingError(CHROMIUM_MISSING_NOTE);
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath, args: [...CHROMIUM_ARGS, ...extraArgs], headless: true });
}

export interface ChartPngOptions {
  /** Plot size in CSS pixels (default 900x500, as figureHtml). */
  width?: number;
  height?: number;
}

/**
 * Draws a Plotly spec in headless Chromium (figureHtml's offline page) and
 * gives a PNG of the plot, `width` x `height` pixels.
 */
export async function chartPng(spec: PlotlyFigure, opts: ChartPngOptions = {}): Promise<Buffer> {
  const width = opts.width ?? 900;
  const height = opts.height ?? 500;
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: width + 40, height: height + 40 }, deviceScaleFactor: 1 });
    // The page has no network requests: plotly.js is inlined.
    await page.setContent(figureHtml(spec, { width, height }), { waitUntil: 'load' });
    await page.waitForSelector('#figure .main-svg', { timeout: 30_000 });
    return await page.locator('#figure').screenshot({ type: 'png', animations: 'disabled' });
  } finally {
    await browser.close();
  }
}
