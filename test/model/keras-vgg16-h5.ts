import { promises as fsp } from 'node:fs';
import { VGG16_BLOCKS, scaledWidth } from '../../src/model/config';

/** A narrow VGG16 weight file in Keras's h5 layout, written by the tests. */
export interface FakeVgg16Options {
  /** Channel multiplier of the conv layers, as Fcn8Config.widthMultiplier. */
  widthMultiplier: number;
  /** fc1/fc2 width (VGG16: 4096); omit for a `_notop` file. */
  fcFilters?: number;
  /** 'old': `block1_conv1_W_1:0` next to the group; 'new': nested `block1_conv1/kernel:0`. */
  style: 'old' | 'new';
  /** Leave these layers out (to test the key-count check). */
  omit?: string[];
  /** Replace a layer's kernel shape (to test the shape check). */
  kernelShapes?: Record<string, number[]>;
}

export interface FakeWeight {
  shape: number[];
  values: Float32Array;
}

/**
 * Writes the file and returns what it holds, by layer. Every value is a
 * distinct integer, (layer index + 1) * 1e6 + flat index, exact in float32
 * (< 2^24 for the small sizes the tests use), so a test can tell exactly
 * which source element landed where.
 */
export async function writeFakeVgg16H5(
  file: string,
  opts: FakeVgg16Options,
): Promise<Map<string, { kernel: FakeWeight; bias: FakeWeight }>> {
  const h5wasm = await import('h5wasm');
  await h5wasm.ready;
  const layers = new Map<string, { kernel: FakeWeight; bias: FakeWeight }>();
  let channels = 3;
  for (const [name, filters] of VGG16_BLOCKS.flat()) {
    const out = scaledWidth(filters, opts.widthMultiplier);
    layers.set(name, {
      kernel: { shape: [3, 3, channels, out], values: new Float32Array() },
      bias: { shape: [out], values: new Float32Array() },
    });
    channels = out;
  }
  if (opts.fcFilters !== undefined) {
    const f = opts.fcFilters;
    const dense = (rows: number, cols: number) => ({
      kernel: { shape: [rows, cols], values: new Float32Array() },
      bias: { shape: [cols], values: new Float32Array() },
    });
    layers.set('fc1', dense(7 * 7 * channels, f));
    layers.set('fc2', dense(f, f));
    layers.set('predictions', dense(f, 10));
  }
  for (const name of opts.omit ?? []) layers.delete(name);
  [...layers].forEach(([name, w], li) => {
    if (opts.kernelShapes?.[name]) w.kernel.shape = opts.kernelShapes[name];
    for (const [role, weight] of Object.entries(w)) {
      const size = weight.shape.reduce((a: number, b: number) => a * b, 1);
      // Biases get a +0.5 offset so that they never equal a kernel value.
      weight.values = Float32Array.from({ length: size }, (_, i) => (li + 1) * 1e6 + i + (role === 'bias' ? 0.5 : 0));
    }
  });

  const mem = `/fake-vgg16-${process.pid}-${Math.random().toString(36).slice(2)}.h5`;
  // Keras also lists the weightless layers; they get an empty weight_names.
  const names = ['input_1'];
  VGG16_BLOCKS.forEach((block, b) => names.push(...block.map(([n]) => n), `block${b + 1}_pool`));
  if (opts.fcFilters !== undefined) names.push('flatten', 'fc1', 'fc2', 'predictions');
  const h5 = new h5wasm.File(mem, 'w');
  h5.create_attribute(
    'layer_names',
    names.filter((n) => !opts.omit?.includes(n)),
  );
  h5.create_attribute('keras_version', '2.0.0');
  for (const name of names.filter((n) => !opts.omit?.includes(n))) {
    const group = h5.create_group(name);
    const w = layers.get(name);
    if (!w) {
      group.create_attribute('weight_names', []);
      continue;
    }
    const weightNames =
      opts.style === 'old' ? [`${name}_W_1:0`, `${name}_b_1:0`] : [`${name}/kernel:0`, `${name}/bias:0`];
    group.create_attribute('weight_names', weightNames);
    if (opts.style === 'new') group.create_group(name);
    group.create_dataset({ name: weightNames[0], data: w.kernel.values, shape: w.kernel.shape });
    group.create_dataset({ name: weightNames[1], data: w.bias.values, shape: w.bias.shape });
  }
  h5.close();
  await fsp.writeFile(file, h5wasm.FS!.readFile(mem));
  h5wasm.FS!.unlink(mem);
  return layers;
}
