import * as fs from 'node:fs';
import * as path from 'node:path';
import { StorageError } from './errors';

/**
 * Writing files when the disk may be full or read-only. Every write of a
 * run folder, a figure or a data cache goes through here, so that a failure
 * names the file, the space it needed and the space there was, and never
 * leaves a partial temporary file behind.
 */

/** Error codes that mean "this file system will not take the write", as opposed to a bug. */
const STORAGE_CODES: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large for the file system',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
};

export function isStorageFault(err: unknown): err is NodeJS.ErrnoException {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && code in STORAGE_CODES;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = -1;
  do {
    v /= 1024;
    i++;
  } while (v >= 1024 && i < units.length - 1);
  return `${v.toFixed(1)} ${units[i]}`;
}

/** Bytes free to this user on the file system that holds `target` (or its nearest existing parent). */
export function freeBytes(target: string): number {
  let dir = path.resolve(target);
  while (!fs.existsSync(dir) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  const st = fs.statfsSync(dir);
  return st.bavail * st.bsize;
}

/**
 * The error for a write of `bytes` to `file` that failed with `err`: which
 * file and folder, what the file system said, how much was needed and how
 * much is free, then `advice` (what was kept, what to do).
 */
export function storageError(file: string, bytes: number, err: NodeJS.ErrnoException, advice: string): StorageError {
  const code = err.code ?? 'EIO';
  const dir = path.dirname(path.resolve(file));
  return new StorageError(
    `could not write ${path.basename(file)} in ${dir}: ${STORAGE_CODES[code] ?? err.message} (${code}); ` +
      `it needs ${formatBytes(bytes)}, ${formatBytes(freeBytes(dir))} free there. ${advice}`,
  );
}

/** Removes files that may or may not exist (partial temporaries after a failed write). */
export function removeQuietly(files: readonly string[]): void {
  for (const f of files) fs.rmSync(f, { force: true });
}

/**
 * Writes `data` to `file` atomically: a reader sees the old file or the new
 * one, never half. On a full or read-only disk the temporary file is
 * removed and a StorageError says what happened; `advice` says what to do.
 */
export function writeFileAtomic(
  file: string,
  data: string | Uint8Array,
  advice = 'Free some space there and run again.',
): void {
  const tmp = `${file}.tmp`;
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch (err) {
    removeQuietly([tmp]);
    if (isStorageFault(err)) throw storageError(file, Buffer.byteLength(data), err, advice);
    throw err;
  }
}

export function writeJson(file: string, value: unknown, advice?: string): void {
  writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n', advice);
}
