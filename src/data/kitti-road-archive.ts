import { createWriteStream, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import { checkFreeSpace, DownloadError, downloadFile } from '../util/download';
import { DataError } from '../util/errors';
import { startProgress } from '../util/progress';
import { detectLayout } from './layout';

/** KITTI's public base kit of the road benchmark (images, calib, training labels). */
export const KITTI_ROAD_URL = 'https://s3.eu-central-1.amazonaws.com/avg-kitti/data_road.zip';

/** Where entry `name` would land under `destDir`, or null when it would escape it (zip-slip). */
export function safeEntryPath(destDir: string, name: string): string | null {
  const root = path.resolve(destDir);
  if (name.includes('\\') || path.isAbsolute(name) || /^[a-zA-Z]:/.test(name)) return null;
  const target = path.resolve(root, name);
  return target === root || target.startsWith(root + path.sep) ? target : null;
}

function openZip(zipPath: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(zipPath, { lazyEntries: true, autoClose: false }, (err, zip) => {
      if (err) reject(new DataError(`${zipPath} is not a readable zip archive (${err.message}); download it again`));
      else resolve(zip);
    });
  });
}

/** All entries of an open zip, read through once; yauzl's own name checks surface as zip-slip errors. */
function readEntries(zip: yauzl.ZipFile, zipPath: string): Promise<yauzl.Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: yauzl.Entry[] = [];
    zip.on('entry', (e: yauzl.Entry) => {
      entries.push(e);
      zip.readEntry();
    });
    zip.on('end', () => resolve(entries));
    zip.on('error', (err: Error) =>
      reject(
        /path/.test(err.message)
          ? new DataError(
              `${zipPath} has an entry outside the target folder (${err.message}); refusing to extract this archive`,
            )
          : new DataError(`${zipPath} is damaged (${err.message}); download it again`),
      ),
    );
    zip.readEntry();
  });
}

function isSymlink(e: yauzl.Entry): boolean {
  // Unix mode in the high 16 bits of the external attributes; S_IFLNK = 0o120000.
  return ((e.externalFileAttributes >>> 16) & 0o170000) === 0o120000;
}

/**
 * Extracts `zipPath` into `destDir`. Every entry is checked before anything
 * is written: one whose path leaves `destDir` (zip-slip) or that is a
 * symlink refuses the whole archive, and the free space must hold the
 * uncompressed size.
 */
export async function extractZip(zipPath: string, destDir: string, opts: { progress?: boolean } = {}): Promise<number> {
  const zip = await openZip(zipPath);
  try {
    const entries = await readEntries(zip, zipPath);
    let bytes = 0;
    for (const e of entries) {
      if (safeEntryPath(destDir, e.fileName) === null || isSymlink(e)) {
        throw new DataError(
          `${zipPath}: entry "${e.fileName}" would be written outside ${path.resolve(destDir)} ` +
            '(zip-slip) or is a symlink; refusing to extract this archive',
        );
      }
      bytes += e.uncompressedSize;
    }
    await fsp.mkdir(destDir, { recursive: true });
    checkFreeSpace(destDir, bytes);
    const bar = startProgress(`extract ${path.basename(zipPath)}`, entries.length, { enabled: opts.progress ?? true });
    for (const [k, e] of entries.entries()) {
      const target = safeEntryPath(destDir, e.fileName)!;
      if (e.fileName.endsWith('/')) {
        await fsp.mkdir(target, { recursive: true });
      } else {
        await fsp.mkdir(path.dirname(target), { recursive: true });
        const stream = await new Promise<NodeJS.ReadableStream>((resolve, reject) => {
          zip.openReadStream(e, (err, s) =>
            err
              ? reject(new DataError(`${zipPath}: cannot read ${e.fileName} (${err.message}); download it again`))
              : resolve(s),
          );
        });
        await pipeline(stream, createWriteStream(target));
      }
      bar.update(k + 1);
    }
    bar.stop();
    return entries.length;
  } finally {
    zip.close();
  }
}

/** Extracts a data_road.zip given by hand into `dataRoot` and checks that data_road/ now holds KITTI Road. */
export async function importKittiRoad(
  zipPath: string,
  dataRoot: string,
  opts: { progress?: boolean } = {},
): Promise<string> {
  try {
    await fsp.access(zipPath);
  } catch {
    throw new DataError(`${zipPath} does not exist; download data_road.zip from ${KITTI_ROAD_URL} and pass its path`);
  }
  await extractZip(zipPath, dataRoot, opts);
  const dir = path.join(dataRoot, 'data_road');
  const layout = await detectLayout(dir);
  if (layout === null || layout.dataset !== 'kitti-road') {
    throw new DataError(
      `${zipPath} was extracted into ${dataRoot} but ${dir} does not hold training/image_2 and ` +
        'training/gt_image_2; is this the KITTI Road base kit (data_road.zip)?',
    );
  }
  return dir;
}

/** Downloads data_road.zip into `dataRoot` (resuming a partial download) and imports it. */
export async function downloadKittiRoad(dataRoot: string, opts: { progress?: boolean } = {}): Promise<string> {
  const zipPath = path.join(dataRoot, 'data_road.zip');
  try {
    await downloadFile(KITTI_ROAD_URL, zipPath, { label: 'data_road.zip', progress: opts.progress });
  } catch (err) {
    if (!(err instanceof DownloadError)) throw err;
    throw new DownloadError(
      `${err.message}\nOr, with the zip anywhere: fcn data import kitti-road <path/to/data_road.zip>`,
    );
  }
  return importKittiRoad(zipPath, dataRoot, opts);
}
