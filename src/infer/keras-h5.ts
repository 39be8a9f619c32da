import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildFcn8 } from '../model/fcn8';
import { loadRun } from '../run/load-run';
import { RUN_FILES, hasCheckpoint, readJson, saveCheckpoint } from '../run/checkpoint';
import { writeFileAtomic, writeJson } from '../util/storage';
import type { TrainConfig } from '../run/config';
import type { RunDataset } from '../run/load-run';
import { RunError } from '../util/errors';
import { readH5, stringList, writeH5, type H5Group } from '../util/h5-file';

/**
 * Keras's `model.save_weights('x.h5')` layout (tf.keras 2.x, the legacy HDF5
 * format Keras 3 still loads for a name ending in `.h5`), the same layout as
 * Keras's VGG16 weight file:
 *   /  attrs layer_names (every layer, model order), backend, keras_version
 *   /<layer>  attr weight_names, e.g. [b'fc6/kernel:0', b'fc6/bias:0'] (empty for weightless layers)
 *   /<layer>/<layer>/kernel:0   float32, conv HWIO [kh, kw, in, out], transposed conv [kh, kw, out, in]
 * tfjs keeps kernels in that same order, so values are copied as they are.
 * One extra root attribute, fcn_ts_run, holds the run's config.json and
 * dataset.json as JSON so that `fcn import` can rebuild the run; Keras ignores it.
 */
export const KERAS_H5_FILE = 'fcn8_weights.h5';
const RUN_ATTRIBUTE = 'fcn_ts_run';
/** The Keras these files claim to come from: its loader converts nothing for 2.x files. */
const KERAS_VERSION = '2.15.0';

/** What a run folder needs besides the weights. */
export interface RunRecord {
  config: TrainConfig;
  dataset: RunDataset;
}

/** Numpy-style fixed-length byte strings (Keras writes `np.array(names, dtype='S…')`). */
function bytesAttribute(h5: H5Group, name: string, value: string | string[]): void {
  const list = Array.isArray(value) ? value : [value];
  const dtype = `S${Math.max(1, ...list.map((s) => Buffer.byteLength(s)))}`;
  h5.create_attribute(name, value, Array.isArray(value) ? [value.length] : null, dtype);
}

/** Writes `model`'s weights to `file` in Keras's save_weights layout, with the run record beside them. */
export async function writeKerasH5(file: string, model: tf.LayersModel, run: RunRecord): Promise<void> {
  const layers = await Promise.all(
    model.layers.map(async (layer) => ({
      name: layer.name,
      weights: await Promise.all(
        layer.weights.map(async (w) => ({
          // originalName is "<layer>/kernel"; Keras 2 names the variable "<layer>/kernel:0".
          name: `${layer.name}/${w.originalName.split('/').pop()}:0`,
          shape: w.shape as number[],
          values: (await w.read().data()) as Float32Array,
        })),
      ),
    })),
  );
  const bytes = await writeH5((h5) => {
    bytesAttribute(
      h5,
      'layer_names',
      layers.map((l) => l.name),
    );
    bytesAttribute(h5, 'backend', 'tensorflow');
    bytesAttribute(h5, 'keras_version', KERAS_VERSION);
    bytesAttribute(h5, RUN_ATTRIBUTE, JSON.stringify(run));
    for (const layer of layers) {
      const group = h5.create_group(layer.name);
      if (!layer.weights.length) {
        // Keras's np.asarray([]) for a layer without weights: an empty float64 array.
        group.create_attribute('weight_names', new Float64Array(0), [0]);
        continue;
      }
      bytesAttribute(
        group,
        'weight_names',
        layer.weights.map((w) => w.name),
      );
      group.create_group(layer.name);
      for (const w of layer.weights) group.create_dataset({ name: w.name, data: w.values, shape: w.shape });
    }
  });
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomic(file, bytes);
}

/** `fcn export --format keras-h5`: the run's weights (as trained, dropout layers included) in `outDir`. */
export async function exportKerasH5(runDir: string, outDir: string): Promise<string> {
  const run = await loadRun(runDir);
  try {
    const file = path.join(outDir, KERAS_H5_FILE);
    await writeKerasH5(file, run.model, { config: run.config, dataset: run.dataset });
    return file;
  } finally {
    run.model.dispose();
  }
}

/** One layer's weights as the file lists them (kernel first, then bias, as weight_names orders them). */
export interface KerasLayerWeights {
  name: string;
  weights: { name: string; shape: number[]; values: Float32Array }[];
}

const H5_FIX =
  'export it again with `fcn export --format keras-h5`, ' + 'or save it from Keras with model.save_weights(<name>.h5)';

/** Reads a save_weights file: the weights of every layer that has some, and the run record when present. */
export async function readKerasH5(
  file: string,
): Promise<{ layers: Map<string, KerasLayerWeights>; run: RunRecord | null }> {
  if (!fs.existsSync(file)) throw new RunError(`Keras weights file ${file} does not exist`);
  return readH5(file, fs.readFileSync(file), H5_FIX, (h5, h5wasm) => {
    if (!('layer_names' in h5.attrs)) {
      throw new RunError(`${file} has no layer_names attribute, so it is not a save_weights file; ${H5_FIX}`);
    }
    const layers = new Map<string, KerasLayerWeights>();
    for (const name of stringList(h5.get_attribute('layer_names', true))) {
      const group = h5.get(name);
      if (!(group instanceof h5wasm.Group)) {
        throw new RunError(`${file}: layer_names lists ${name} but there is no group /${name}; ${H5_FIX}`);
      }
      const weightNames = 'weight_names' in group.attrs ? stringList(group.get_attribute('weight_names', true)) : [];
      if (!weightNames.length) continue;
      layers.set(name, {
        name,
        weights: weightNames.map((w) => {
          const ds = group.get(w);
          if (!(ds instanceof h5wasm.Dataset) || !ds.shape) {
            throw new RunError(`${file}: dataset /${name}/${w} is missing; ${H5_FIX}`);
          }
          const value = ds.value;
          if (!(value instanceof Float32Array || value instanceof Float64Array)) {
            throw new RunError(`${file}: /${name}/${w} is ${JSON.stringify(ds.dtype)}, not float32; ${H5_FIX}`);
          }
          return { name: w, shape: ds.shape, values: value instanceof Float32Array ? value : Float32Array.from(value) };
        }),
      });
    }
    const run =
      RUN_ATTRIBUTE in h5.attrs ? (JSON.parse(String(h5.get_attribute(RUN_ATTRIBUTE, true))) as RunRecord) : null;
    return { layers, run };
  });
}

/** Copies the file's weights into `model` by layer name, checking every weighted layer and its shapes. */
function setWeightsByName(file: string, model: tf.LayersModel, layers: Map<string, KerasLayerWeights>): void {
  const expected = model.layers.filter((l) => l.weights.length);
  const missing = expected.filter((l) => !layers.has(l.name)).map((l) => l.name);
  const extra = [...layers.keys()].filter((n) => !expected.some((l) => l.name === n));
  if (missing.length || extra.length) {
    throw new RunError(
      `${file} does not match the run's FCN-8: ` +
        `${missing.length ? `missing ${missing.join(', ')}` : ''}` +
        `${extra.length ? ` unexpected ${extra.join(', ')}` : ''}; give the run it came from with --like <run>`,
    );
  }
  for (const layer of expected) {
    const saved = layers.get(layer.name)!.weights;
    const shapes = layer.weights.map((w) => w.shape.join('x'));
    if (saved.length !== shapes.length || saved.some((w, i) => w.shape.join('x') !== shapes[i])) {
      const held = saved.map((w) => w.shape.join('x')).join(', ');
      throw new RunError(
        `${file}: ${layer.name} holds ${held}, the run's model` +
          ` wants ${shapes.join(', ')} (another width or fc6?); give the run it came from with --like <run>`,
      );
    }
    const tensors = saved.map((w) => tf.tensor(w.values, w.shape));
    layer.setWeights(tensors);
    tf.dispose(tensors);
  }
}

/**
 * Turns a save_weights file back into a run folder (config, dataset, model;
 * a fresh optimizer at epoch 0, so `fcn train --resume` fine-tunes from it).
 * The config and dataset come from the file's fcn_ts_run attribute, or from
 * the run folder `like` (needed for a file Keras wrote, which lacks it).
 */
export async function importKerasH5(file: string, outDir: string, like?: string): Promise<string[]> {
  if (hasCheckpoint(outDir)) throw new RunError(`${outDir} already holds a run; import into a new folder`);
  const { layers, run: stored } = await readKerasH5(file);
  const run: RunRecord | null = like
    ? { config: readJson(path.join(like, RUN_FILES.config)), dataset: readJson(path.join(like, RUN_FILES.dataset)) }
    : stored;
  if (!run) {
    throw new RunError(
      `${file} has no ${RUN_ATTRIBUTE} attribute (Keras wrote it);` + `name a run with the same settings: --like <run>`,
    );
  }
  const model = buildFcn8(run.config.model);
  const optimizer = tf.train.adam(run.config.learningRate);
  try {
    setWeightsByName(file, model, layers);
    await saveCheckpoint(outDir, model, optimizer, {
      epoch: 0,
      step: 0,
      batchInEpoch: 0,
      partial: { lossSum: 0, regSum: 0, batches: 0 },
    });
    writeJson(path.join(outDir, RUN_FILES.config), run.config);
    writeJson(path.join(outDir, RUN_FILES.dataset), run.dataset);
  } finally {
    model.dispose();
    optimizer.dispose();
  }
  return [RUN_FILES.config, RUN_FILES.dataset, RUN_FILES.model, RUN_FILES.weights, RUN_FILES.state].map((f) =>
    path.join(outDir, f),
  );
}
