import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { registerDilatedConvGradient } from '../backend/dilated-conv-grad';
import { RunError } from '../util/errors';
import { freeBytes, formatBytes, isStorageFault, removeQuietly, storageError } from '../util/storage';

/**
 * A run folder, runs/<name>/:
 *   config.json      the TrainConfig (written once)
 *   dataset.json     the dataset's name, folder and classes
 *   model.json       topology + weights manifest  ┐ rewritten together,
 *   weights.bin      model weights                │ each as .tmp then
 *   optimizer.bin    Adam's slots + iterations    │ renamed, state.json last:
 *   state.json       epoch, step, position,       ┘ it marks a whole checkpoint
 *                    sizes and SHA-256 of the three files above
 *   history.json     one entry per finished epoch
 *   metrics.json     written by evaluation (src/eval/scored-split.ts)
 *   previous/        the checkpoint before the last one (hard links)
 *   train.pid        while a process trains into the folder
 * Written with plain fs through a tfjs IO handler, so it works on every
 * backend (tfjs-node's file:// handler does not exist on wasm or WebGPU).
 */
export const RUN_FILES = {
  config: 'config.json',
  dataset: 'dataset.json',
  model: 'model.json',
  weights: 'weights.bin',
  optimizer: 'optimizer.bin',
  state: 'state.json',
  history: 'history.json',
  metrics: 'metrics.json',
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
  for (const p of parts) {
    out.set(new Uint8Array(p), off);
    off += p.byteLength;
  }
  return out;
}

/** Serialises the model's topology and weights; the caller decides when the files go live. */
export async function modelArtifacts(model: tf.LayersModel): Promise<{ json: string; weights: Uint8Array }> {
  let captured: tf.io.ModelArtifacts | null = null;
  await model.save(
    tf.io.withSaveHandler((artifacts) => {
      captured = artifacts;
      return Promise.resolve({ modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } });
    }),
  );
  const a = captured as unknown as tf.io.ModelArtifacts;
  const json = JSON.stringify({
    format: 'layers-model',
    generatedBy: 'fcn-ts',
    convertedBy: null,
    modelTopology: a.modelTopology,
    weightsManifest: [{ paths: [RUN_FILES.weights], weights: a.weightSpecs }],
  });
  return { json, weights: concatBuffers(a.weightData as ArrayBuffer | ArrayBuffer[]) };
}

/** Adam's slots as one buffer plus their specs. */
async function optimizerArtifacts(
  optimizer: tf.Optimizer,
): Promise<{ specs: tf.io.WeightsManifestEntry[]; data: Uint8Array }> {
  const named = await optimizer.getWeights();
  const { data, specs } = await tf.io.encodeWeights(named);
  // getWeights returns the slot variables themselves plus a fresh 'iter' scalar, which is ours to free.
  tf.dispose(named.filter((w) => !(w.tensor instanceof tf.Variable)).map((w) => w.tensor));
  return { specs, data: concatBuffers(data) };
}

/** The checkpoint format this build writes (state.json `version`); 1 = before files were recorded. */
export const CHECKPOINT_VERSION = 2;
/** The checkpoint before the last one, kept as hard links (no extra space) until the next one is complete. */
export const PREVIOUS_DIR = 'previous';

/** What state.json records of each checkpoint file, so that a truncated or zeroed file is caught on load. */
interface FileRecord {
  bytes: number;
  sha256: string;
}
type CheckpointFile = 'model' | 'weights' | 'optimizer';
const CHECKPOINT_FILES: readonly CheckpointFile[] = ['weights', 'model', 'optimizer'];

interface SavedState extends TrainState {
  version: number;
  optimizerSpecs: tf.io.WeightsManifestEntry[];
  files?: Record<CheckpointFile, FileRecord>;
}

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

/** Bytes of one checkpoint of a model with `params` parameters: float32 weights and Adam's two slots per weight. */
export function checkpointBytes(params: number): number {
  return params * 4 * 3;
}

/**
 * Checks before training that the run folder's disk can take checkpoints:
 * an error when not even one fits, a warning (returned) when fewer than two
 * do (a save writes the new checkpoint beside the last one).
 */
export function checkCheckpointSpace(dir: string, bytes: number): string | null {
  const free = freeBytes(dir);
  const need = `one checkpoint is ${formatBytes(bytes)}, ${formatBytes(free)} is free`;
  if (free < bytes) {
    throw storageError(
      path.join(dir, RUN_FILES.weights),
      bytes,
      { code: 'ENOSPC' } as NodeJS.ErrnoException,
      `Nothing was trained. Free some space on that disk, or train into another folder with --out.`,
    );
  }
  return free < 2 * bytes
    ? `the disk of ${path.resolve(dir)} holds fewer than two checkpoints (${need}); a save will fail once the ` +
        'second is written beside the first. Free some space, or train into another folder with --out'
    : null;
}

/** "Continue from epoch N" for a failed save: the checkpoint that is still complete in `dir`, if any. */
function resumeAdvice(dir: string): string {
  const last = completeCheckpoint(dir);
  return last === null
    ? 'No checkpoint was completed yet, and the partial files were removed. Free some space, or train into another ' +
        'folder with --out, and start again.'
    : `The partial files were removed; the last complete checkpoint (epoch ${last.epoch}` +
        `${last.batchInEpoch ? `, batch ${last.batchInEpoch}` : ''}) in ${dir} is intact. Free some space, then ` +
        `continue with: npx fcn train --out ${dir} --resume`;
}

/**
 * Saves model, optimizer and state into `dir` as one checkpoint. Every file
 * is written as .tmp first; only when all are complete does the previous
 * checkpoint move to previous/ (hard links) and the new files take their
 * names, state.json last. A failed write (disk full, read-only) removes the
 * temporary files and throws a StorageError that says which epoch is intact.
 */
export async function saveCheckpoint(
  dir: string,
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  state: TrainState,
): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  const m = await modelArtifacts(model);
  const o = await optimizerArtifacts(optimizer);
  const data: Record<CheckpointFile, string | Uint8Array> = { weights: m.weights, model: m.json, optimizer: o.data };
  const files = Object.fromEntries(
    CHECKPOINT_FILES.map((f) => [f, { bytes: Buffer.byteLength(data[f]), sha256: sha256(data[f]) }]),
  );
  const saved = { version: CHECKPOINT_VERSION, ...state, optimizerSpecs: o.specs, files };
  const writes: [string, string | Uint8Array][] = [
    ...CHECKPOINT_FILES.map((f): [string, string | Uint8Array] => [RUN_FILES[f], data[f]]),
    [RUN_FILES.state, JSON.stringify(saved, null, 2) + '\n'],
  ];
  const tmp = (name: string) => path.join(dir, `${name}.tmp`);
  // The checkpoint before the last one goes first: during the write the disk holds the last one and the new one.
  fs.rmSync(path.join(dir, PREVIOUS_DIR), { recursive: true, force: true });
  for (const [name, bytes] of writes) {
    try {
      fs.writeFileSync(tmp(name), bytes);
    } catch (err) {
      removeQuietly(writes.map(([n]) => tmp(n)));
      if (!isStorageFault(err)) throw err;
      throw storageError(
        path.join(dir, name),
        writes.reduce((n, [, b]) => n + Buffer.byteLength(b), 0),
        err,
        resumeAdvice(dir),
      );
    }
  }
  keepAsPrevious(dir);
  for (const [name] of writes) fs.renameSync(tmp(name), path.join(dir, name));
}

/** Hard-links the complete checkpoint in `dir` into dir/previous/ (nothing when there is none). */
function keepAsPrevious(dir: string): void {
  // Existence is enough: checkpoint files only ever appear whole (renamed from .tmp).
  if (!hasCheckpoint(dir)) return;
  const prev = path.join(dir, PREVIOUS_DIR);
  try {
    fs.mkdirSync(prev);
    for (const name of [...CHECKPOINT_FILES.map((f) => RUN_FILES[f]), RUN_FILES.state, RUN_FILES.history]) {
      if (fs.existsSync(path.join(dir, name))) fs.linkSync(path.join(dir, name), path.join(prev, name));
    }
  } catch {
    // A file system without hard links (or no room for a directory entry) keeps no previous checkpoint.
    fs.rmSync(prev, { recursive: true, force: true });
  }
}

/** Written by the process that trains into a run folder, so that no other one touches its files meanwhile. */
export const TRAINER_FILE = 'train.pid';

/** The pid of another live process training into `dir`, or null. */
export function otherTrainer(dir: string): number | null {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(path.join(dir, TRAINER_FILE), 'utf8'));
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    // EPERM: alive, under another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? pid : null;
  }
}

/**
 * Finishes or discards a save that a kill cut off. state.json.tmp is
 * written after every other file of the new checkpoint, and the renames
 * start only after it: when it is whole and every file matches it (as .tmp
 * or already renamed), the renames are finished; otherwise the .tmp files
 * go and the last checkpoint, never touched, stays. Nothing is done while
 * another process trains into `dir`.
 */
export function recoverCheckpoint(dir: string): 'none' | 'completed' | 'discarded' {
  const names = [...CHECKPOINT_FILES.map((f) => RUN_FILES[f]), RUN_FILES.state];
  const tmp = (name: string) => path.join(dir, `${name}.tmp`);
  if (!names.some((n) => fs.existsSync(tmp(n))) || otherTrainer(dir) !== null) return 'none';
  const discard = () => {
    removeQuietly(names.map(tmp));
    return 'discarded' as const;
  };
  let saved: SavedState;
  try {
    saved = JSON.parse(fs.readFileSync(tmp(RUN_FILES.state), 'utf8')) as SavedState;
  } catch {
    return discard();
  }
  const matches = (file: string, f: CheckpointFile) => {
    const record = saved.files?.[f];
    if (!record || !fs.existsSync(file)) return false;
    const buf = fs.readFileSync(file);
    return buf.byteLength === record.bytes && sha256(buf) === record.sha256;
  };
  const pending = CHECKPOINT_FILES.filter((f) => fs.existsSync(tmp(RUN_FILES[f])));
  const whole = CHECKPOINT_FILES.every((f) =>
    pending.includes(f) ? matches(tmp(RUN_FILES[f]), f) : matches(path.join(dir, RUN_FILES[f]), f),
  );
  if (!whole) return discard();
  for (const f of pending) fs.renameSync(tmp(RUN_FILES[f]), path.join(dir, RUN_FILES[f]));
  fs.renameSync(tmp(RUN_FILES.state), path.join(dir, RUN_FILES.state));
  return 'completed';
}

/** True when `dir` holds a complete checkpoint. */
export function hasCheckpoint(dir: string): boolean {
  return [RUN_FILES.model, RUN_FILES.weights, RUN_FILES.state].every((f) => fs.existsSync(path.join(dir, f)));
}

/** The state of the checkpoint in `dir` when all its files are there and match state.json; else null. */
function completeCheckpoint(dir: string): TrainState | null {
  try {
    requireCheckpoint(dir);
    const saved = readState(dir);
    for (const f of CHECKPOINT_FILES) verifyFile(dir, f, saved);
    return saved;
  } catch {
    return null;
  }
}

/** Where a damaged checkpoint's user can go back to. */
function previousAdvice(dir: string): string {
  const prev = path.join(dir, PREVIOUS_DIR);
  const older = completeCheckpoint(prev);
  return older === null
    ? 'No older checkpoint is kept; train again into another folder (--out).'
    : `An older complete checkpoint (epoch ${older.epoch}) is in ${prev}; to go back to it: cp ${prev}/* ${dir}/`;
}

/** Throws a RunError naming the fix when `dir` is no run folder or holds no complete checkpoint. */
export function requireCheckpoint(dir: string): void {
  if (!fs.existsSync(dir))
    throw new RunError(`run folder ${dir} does not exist; train one with: npx fcn train --out ${dir}`);
  recoverCheckpoint(dir);
  const missing = [RUN_FILES.model, RUN_FILES.weights, RUN_FILES.state].filter(
    (f) => !fs.existsSync(path.join(dir, f)),
  );
  if (missing.length) {
    throw new RunError(
      `run folder ${dir} has no saved model (missing ${missing.join(', ')}); train one with: npx fcn train --out ${dir}`,
    );
  }
}

const isCount = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;

/** state.json, checked field by field; a damaged or foreign one names the field. */
function readState(dir: string): SavedState {
  const file = path.join(dir, RUN_FILES.state);
  const saved = readJson<SavedState>(file);
  const bad = (field: string, value: unknown, expected: string) =>
    new RunError(
      `${file}: "${field}" is ${JSON.stringify(value)}, expected ${expected}; the checkpoint is damaged or from another ` +
        `version of fcn-ts. ${previousAdvice(dir)}`,
    );
  if (typeof saved !== 'object' || saved === null) throw bad('(the file)', saved, 'an object');
  const version = saved.version ?? 1;
  if (version !== 1 && version !== CHECKPOINT_VERSION)
    throw bad('version', saved.version, `1 or ${CHECKPOINT_VERSION}`);
  for (const field of ['epoch', 'step', 'batchInEpoch'] as const) {
    if (!isCount(saved[field])) throw bad(field, saved[field], 'a whole number >= 0');
  }
  const p = saved.partial;
  if (
    typeof p !== 'object' ||
    p === null ||
    !isCount(p.batches) ||
    !Number.isFinite(p.lossSum) ||
    !Number.isFinite(p.regSum)
  ) {
    throw bad('partial', p, '{ lossSum, regSum, batches } numbers');
  }
  if (!Array.isArray(saved.optimizerSpecs)) throw bad('optimizerSpecs', saved.optimizerSpecs, 'a list of weight specs');
  if (
    version >= 2 &&
    CHECKPOINT_FILES.some((f) => !isCount(saved.files?.[f]?.bytes) || typeof saved.files?.[f]?.sha256 !== 'string')
  ) {
    throw bad('files', saved.files, 'the byte count and SHA-256 of model.json, weights.bin and optimizer.bin');
  }
  return saved;
}

/** Reads a checkpoint file and checks it against what state.json recorded at save time. */
function verifyFile(dir: string, f: CheckpointFile, saved: SavedState): Buffer {
  const file = path.join(dir, RUN_FILES[f]);
  if (!fs.existsSync(file))
    throw new RunError(`${file} is missing; the checkpoint is incomplete. ${previousAdvice(dir)}`);
  const buf = fs.readFileSync(file);
  const record = saved.files?.[f];
  if (!record) return buf;
  if (buf.byteLength !== record.bytes) {
    throw new RunError(
      `${file} has ${buf.byteLength} bytes; state.json recorded ${record.bytes} when it was saved: the ` +
        `file is truncated or was replaced. ${previousAdvice(dir)}`,
    );
  }
  if (sha256(buf) !== record.sha256) {
    throw new RunError(
      `${file} has the right size (${buf.byteLength} bytes) but not the SHA-256 state.json recorded: ` +
        `its bytes were overwritten (e.g. zeroed). ${previousAdvice(dir)}`,
    );
  }
  return buf;
}

type ModelJson = { modelTopology: object; weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[] };

/** Loads the model of a run folder (no optimizer), after checking its files against state.json. */
export async function loadRunModel(dir: string): Promise<tf.LayersModel> {
  requireCheckpoint(dir);
  registerDilatedConvGradient(); // a resumed lite fc6 trains through a dilated conv
  const saved = readState(dir);
  const modelFile = path.join(dir, RUN_FILES.model);
  const text = verifyFile(dir, 'model', saved).toString('utf8');
  let json: ModelJson;
  try {
    json = JSON.parse(text) as ModelJson;
  } catch (err) {
    throw new RunError(
      `${modelFile} is not valid JSON (${(err as Error).message}); the checkpoint is damaged. ${previousAdvice(dir)}`,
    );
  }
  if (
    typeof json?.modelTopology !== 'object' ||
    !Array.isArray(json.weightsManifest) ||
    !json.weightsManifest.every((g) => Array.isArray(g?.weights))
  ) {
    throw new RunError(
      `${modelFile} has no "modelTopology" object or "weightsManifest" list; the checkpoint is damaged. ` +
        previousAdvice(dir),
    );
  }
  const buf = verifyFile(dir, 'weights', saved);
  const specs = json.weightsManifest.flatMap((g) => g.weights);
  const expected = specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1) * 4, 0);
  if (buf.byteLength !== expected) {
    throw new RunError(
      `${path.join(dir, RUN_FILES.weights)} has ${buf.byteLength} bytes, model.json expects ${expected}; ` +
        `the checkpoint is damaged. ${previousAdvice(dir)}`,
    );
  }
  const weightData = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData }));
}

/** Restores the optimizer's slots and returns the saved state. */
export async function loadTrainState(dir: string, optimizer: tf.Optimizer): Promise<TrainState> {
  requireCheckpoint(dir);
  const saved = readState(dir);
  if (saved.optimizerSpecs.length) {
    const optPath = path.join(dir, RUN_FILES.optimizer);
    if (!fs.existsSync(optPath))
      throw new RunError(`${optPath} is missing; cannot resume the optimizer. ${previousAdvice(dir)}`);
    const buf = verifyFile(dir, 'optimizer', saved);
    const expected = saved.optimizerSpecs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1) * 4, 0);
    if (buf.byteLength !== expected) {
      throw new RunError(
        `${optPath} has ${buf.byteLength} bytes, state.json's optimizerSpecs expect ${expected}; ` +
          `the checkpoint is damaged. ${previousAdvice(dir)}`,
      );
    }
    const named = tf.io.decodeWeights(
      buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer,
      saved.optimizerSpecs,
    );
    // Adam keys its slots by position, in the order applyGradients first saw the variables.
    await optimizer.setWeights(saved.optimizerSpecs.map((s) => ({ name: s.name, tensor: named[s.name] })));
    // setWeights shares the data with new variables; our handles can go.
    tf.dispose(Object.values(named));
  }
  const { optimizerSpecs: _specs, files: _files, version: _version, ...state } = saved;
  return state;
}
