import * as fs from 'node:fs';
import * as path from 'node:path';
import { VGG_MEAN_BGR } from '../model/preprocess';
import { buildFcn8 } from '../model/fcn8';
import { RUN_FILES, modelArtifacts, writeFileAtomic, writeJson } from '../train/checkpoint';
import { loadRun } from '../train/load-run';

/** What a browser or Node app needs besides the weights: classes, sizes, preprocessing. */
export interface ExportedModelInfo {
  format: 'fcn-ts-inference/1';
  classes: { name: string; color: readonly [number, number, number] }[];
  /** The training size; predictions are best at this scale. */
  inputShape: readonly [number, number];
  /** Input multiple: pad H and W up to it. */
  stride: 32;
  preprocessing: { channelOrder: 'BGR'; meanBGR: readonly number[]; scale: 1 };
}

/**
 * Writes an inference copy of a run for a browser or any tfjs app:
 * model.json + weights.bin made of stock tfjs layers only (no dropout, so no
 * custom class to register), and fcn-model.json with the classes and the
 * preprocessing. Load with `tf.loadLayersModel('<url>/model.json')`.
 */
export async function exportForInference(runDir: string, outDir: string): Promise<string[]> {
  const run = await loadRun(runDir);
  const model = buildFcn8({ ...run.config.model, dropout: 0 });
  // getWeights hands out the variables themselves (no copies), so nothing here is disposed.
  for (const layer of model.layers) {
    if (layer.weights.length) layer.setWeights(run.model.getLayer(layer.name).getWeights());
  }
  const { json, weights } = await modelArtifacts(model);
  fs.mkdirSync(outDir, { recursive: true });
  writeFileAtomic(path.join(outDir, RUN_FILES.weights), weights);
  writeFileAtomic(path.join(outDir, RUN_FILES.model), json);
  const info: ExportedModelInfo = {
    format: 'fcn-ts-inference/1', classes: run.dataset.classes, inputShape: run.config.model.inputShape, stride: 32,
    preprocessing: { channelOrder: 'BGR', meanBGR: VGG_MEAN_BGR, scale: 1 },
  };
  writeJson(path.join(outDir, 'fcn-model.json'), info);
  model.dispose();
  run.model.dispose();
  return [RUN_FILES.model, RUN_FILES.weights, 'fcn-model.json'].map((f) => path.join(outDir, f));
}
