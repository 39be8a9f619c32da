import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkFreeSpace, DownloadError, downloadFile, sha256File } from '../../src/util/download';
import { closedPort, sendHalfThenDrop } from './loopback';

/** 100 KiB of a deterministic byte pattern; 0x89 first so it never looks like HTML. */
const BODY = Buffer.from(Array.from({ length: 100 * 1024 }, (_, i) => (i === 0 ? 0x89 : (i * 7 + 3) % 251)));
const BODY_SHA = createHash('sha256').update(BODY).digest('hex');

interface Served {
  base: string;
  /** Range header (or '') of every request, by path. */
  requests: { path: string; range: string }[];
  close(): Promise<void>;
}

/**
 * A loopback server: /file serves BODY with Range support, /norange ignores
 * Range, /html and /html-octet answer with an HTML page (with and without
 * an honest content-type), /cut sends half of BODY and drops the connection
 * the first time (then behaves as /file), /missing is a 404.
 */
async function serve(): Promise<Served> {
  const requests: Served['requests'] = [];
  let cut = false;
  const server = http.createServer((req, res) => {
    const range = req.headers.range ?? '';
    requests.push({ path: req.url ?? '', range });
    const m = /^bytes=(\d+)-$/.exec(range);
    if (req.url === '/cut' && !cut) {
      cut = true;
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': BODY.length });
      sendHalfThenDrop(res, BODY);
    } else if ((req.url === '/file' || req.url === '/cut') && m) {
      const start = Number(m[1]);
      res.writeHead(206, {
        'content-type': 'application/octet-stream',
        'content-length': BODY.length - start,
        'content-range': `bytes ${start}-${BODY.length - 1}/${BODY.length}`,
      });
      res.end(BODY.subarray(start));
    } else if (req.url === '/file' || req.url === '/cut' || req.url === '/norange') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': BODY.length });
      res.end(BODY);
    } else if (req.url === '/html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<html><body>quota exceeded</body></html>');
    } else if (req.url === '/html-octet') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end('<!DOCTYPE html><html>sign in</html>');
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function exists(file: string): Promise<boolean> {
  return fsp.stat(file).then(
    () => true,
    () => false,
  );
}

describe('downloadFile', () => {
  let srv: Served;
  let dir: string;
  beforeEach(async () => {
    srv = await serve();
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'fcn-download-'));
  });
  afterEach(async () => {
    await srv.close();
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('downloads a whole file, verifies size and sha256, and leaves no .part', async () => {
    const dest = path.join(dir, 'sub', 'w.bin');
    await downloadFile(`${srv.base}/file`, dest, { size: BODY.length, sha256: BODY_SHA, progress: false });
    assert.ok((await fsp.readFile(dest)).equals(BODY));
    assert.equal(await exists(`${dest}.part`), false);
    assert.deepEqual(srv.requests, [{ path: '/file', range: '' }]);
  });

  it('resumes from an existing .part with a Range request', async () => {
    const dest = path.join(dir, 'w.bin');
    const have = 40_000;
    await fsp.writeFile(`${dest}.part`, BODY.subarray(0, have));
    await downloadFile(`${srv.base}/file`, dest, { size: BODY.length, sha256: BODY_SHA, progress: false });
    assert.deepEqual(srv.requests, [{ path: '/file', range: `bytes=${have}-` }]);
    assert.ok((await fsp.readFile(dest)).equals(BODY));
  });

  it('a download cut half way keeps its bytes, resumes on the next run and is checked against its SHA-256', async () => {
    const dest = path.join(dir, 'weights.h5');
    const opts = { sha256: BODY_SHA, size: BODY.length, progress: false };
    await assert.rejects(
      downloadFile(`${srv.base}/cut`, dest, opts),
      (err: unknown) => err instanceof DownloadError && /connection closed|terminated|socket/i.test(err.message),
    );
    const kept = (await fsp.stat(`${dest}.part`)).size;
    assert.ok(kept > 0 && kept < BODY.length, `the .part keeps the ${kept} bytes that arrived`);
    assert.equal(await exists(dest), false);
    await downloadFile(`${srv.base}/cut`, dest, opts);
    assert.deepEqual(
      srv.requests.map((r) => r.range),
      ['', `bytes=${kept}-`],
    );
    assert.equal(await sha256File(dest), BODY_SHA);
    assert.equal(await exists(`${dest}.part`), false);
  });

  it('restarts from byte 0 when the server ignores Range (HTTP 200)', async () => {
    const dest = path.join(dir, 'w.bin');
    // Garbage in the .part: if it were kept, the sha256 would fail.
    await fsp.writeFile(`${dest}.part`, Buffer.alloc(30_000, 0xee));
    await downloadFile(`${srv.base}/norange`, dest, { sha256: BODY_SHA, progress: false });
    assert.equal(srv.requests[0].range, 'bytes=30000-');
    assert.ok((await fsp.readFile(dest)).equals(BODY));
  });

  it('rejects a text/html answer and names the URL', async () => {
    const dest = path.join(dir, 'w.bin');
    await assert.rejects(
      downloadFile(`${srv.base}/html`, dest, { progress: false }),
      (err: unknown) => err instanceof DownloadError && /HTML page/.test(err.message) && err.message.includes('/html'),
    );
    assert.equal(await exists(dest), false);
  });

  it('rejects a body that starts with <!DOCTYPE even when the content-type lies', async () => {
    const dest = path.join(dir, 'w.bin');
    await assert.rejects(downloadFile(`${srv.base}/html-octet`, dest, { progress: false }), /HTML page/);
    assert.equal(await exists(dest), false);
    assert.equal(await exists(`${dest}.part`), false);
  });

  it('rejects a checksum mismatch and deletes the bad bytes', async () => {
    const dest = path.join(dir, 'w.bin');
    const wrong = '0'.repeat(64);
    await assert.rejects(
      downloadFile(`${srv.base}/file`, dest, { sha256: wrong, progress: false }),
      new RegExp(`sha256 mismatch: got ${BODY_SHA}, expected ${wrong}`),
    );
    assert.equal(await exists(dest), false);
    assert.equal(await exists(`${dest}.part`), false);
  });

  it('rejects a wrong size', async () => {
    const dest = path.join(dir, 'w.bin');
    await assert.rejects(
      downloadFile(`${srv.base}/file`, dest, { size: BODY.length + 5, progress: false }),
      new RegExp(`got ${BODY.length} bytes, expected ${BODY.length + 5}`),
    );
    assert.equal(await exists(dest), false);
  });

  it('falls back to the next mirror after a 404, a refused connection and an HTML page', async () => {
    const dest = path.join(dir, 'w.bin');
    const dead = `http://127.0.0.1:${await closedPort()}/file`;
    await downloadFile(`${srv.base}/missing`, dest, {
      mirrors: [dead, `${srv.base}/html`, `${srv.base}/file`],
      sha256: BODY_SHA,
      progress: false,
    });
    assert.deepEqual(
      srv.requests.map((r) => r.path),
      ['/missing', '/html', '/file'],
    );
    assert.ok((await fsp.readFile(dest)).equals(BODY));
  });

  it('offline: says which URLs were tried and where to put the file by hand', async () => {
    const port = await closedPort();
    const dest = path.join(dir, 'weights', 'w.h5');
    const urls = [`http://127.0.0.1:${port}/a.h5`, `http://127.0.0.1:${port}/b.h5`];
    await assert.rejects(
      downloadFile(urls[0], dest, { mirrors: [urls[1]], label: 'VGG16 weights', size: 1234, progress: false }),
      (err: unknown) => {
        assert.ok(err instanceof DownloadError);
        assert.match(err.message, /could not download VGG16 weights/);
        for (const u of urls) assert.match(err.message, new RegExp(`${u.replace(/\./g, '\\.')}: .*ECONNREFUSED`));
        assert.ok(err.message.includes(`save it as ${path.resolve(dest)} (expected 1234 bytes)`), err.message);
        return true;
      },
    );
  });
});

describe('sha256File / checkFreeSpace', () => {
  it('sha256File hashes a file as lowercase hex', async () => {
    const file = path.join(os.tmpdir(), `fcn-sha-${process.pid}.txt`);
    await fsp.writeFile(file, 'abc');
    try {
      // FIPS 180-2 test vector for "abc".
      assert.equal(await sha256File(file), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    } finally {
      await fsp.rm(file, { force: true });
    }
  });

  it('checkFreeSpace passes for 1 byte and throws DownloadError for an impossible size', () => {
    checkFreeSpace(os.tmpdir(), 1);
    assert.throws(
      () => checkFreeSpace(os.tmpdir(), Number.MAX_SAFE_INTEGER),
      (err: unknown) => err instanceof DownloadError && /free but needs/.test(err.message),
    );
  });
});
