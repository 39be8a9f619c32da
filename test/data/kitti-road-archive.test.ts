import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { importKittiRoad, safeEntryPath } from '../../src/data/kitti-road-archive';
import { openDataset } from '../../src/data/open';
import { makeKittiRoad, makeZip, tmpDir } from './fixtures';

describe('data/kitti-road-archive', () => {
  it('imports a data_road.zip given by hand', async () => {
    const src = tmpDir();
    makeKittiRoad(src);
    const zipPath = path.join(src, 'data_road.zip');
    makeZip(src, zipPath, ['data_road']);
    const data = tmpDir();
    const dir = await importKittiRoad(zipPath, data, { progress: false });
    assert.equal(dir, path.join(data, 'data_road'));
    const ds = await openDataset('kitti-road', data);
    assert.equal((await ds.samples('train')).length, 3);
  });

  it('refuses an entry that would land outside the target (zip-slip) before writing anything', async () => {
    const root = tmpDir();
    const inner = path.join(root, 'a/b');
    fs.mkdirSync(inner, { recursive: true });
    fs.writeFileSync(path.join(root, 'a/evil.txt'), 'x');
    fs.writeFileSync(path.join(inner, 'ok.txt'), 'x');
    const zipPath = path.join(root, 'slip.zip');
    makeZip(inner, zipPath, ['ok.txt', '../evil.txt']);
    const data = path.join(root, 'data');
    await assert.rejects(importKittiRoad(zipPath, data, { progress: false }), /outside the target folder|zip-slip/);
    assert.equal(fs.existsSync(path.join(data, 'ok.txt')), false);
    assert.equal(fs.existsSync(path.join(root, 'evil.txt')), false);
  });

  it('refuses symlink entries', async () => {
    const root = tmpDir();
    fs.symlinkSync('/etc/passwd', path.join(root, 'link'));
    const zipPath = path.join(root, 'link.zip');
    makeZip(root, zipPath, ['link']);
    await assert.rejects(importKittiRoad(zipPath, path.join(root, 'data'), { progress: false }), /symlink/);
  });

  it('names a missing or non-zip archive', async () => {
    const root = tmpDir();
    await assert.rejects(
      importKittiRoad(path.join(root, 'none.zip'), root),
      /none\.zip does not exist; download data_road\.zip from https:/,
    );
    fs.writeFileSync(path.join(root, 'bad.zip'), '<html>login</html>');
    await assert.rejects(importKittiRoad(path.join(root, 'bad.zip'), root), /bad\.zip is not a readable zip archive/);
  });

  it('keeps entry paths inside the target', () => {
    assert.equal(safeEntryPath('/d', 'data_road/x.png'), path.resolve('/d/data_road/x.png'));
    for (const bad of ['../x', 'a/../../x', '/etc/passwd', 'C:/x', 'a\\..\\..\\x'])
      assert.equal(safeEntryPath('/d', bad), null, bad);
  });
});
