import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { promises as fsp } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import {
  checkVgg16Weights,
  defaultVgg16WeightsPath,
  downloadVgg16Weights,
  importVgg16Weights,
  Vgg16WeightFile,
  VGG16_WEIGHT_FILES,
} from '../../src/model/weights-file';
import { DownloadError, hashFile } from '../../src/util/download';
import { rmDir, tmpDir } from '../helpers';
import { writeFakeVgg16H5 } from './keras-vgg16-h5';

describe('weights-file: the known VGG16 files', () => {
  it("lists Keras's two files with their published sizes, md5s and both mirrors", () => {
    assert.deepEqual(
      VGG16_WEIGHT_FILES.map((f) => [f.name, f.top, f.size, f.md5]),
      [
        ['vgg16_weights_tf_dim_ordering_tf_kernels.h5', true, 553467096, '64373286793e3c8b2b4e3219cbf3544b'],
        ['vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5', false, 58889256, '6d6bbae143d832006294945121d1f1fc'],
      ],
    );
    for (const f of VGG16_WEIGHT_FILES) {
      assert.deepEqual(f.urls, [
        `https://storage.googleapis.com/tensorflow/keras-applications/vgg16/${f.name}`,
        `https://github.com/fchollet/deep-learning-models/releases/download/v0.1/${f.name}`,
      ]);
    }
  });
});

describe('weights-file: download, import, check', () => {
  let dir: string;
  let server: http.Server;
  let base: string;
  const requests: string[] = [];
  /** Narrow fake files standing in for Keras's, published under these md5s. */
  let files: Vgg16WeightFile[];
  let topBytes: Buffer;

  before(async () => {
    dir = tmpDir('fcn-weights-file-');
    await writeFakeVgg16H5(path.join(dir, 'top.h5'), { widthMultiplier: 1 / 16, fcFilters: 64, style: 'old' });
    await writeFakeVgg16H5(path.join(dir, 'notop.h5'), { widthMultiplier: 1 / 16, style: 'new' });
    topBytes = await fsp.readFile(path.join(dir, 'top.h5'));
    // /primary/ is down (503); /mirror/ serves the fake files.
    server = http.createServer((req, res) => {
      requests.push(req.url ?? '');
      const m = /^\/mirror\/(top|notop)\.h5$/.exec(req.url ?? '');
      if (!m) {
        res.writeHead(503);
        res.end();
        return;
      }
      const body = fs.readFileSync(path.join(dir, `${m[1]}.h5`));
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
      res.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    files = await Promise.all(
      (['top', 'notop'] as const).map(async (kind) => {
        const p = path.join(dir, `${kind}.h5`);
        return {
          name: `fake_${kind}.h5`,
          top: kind === 'top',
          size: (await fsp.stat(p)).size,
          md5: await hashFile(p, 'md5'),
          urls: [`${base}/primary/${kind}.h5`, `${base}/mirror/${kind}.h5`],
        };
      }),
    );
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmDir(dir);
  });

  it('check on an empty folder: both missing, training from scratch', async () => {
    const weightsDir = path.join(dir, 'empty');
    const lines = await checkVgg16Weights({ dir: weightsDir, files });
    assert.deepEqual(lines, [
      `missing ${path.join(weightsDir, 'fake_top.h5')}: get it with \`fcn weights download\``,
      `missing ${path.join(weightsDir, 'fake_notop.h5')}: get it with \`fcn weights download --notop\``,
      `no usable VGG16 weights in ${weightsDir}: training starts from scratch (get them with \`fcn weights download\`)`,
    ]);
    assert.equal(defaultVgg16WeightsPath(weightsDir, files), null);
  });

  it('downloads from the mirror when the first URL fails, checks md5, and keeps an intact file', async () => {
    const weightsDir = path.join(dir, 'dl');
    const lines: string[] = [];
    requests.length = 0;
    const p = await downloadVgg16Weights({
      top: true,
      dir: weightsDir,
      files,
      progress: false,
      log: (l) => lines.push(l),
    });
    assert.equal(p, path.join(weightsDir, 'fake_top.h5'));
    assert.ok((await fsp.readFile(p)).equals(topBytes));
    assert.deepEqual(requests, ['/primary/top.h5', '/mirror/top.h5']);
    assert.match(lines[0], /^ok {6}.*fake_top\.h5 \(\d+ bytes, md5 [0-9a-f]{32}\)$/);

    await downloadVgg16Weights({ top: true, dir: weightsDir, files, progress: false, log: (l) => lines.push(l) });
    assert.equal(requests.length, 2, 'a second download of an intact file fetches nothing');
    assert.match(lines[1], /is already there \(size and md5 match\)/);
    assert.equal(defaultVgg16WeightsPath(weightsDir, files), p);

    const status = await checkVgg16Weights({ dir: weightsDir, files });
    assert.match(status[0], /^ok {6}.*fake_top\.h5: Keras's published file/);
    assert.equal(status[2], `training starts from ${p}`);
  });

  it('rejects every mirror whose file has another md5 than the published one, and keeps nothing', async () => {
    const weightsDir = path.join(dir, 'badmd5');
    const wrong = files.map((f) => ({ ...f, md5: 'f'.repeat(32) }));
    await assert.rejects(
      downloadVgg16Weights({ top: false, dir: weightsDir, files: wrong, progress: false }),
      (err: unknown) =>
        err instanceof DownloadError &&
        new RegExp(`md5 mismatch: got ${files[1].md5}, expected f{32}`).test(err.message) &&
        /by hand/.test(err.message),
    );
    assert.equal(defaultVgg16WeightsPath(weightsDir, files), null);
  });

  it('imports a published file by size + md5 under its known name, copying it', async () => {
    const weightsDir = path.join(dir, 'imp');
    const lines: string[] = [];
    const p = await importVgg16Weights(path.join(dir, 'notop.h5'), {
      dir: weightsDir,
      files,
      log: (l) => lines.push(l),
    });
    assert.equal(p, path.join(weightsDir, 'fake_notop.h5'));
    assert.ok((await fsp.readFile(p)).equals(await fsp.readFile(path.join(dir, 'notop.h5'))));
    assert.ok(await fsp.stat(path.join(dir, 'notop.h5')), 'the source stays');
    assert.match(lines[0], /Keras's published fake_notop\.h5 \(size and md5 match\)/);
  });

  it('refuses to import a VGG16 file that is not published and not full width', async () => {
    const other = path.join(dir, 'other.h5');
    await writeFakeVgg16H5(other, { widthMultiplier: 1 / 8, style: 'new' });
    await assert.rejects(
      importVgg16Weights(other, { dir: path.join(dir, 'imp2'), files }),
      /other\.h5 holds a narrow VGG16 \(block1_conv1 8 filters, block5_conv3 64; VGG16 has 64, 512\)/,
    );
  });

  it('refuses to import an HTML page', async () => {
    const page = path.join(dir, 'page.h5');
    await fsp.writeFile(page, '<html>rate limited</html>');
    await assert.rejects(
      importVgg16Weights(page, { dir: path.join(dir, 'imp3'), files }),
      /page\.h5 is not an HDF5 file: it is an HTML page/,
    );
  });

  it('check reports a partial download and a damaged file with their fixes', async () => {
    const weightsDir = path.join(dir, 'damaged');
    await fsp.mkdir(weightsDir, { recursive: true });
    await fsp.writeFile(path.join(weightsDir, 'fake_top.h5.part'), Buffer.alloc(100));
    await fsp.writeFile(path.join(weightsDir, 'fake_notop.h5'), '<!DOCTYPE html>');
    const lines = await checkVgg16Weights({ dir: weightsDir, files });
    assert.equal(
      lines[0],
      `partial ${path.join(weightsDir, 'fake_top.h5.part')}: 100 of ${files[0].size} bytes; \`fcn weights download\` resumes it`,
    );
    assert.match(
      lines[1],
      /^bad {5}.*fake_notop\.h5: .*is not an HDF5 file: it is an HTML page.*; delete it and run `fcn weights download --notop`$/,
    );
    assert.match(lines[2], /^no usable VGG16 weights/);
  });
});
