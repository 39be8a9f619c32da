import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { registerDilatedConvGradient } from '../backend/dilated-conv-grad';
import { RunError } from '../util/errors';

/**
 * A run folder, runs/<name>/:
 *   config.json      the TrainConfig (written once)
 *   dataset.json     the dataset's name, folder and classes
 *   model.json       topology + weights manifest  ┐ rewritten together,
 *   weights.bin      model weights                │ each as .tmp then
 *   optimizer.bin    Adam's slots + iterations    │ renamed, state.json last:
 *   state.json       epoch, step, position        ┘ it marks a whole checkpoint
 *   history.json     one entry per finished epoch
 *   metrics.json     written by evaluation
 * Written with plain fs through a tfjs IO handler, so it works on every
 * backend (tfjs-node's file:// handler does not exist on wasm or WebGPU).
 */
export const RUN_FILES = {
  config: 'config.json', dataset: 'dataset.json', model: 'model.json', weights: 'weights.bin', optimizer: 'optimizer.bin',
  state: 'state.json', history: 'history.json', metrics: 'metrics.json',
} as const;

/** Where training stands; saved with every checkpoint. */
export interface TrainState {
  /** Epochs finished. */
  epoch: number;
  /** Optimizer steps taken. */
  step: number;
  /** Batches of epoch `epoch` already done (non-zero after an interrupt mid-epoch). */
  batchInEpoch: number;
  /** Running sums of the unfinished epoch, so its mean loss is exact after a resume. */
  partial: { lossSum: number; regSum: number; batches: number };
  /** Set when a run stopped on a non-finite loss. */
  diverged?: string;
}

/** Writes `data` to `file` atomically: a reader sees the old file or the new one, never half. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

export function writeJson(file: string, value: unknown): void {
  writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
}

export function readJson<T>(file: string): T {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new RunError(`${file} is missing`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new RunError(`${file} is not valid JSON (${(err as Error).message}); the run folder is damaged`);
  }
}

function concatBuffers(parts: ArrayBuffer | ArrayBuffer[]): Uint8Array {
  if (!Array.isArray(parts)) return new Uint8Array(parts);
  const total = parts.reduce((n, p) => n + p.byteLength, 0);
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) { out.set(new Uint8Array(p), off); off += p.byteLength; }
  return out;
}

/** Serialises the model's topology and weights; the caller decides when the files go live. */
export async function modelArtifacts(model: tf.LayersModel): Promise<{ json: string; weights: Uint8Array }> {
  let captured: tf.io.ModelArtifacts | null = null;
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    captured = artifacts;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  const a = captured as unknown as tf.io.ModelArtifacts;
  const json = JSON.stringify({
    format: 'layers-model', generatedBy: 'fcn-ts', convertedBy: null,
    modelTopology: a.modelTopology,
    weightsManifest: [{ paths: [RUN_FILES.weights], weights: a.weightSpecs }],
  });
  return { json, weights: concatBuffers(a.weightData as ArrayBuffer | ArrayBuffer[]) };
}

/** Adam's slots as one buffer plus their specs. */
async function optimizerArtifacts(optimizer: tf.Optimizer): Promise<{ specs: tf.io.WeightsManifestEntry[]; data: Uint8Array }> {
  const named = await optimizer.getWeights();
  const { data, specs } = await tf.io.encodeWeights(named);
  // getWeights returns the slot variables themselves plus a fresh 'iter' scalar, which is ours to free.
  tf.dispose(named.filter((w) => !(w.tensor instanceof tf.Variable)).map((w) => w.tensor));
  return { specs, data: concatBuffers(data as ArrayBuffer | ArrayBuffer[]) };
}

/** Saves model, optimizer and state into `dir` as one checkpoint. */
export async function saveCheckpoint(
  dir: string, model: tf.LayersModel, optimizer: tf.Optimizer, state: TrainState,
): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  const m = await modelArtifacts(model);
  const o = await optimizerArtifacts(optimizer);
  const files: [string, string | Uint8Array][] = [
    [RUN_FILES.weights, m.weights],
    [RUN_FILES.model, m.json],
    [RUN_FILES.optimizer, o.data],
  ];
  for (const [name, data] of files) fs.writeFileSync(path.join(dir, `${name}.tmp`), data);
  for (const [name] of files) fs.renameSync(path.join(dir, `${name}.tmp`), path.join(dir, name));
  writeJson(path.join(dir, RUN_FILES.state), { ...state, optimizerSpecs: o.specs });
}

/** True when `dir` holds a complete checkpoint. */
export function hasCheckpoint(dir: string): boolean {
  return [RUN_FILES.model, RUN_FILES.weights, RUN_FILES.state].every((f) => fs.existsSync(path.join(dir, f)));
}

function requireCheckpoint(dir: string): void {
  if (!fs.existsSync(dir)) throw new RunError(`run folder ${dir} does not exist; train one with: npx fcn train --out ${dir}`);
  const missing = [RUN_FILES.model, RUN_FILES.weights, RUN_FILES.state].filter((f) => !fs.existsSync(path.join(dir, f)));
  if (missing.length) {
    throw new RunError(`run folder ${dir} has no saved model (missing ${missing.join(', ')}); train one with: npx fcn train --out ${dir}`);
  }
}

/** Loads the model of a run folder (no optimizer). */
export async function loadRunModel(dir: string): Promise<tf.LayersModel> {
  requireCheckpoint(dir);
  registerDilatedConvGradient();  // a resumed lite fc6 trains through a dilated conv
  const json = readJson<{ modelTopology: object; weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[] }>(
    path.join(dir, RUN_FILES.model));
  const buf = fs.readFileSync(path.join(dir, RUN_FILES.weights));
  const specs = json.weightsManifest.flatMap((g) => g.weights);
  const expected = specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1) * 4, 0);
  if (buf.byteLength !== expected) {
    throw new RunError(`${path.join(dir, RUN_FILES.weights)} has ${buf.byteLength} bytes, model.json expects ${expected}; the checkpoint is damaged`);
  }
  const weightData = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData }));
}

/** Restores the optimizer's slots and returns the saved state. */
export async function loadTrainState(dir: string, optimizer: tf.Optimizer): Promise<TrainState> {
  requireCheckpoint(dir);
  const saved = readJson<TrainState & { optimizerSpecs: tf.io.WeightsManifestEntry[] }>(path.join(dir, RUN_FILES.state));
  const optPath = path.join(dir, RUN_FILES.optimizer);
  if (saved.optimizerSpecs.length) {
    if (!fs.existsSync(optPath)) throw new RunError(`${optPath} is missing; cannot resume the optimizer`);
    const buf = fs.readFileSync(optPath);
    const named = tf.io.decodeWeights(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength), saved.optimizerSpecs);
    // Adam keys its slots by position, in the order applyGradients first saw the variables.
    await optimizer.setWeights(saved.optimizerSpecs.map((s) => ({ name: s.name, tensor: named[s.name] })));
    // setWeights shares the data with new variables; our handles can go.
    tf.dispose(Object.values(named));
  }
  const { optimizerSpecs: _specs, ...state } = saved;
  return state;
}
