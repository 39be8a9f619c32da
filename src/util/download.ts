import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { FcnError } from './errors';
import { startProgress } from './progress';
import { formatBytes, freeBytes } from './storage';

/** A file that could not be fetched, or that arrived damaged, from every URL tried. */
export class DownloadError extends FcnError {}

export interface DownloadOptions {
  /** Expected SHA-256 (hex); the file is only kept when it matches. */
  sha256?: string;
  /** Expected MD5 (hex), for files whose publishers give only MD5 (Keras's weights). */
  md5?: string;
  /** Expected size in bytes; also used to check free space up front. */
  size?: number;
  /** Further URLs of the same file, tried in order after `url`. */
  mirrors?: string[];
  /** Name shown on the progress bar and in errors (default: the file name of `dest`). */
  label?: string;
  /** Draw a progress bar on stderr (default true). */
  progress?: boolean;
}

/** A server that stops sending for this long is treated as gone, so a stalled mirror does not hang the CLI. */
const STALL_TIMEOUT_MS = 60_000;

/**
 * A failed attempt at one URL. `keepPart` says whether the bytes written so
 * far are good (a dropped connection: the next URL resumes from them) or not
 * (wrong content: they are deleted).
 */
class AttemptError extends Error {
  constructor(
    message: string,
    readonly keepPart: boolean,
  ) {
    super(message);
  }
}

/**
 * Downloads `url` (then each mirror in turn) to `dest`. Bytes go to
 * `dest + '.part'`, which a later call resumes with an HTTP Range request;
 * `dest` appears, by an atomic rename, only once size and checksum are
 * verified. HTML answers (login walls, error pages) are rejected.
 */
export async function downloadFile(url: string, dest: string, opts: DownloadOptions = {}): Promise<void> {
  const label = opts.label ?? path.basename(dest);
  const urls = [url, ...(opts.mirrors ?? [])];
  const part = `${dest}.part`;
  await fsp.mkdir(path.dirname(path.resolve(dest)), { recursive: true });
  if (opts.size !== undefined) {
    checkFreeSpace(path.dirname(path.resolve(dest)), opts.size - (await fileSize(part)));
  }

  const failures: string[] = [];
  for (const u of urls) {
    try {
      await fetchToPart(u, part, label, opts);
      await verifyPart(part, opts);
      await fsp.rename(part, dest);
      return;
    } catch (err) {
      if (!(err instanceof AttemptError)) throw err;
      failures.push(`  ${u}: ${err.message}`);
      if (!err.keepPart) await fsp.rm(part, { force: true });
    }
  }
  const expected = [
    opts.size !== undefined ? `${opts.size} bytes` : '',
    opts.sha256 ? `sha256 ${opts.sha256}` : '',
    opts.md5 ? `md5 ${opts.md5}` : '',
  ]
    .filter(Boolean)
    .join(', ');
  throw new DownloadError(
    `could not download ${label}; tried:\n${failures.join('\n')}\n` +
      `Download it by hand from one of these URLs and save it as ${path.resolve(dest)}` +
      `${expected ? ` (expected ${expected})` : ''}, then run the command again.`,
  );
}

/** Fetches one URL into `part`, resuming from the bytes already there when the server allows it. */
async function fetchToPart(url: string, part: string, label: string, opts: DownloadOptions): Promise<void> {
  let offset = await fileSize(part);
  if (opts.size !== undefined && offset > opts.size) {
    await fsp.rm(part, { force: true });
    offset = 0;
  }
  if (opts.size !== undefined && offset === opts.size) return; // a previous run got every byte; verify only

  const abort = new AbortController();
  let stall = setTimeout(() => abort.abort(), STALL_TIMEOUT_MS);
  const touch = (): void => {
    clearTimeout(stall);
    stall = setTimeout(() => abort.abort(), STALL_TIMEOUT_MS);
  };
  let res: Response;
  try {
    res = await fetch(url, {
      headers: offset > 0 ? { Range: `bytes=${offset}-` } : {},
      signal: abort.signal,
      redirect: 'follow',
    });
  } catch (err) {
    clearTimeout(stall);
    throw new AttemptError(networkReason(err, abort.signal.aborted), true);
  }

  try {
    if (res.status === 416 && offset > 0) {
      // The .part does not fit what this server has; start over from it.
      throw new AttemptError(`server refused to resume at byte ${offset} (HTTP 416); partial file discarded`, false);
    }
    if (res.status !== 200 && res.status !== 206) {
      throw new AttemptError(`HTTP ${res.status} ${res.statusText}`, true);
    }
    const contentType = res.headers.get('content-type') ?? '';
    if (/text\/html/i.test(contentType)) {
      throw new AttemptError(`server sent an HTML page (content-type ${contentType}), not the file`, true);
    }
    const resumed = res.status === 206;
    if (resumed) {
      const start = /^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '');
      if (!start || Number(start[1]) !== offset) {
        throw new AttemptError(
          `server answered the resume at byte ${offset} with content-range "${res.headers.get('content-range')}"`,
          false,
        );
      }
    } else {
      offset = 0; // 200: the server ignored the Range header and sends the whole file
    }
    const length = Number(res.headers.get('content-length') ?? NaN);
    const total = opts.size ?? (Number.isFinite(length) ? offset + length : 0);
    await writeBody(res, part, offset, total, label, opts.progress !== false, touch);
    const got = await fileSize(part);
    if (Number.isFinite(length) && got !== offset + length) {
      throw new AttemptError(`connection closed after ${got} of ${offset + length} bytes`, true);
    }
  } catch (err) {
    if (err instanceof AttemptError) throw err;
    throw new AttemptError(networkReason(err, abort.signal.aborted), true);
  } finally {
    clearTimeout(stall);
  }
}

async function writeBody(
  res: Response,
  part: string,
  offset: number,
  total: number,
  label: string,
  progress: boolean,
  touch: () => void,
): Promise<void> {
  const bar = startProgress(label, total, { enabled: progress });
  const file = await fsp.open(part, offset > 0 ? 'a' : 'w');
  let written = offset;
  try {
    if (!res.body) return;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      touch();
      await file.write(chunk);
      written += chunk.byteLength;
      bar.update(Math.min(written, total), formatBytes(written));
    }
  } finally {
    bar.stop();
    await file.close();
  }
}

/** Checks a complete .part: not HTML, the expected size, the expected hash. */
async function verifyPart(part: string, opts: DownloadOptions): Promise<void> {
  if (looksLikeHtml(await readHead(part, 64))) {
    throw new AttemptError('server sent an HTML page (body starts with "<"), not the file', false);
  }
  const size = await fileSize(part);
  if (opts.size !== undefined && size !== opts.size) {
    throw new AttemptError(`got ${size} bytes, expected ${opts.size}`, false);
  }
  for (const algorithm of ['sha256', 'md5'] as const) {
    const expected = opts[algorithm]?.toLowerCase();
    if (!expected) continue;
    const hash = await hashFile(part, algorithm);
    if (hash !== expected) throw new AttemptError(`${algorithm} mismatch: got ${hash}, expected ${expected}`, false);
  }
}

function looksLikeHtml(head: Buffer): boolean {
  const text = head.toString('latin1').trimStart();
  return text.startsWith('<');
}

/** Why a request failed, in words: Node's fetch hides the socket error (ECONNREFUSED, ENOTFOUND) in `cause`. */
function networkReason(err: unknown, stalled: boolean): string {
  if (stalled) return `no data for ${STALL_TIMEOUT_MS / 1000} s`;
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  const cause = e?.cause?.code ?? e?.cause?.message;
  return cause ? `${e.message ?? 'network error'} (${cause})` : String(e?.message ?? err);
}

/** A digest of a file as lowercase hex, streamed so multi-GB files do not sit in memory. */
export async function hashFile(file: string, algorithm: 'sha256' | 'md5'): Promise<string> {
  const hash = createHash(algorithm);
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function sha256File(file: string): Promise<string> {
  return hashFile(file, 'sha256');
}

/** Throws a DownloadError when the file system holding `dir` has less than `bytesNeeded` free. */
export function checkFreeSpace(dir: string, bytesNeeded: number): void {
  const free = freeBytes(dir);
  if (free < bytesNeeded) {
    throw new DownloadError(
      `${path.resolve(dir)} has ${formatBytes(free)} free but needs ${formatBytes(bytesNeeded)}; ` +
        'free some space there or move the data folder to a larger disk',
    );
  }
}

async function fileSize(file: string): Promise<number> {
  try {
    return (await fsp.stat(file)).size;
  } catch {
    return 0;
  }
}

async function readHead(file: string, bytes: number): Promise<Buffer> {
  const fh = await fsp.open(file, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await fh.read(buf, 0, bytes, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}
