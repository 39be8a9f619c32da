import { strict as assert } from 'node:assert';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { readVgg16H5 } from '../../src/model/vgg16-weights';
import { RunError } from '../../src/util/errors';
import { rmDir, tmpDir } from '../helpers';
import { writeFakeVgg16H5 } from './keras-vgg16-h5';

describe('readVgg16H5', () => {
  let dir: string;
  before(() => {
    dir = tmpDir('fcn-vgg16-h5-');
  });
  after(() => rmDir(dir));

  for (const style of ['old', 'new'] as const) {
    it(`reads a full file with ${style}-style weight names: every layer, shape and value`, async () => {
      const file = path.join(dir, `top-${style}.h5`);
      const written = await writeFakeVgg16H5(file, { widthMultiplier: 1 / 16, fcFilters: 64, style });
      const w = await readVgg16H5(file);
      assert.equal(w.hasTop, true);
      assert.deepEqual([...w.layers.keys()], [...written.keys()]);
      for (const [name, { kernel, bias }] of written) {
        const got = w.layers.get(name)!;
        assert.deepEqual(got.kernel.shape, kernel.shape, `${name} kernel shape`);
        assert.deepEqual(got.bias.shape, bias.shape, `${name} bias shape`);
        assert.ok(got.kernel.values instanceof Float32Array);
        assert.deepEqual(got.kernel.values, kernel.values, `${name} kernel values`);
        assert.deepEqual(got.bias.values, bias.values, `${name} bias values`);
      }
      // Narrow VGG16 at 1/16: pool5 has 32 channels, so fc1 is [7*7*32, 64].
      assert.deepEqual(w.layers.get('fc1')!.kernel.shape, [1568, 64]);
    });
  }

  it('reads a notop file (no fc1/fc2)', async () => {
    const file = path.join(dir, 'notop.h5');
    await writeFakeVgg16H5(file, { widthMultiplier: 1 / 16, style: 'new' });
    const w = await readVgg16H5(file);
    assert.equal(w.hasTop, false);
    assert.equal(w.layers.size, 13);
    assert.deepEqual(w.layers.get('block5_conv3')!.kernel.shape, [3, 3, 32, 32]);
  });

  it('rejects an HTML page saved as .h5 and says how to fix it', async () => {
    const file = path.join(dir, 'error-page.h5');
    await fsp.writeFile(file, '\n<!DOCTYPE html><html><body>Too many requests</body></html>');
    await assert.rejects(
      readVgg16H5(file),
      (err: unknown) =>
        err instanceof RunError &&
        /error-page\.h5 is not an HDF5 file: it is an HTML page/.test(err.message) &&
        /fcn weights download/.test(err.message) &&
        /fcn weights import/.test(err.message),
    );
  });

  it('rejects a file that is neither HTML nor HDF5', async () => {
    const file = path.join(dir, 'zeros.h5');
    await fsp.writeFile(file, Buffer.alloc(2048));
    await assert.rejects(
      readVgg16H5(file),
      /zeros\.h5 is not an HDF5 file: it is 2048 bytes without the HDF5 signature/,
    );
  });

  it('names a missing file', async () => {
    await assert.rejects(
      readVgg16H5(path.join(dir, 'nope.h5')),
      (err: unknown) => err instanceof RunError && /cannot read VGG16 weights .*nope\.h5: ENOENT/.test(err.message),
    );
  });

  it('rejects a file without all VGG16 layers before returning anything', async () => {
    const file = path.join(dir, 'missing.h5');
    await writeFakeVgg16H5(file, {
      widthMultiplier: 1 / 16,
      fcFilters: 64,
      style: 'old',
      omit: ['block4_conv2', 'fc2'],
    });
    await assert.rejects(readVgg16H5(file), /does not hold VGG16's layers: missing block4_conv2, fc2/);
  });

  it('rejects a kernel whose input channels do not chain from the previous layer', async () => {
    const file = path.join(dir, 'badshape.h5');
    // block2_conv1 must read block1_conv2's 4 channels at width 1/16.
    await writeFakeVgg16H5(file, {
      widthMultiplier: 1 / 16,
      style: 'new',
      kernelShapes: { block2_conv1: [3, 3, 5, 8] },
    });
    await assert.rejects(readVgg16H5(file), /block2_conv1 kernel has shape \[3,3,5,8\], expected \[3,3,4,out\]/);
  });

  it('rejects an fc1 that does not read a 7x7 pool5', async () => {
    const file = path.join(dir, 'badfc1.h5');
    await writeFakeVgg16H5(file, {
      widthMultiplier: 1 / 16,
      fcFilters: 64,
      style: 'old',
      kernelShapes: { fc1: [1500, 64] },
    });
    await assert.rejects(readVgg16H5(file), /fc1 kernel has shape \[1500,64\], expected \[1568,F\]/);
  });
});
