import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ClassInfo } from '../data/types';
import { RUN_FILES, readJson } from '../run/checkpoint';
import { loadRun } from '../run/load-run';
import { RunError } from '../util/errors';
import { EXPORT_INFO_FILE, type ExportedModelInfo } from './export';

/** What `predict` needs: a model, its classes and the size it was trained at. */
export interface Predictor {
  model: tf.LayersModel;
  classes: readonly ClassInfo[];
  inputShape: readonly [number, number];
}

/** True for a folder `fcn export` wrote (model.json + weights.bin + fcn-model.json). */
export function isExportDir(dir: string): boolean {
  return fs.existsSync(path.join(dir, EXPORT_INFO_FILE));
}

/** Bytes a manifest entry takes in weights.bin: its quantized size when it has a `quantization` field. */
function storedBytes(spec: tf.io.WeightsManifestEntry): number {
  const perValue = spec.quantization ? { uint8: 1, uint16: 2, float16: 2 }[spec.quantization.dtype] : 4;
  return spec.shape.reduce((a, b) => a * b, 1) * perValue;
}

/** Loads an `fcn export` folder, quantized or not (tfjs dequantizes while loading). */
export async function loadExportedModel(dir: string): Promise<Predictor> {
  const info = readJson<ExportedModelInfo>(path.join(dir, EXPORT_INFO_FILE));
  const json = readJson<{ modelTopology: object; weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[] }>(
    path.join(dir, RUN_FILES.model),
  );
  const file = path.join(dir, RUN_FILES.weights);
  if (!fs.existsSync(file)) {
    throw new RunError(`${file} is missing; export the run again with: npx fcn export --run <run> --out ${dir}`);
  }
  const buf = fs.readFileSync(file);
  const specs = json.weightsManifest.flatMap((g) => g.weights);
  const expected = specs.reduce((n, s) => n + storedBytes(s), 0);
  if (buf.byteLength !== expected) {
    throw new RunError(`${file} has ${buf.byteLength} bytes, model.json expects ${expected}; export the run again`);
  }
  const weightData = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData }),
  );
  return { model, classes: info.classes, inputShape: info.inputShape };
}

/** A run folder or an export folder, whichever `dir` is. */
export async function loadPredictor(dir: string): Promise<Predictor> {
  if (isExportDir(dir)) return loadExportedModel(dir);
  const run = await loadRun(dir);
  return { model: run.model, classes: run.dataset.classes, inputShape: run.config.model.inputShape };
}
