import type * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { VGG_MEAN_BGR } from '../model/preprocess';
import { buildFcn8 } from '../model/fcn8';
import { RUN_FILES, modelArtifacts } from '../run/checkpoint';
import { writeFileAtomic, writeJson } from '../util/storage';
import { loadRun } from '../run/load-run';
import { paletteFor, type Palette } from '../viz/palette';
import { quantizeWeights, type WeightQuantization } from './quantize';

/** What a browser or Node app needs besides the weights: classes, sizes, preprocessing. */
export interface ExportedModelInfo {
  format: 'fcn-ts-inference/1';
  classes: { name: string; color: readonly [number, number, number] }[];
  /** The colour each class is painted with (null: left as the photo), as `fcn predict` paints them. */
  overlayPalette: Palette;
  /** The training size; predictions are best at this scale. */
  inputShape: readonly [number, number];
  /** Input multiple: pad H and W up to it. */
  stride: 32;
  preprocessing: { channelOrder: 'BGR'; meanBGR: readonly number[]; scale: 1 };
  /** How weights.bin stores the weights; tf.loadLayersModel dequantizes to float32 either way. */
  weights: { quantization: WeightQuantization | null; bytes: number; parameters: number };
}

/** The file beside model.json that makes a folder an `fcn export` folder. */
export const EXPORT_INFO_FILE = 'fcn-model.json';

export interface ExportOptions {
  /** Store the weights as float16 or affine uint8 (tfjs-converter's weight quantization). */
  quantize?: WeightQuantization | null;
}

/**
 * Writes an inference copy of a run for a browser or any tfjs app:
 * model.json + weights.bin made of stock tfjs layers only (no dropout, so no
 * custom class to register), and fcn-model.json with the classes and the
 * preprocessing. Load with `tf.loadLayersModel('<url>/model.json')`.
 */
export async function exportForInference(runDir: string, outDir: string, opts: ExportOptions = {}): Promise<string[]> {
  const run = await loadRun(runDir);
  try {
    const model = buildFcn8({ ...run.config.model, dropout: 0 });
    // getWeights hands out the variables themselves (no copies), so nothing here is disposed.
    for (const layer of model.layers) {
      if (layer.weights.length) layer.setWeights(run.model.getLayer(layer.name).getWeights());
    }
    const artifacts = await modelArtifacts(model);
    model.dispose();
    const manifest = JSON.parse(artifacts.json) as { weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[] };
    let weights = artifacts.weights;
    if (opts.quantize) {
      const q = quantizeWeights(manifest.weightsManifest[0].weights, weights, opts.quantize);
      manifest.weightsManifest[0].weights = q.specs;
      weights = q.data;
    }
    fs.mkdirSync(outDir, { recursive: true });
    writeFileAtomic(path.join(outDir, RUN_FILES.weights), weights);
    writeFileAtomic(path.join(outDir, RUN_FILES.model), JSON.stringify(manifest));
    const info: ExportedModelInfo = {
      format: 'fcn-ts-inference/1',
      classes: run.dataset.classes,
      overlayPalette: paletteFor(run.dataset.classes),
      inputShape: run.config.model.inputShape,
      stride: 32,
      preprocessing: { channelOrder: 'BGR', meanBGR: VGG_MEAN_BGR, scale: 1 },
      weights: { quantization: opts.quantize ?? null, bytes: weights.byteLength, parameters: run.model.countParams() },
    };
    writeJson(path.join(outDir, EXPORT_INFO_FILE), info);
    return [RUN_FILES.model, RUN_FILES.weights, EXPORT_INFO_FILE].map((f) => path.join(outDir, f));
  } finally {
    run.model.dispose();
  }
}
