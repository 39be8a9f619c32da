import * as fs from 'node:fs';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { downloadFile, hashFile } from '../util/download';
import { RunError } from '../util/errors';
import { readVgg16H5, Vgg16Weights } from './vgg16-weights';

/** One of Keras's VGG16 ImageNet weight files. */
export interface Vgg16WeightFile {
  readonly name: string;
  /** True for the file with fc1/fc2 (needed for fc6/fc7), false for `_notop`. */
  readonly top: boolean;
  readonly size: number;
  /**
   * Keras's published `file_hash` (keras/applications/vgg16.py passes it to
   * get_file, which reads a 32-digit hash as MD5). Keras publishes no SHA-256,
   * so identity is size + MD5; other files are checked by structure.
   */
  readonly md5: string;
  /** Where to get it, in order. */
  readonly urls: readonly string[];
}

const KERAS_URL = 'https://storage.googleapis.com/tensorflow/keras-applications/vgg16/';
const GITHUB_URL = 'https://github.com/fchollet/deep-learning-models/releases/download/v0.1/';

const kerasFile = (name: string, top: boolean, size: number, md5: string): Vgg16WeightFile =>
  Object.freeze({ name, top, size, md5, urls: Object.freeze([KERAS_URL + name, GITHUB_URL + name]) });

/** The full file first: only it has the fc1/fc2 weights that fc6/fc7 start from (paper sec. 3.1). */
export const VGG16_WEIGHT_FILES: readonly Vgg16WeightFile[] = Object.freeze([
  kerasFile('vgg16_weights_tf_dim_ordering_tf_kernels.h5', true, 553_467_096, '64373286793e3c8b2b4e3219cbf3544b'),
  kerasFile('vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5', false, 58_889_256, '6d6bbae143d832006294945121d1f1fc'),
]);

/** Where the weight files live, under the working folder as the CLI's other data. */
export const VGG16_WEIGHTS_DIR = path.join('data', 'weights');

export interface WeightsDirOptions {
  /** Folder of the weight files (default data/weights/). */
  dir?: string;
  /** Gets one line per step. */
  log?: (line: string) => void;
  /** The known files (default VGG16_WEIGHT_FILES); tests use local ones. */
  files?: readonly Vgg16WeightFile[];
}

/** The first known weight file present in `dir` (the full one before `_notop`), or null. */
export function defaultVgg16WeightsPath(dir = VGG16_WEIGHTS_DIR, files = VGG16_WEIGHT_FILES): string | null {
  const found = files.map((f) => path.join(dir, f.name)).find((p) => fs.existsSync(p));
  return found ?? null;
}

/**
 * Downloads Keras's VGG16 weights (the full file, or `_notop` with
 * `top: false`) into `dir`, trying Keras's storage and then the GitHub
 * release, and checks size and MD5. A file already there and intact is kept.
 * Returns its path.
 */
export async function downloadVgg16Weights(
  opts: WeightsDirOptions & { top: boolean; progress?: boolean },
): Promise<string> {
  const { dir = VGG16_WEIGHTS_DIR, log = () => {}, files = VGG16_WEIGHT_FILES } = opts;
  const known = files.find((f) => f.top === opts.top);
  if (!known) throw new RunError(`no known VGG16 weight file ${opts.top ? 'with' : 'without'} fc1/fc2`);
  const dest = path.join(dir, known.name);
  if (fs.existsSync(dest)) {
    if (await isPublishedFile(dest, known)) {
      log(`ok      ${dest} is already there (size and md5 match)`);
      return dest;
    }
    log(`replace ${dest}: its size or md5 differs from Keras's published file`);
    await fsp.rm(dest);
  }
  // Size and MD5 are checked on each attempt before the file gets its name, so a bad mirror falls through to the next.
  await downloadFile(known.urls[0], dest, {
    mirrors: known.urls.slice(1),
    size: known.size,
    md5: known.md5,
    label: known.name,
    progress: opts.progress,
  });
  log(`ok      ${dest} (${known.size} bytes, md5 ${known.md5})`);
  return dest;
}

/**
 * Puts a VGG16 .h5 the user already has (a Keras cache, a browser download)
 * into `dir` under its known name. Keras's published files are recognised by
 * size + MD5; any other file must hold VGG16's layers at full width.
 * The source is copied, not moved. Returns the new path.
 */
export async function importVgg16Weights(source: string, opts: WeightsDirOptions = {}): Promise<string> {
  const { dir = VGG16_WEIGHTS_DIR, log = () => {}, files = VGG16_WEIGHT_FILES } = opts;
  let size: number;
  try {
    size = (await fsp.stat(source)).size;
  } catch (err) {
    throw new RunError(`cannot import ${source}: ${(err as Error).message}`);
  }
  let target = files.find((f) => f.size === size);
  if (target && (await isPublishedFile(source, target))) {
    log(`import  ${source}: Keras's published ${target.name} (size and md5 match)`);
  } else {
    const weights = await readVgg16H5(source);
    checkFullWidth(weights);
    target = files.find((f) => f.top === weights.hasTop);
    if (!target)
      throw new RunError(
        `no known VGG16 weight file ${weights.hasTop ? 'with' : 'without'} fc1/fc2 to import ${source} as`,
      );
    log(
      `import  ${source}: not Keras's published file (md5 differs), but VGG16's layers at full width` +
        `${weights.hasTop ? ' with fc1/fc2' : ' without fc1/fc2 (notop)'}`,
    );
  }
  const dest = path.join(dir, target.name);
  if (path.resolve(source) !== path.resolve(dest)) {
    await fsp.mkdir(dir, { recursive: true });
    // Copy beside the target and rename, so a half-copied file never carries the real name.
    await fsp.copyFile(source, `${dest}.import`);
    await fsp.rename(`${dest}.import`, dest);
  }
  log(`ok      ${dest}`);
  return dest;
}

/**
 * Status of the weight files in `dir`, one line per known file (ok, bad,
 * partial or missing, with the fix) and a last line naming the file that
 * training would start from.
 */
export async function checkVgg16Weights(opts: WeightsDirOptions = {}): Promise<string[]> {
  const { dir = VGG16_WEIGHTS_DIR, files = VGG16_WEIGHT_FILES } = opts;
  const lines: string[] = [];
  let usable: string | null = null;
  for (const known of files) {
    const p = path.join(dir, known.name);
    const getIt = `\`fcn weights download${known.top ? '' : ' --notop'}\``;
    if (!fs.existsSync(p)) {
      const part = await fsp.stat(`${p}.part`).catch(() => null);
      lines.push(
        part
          ? `partial ${p}.part: ${part.size} of ${known.size} bytes; ${getIt} resumes it`
          : `missing ${p}: get it with ${getIt}`,
      );
      continue;
    }
    const status = await fileStatus(p, known);
    lines.push(
      `${status.ok ? 'ok     ' : 'bad    '} ${p}: ${status.detail}${status.ok ? '' : `; delete it and run ${getIt}`}`,
    );
    if (status.ok) usable ??= p;
  }
  lines.push(
    usable
      ? `training starts from ${usable}`
      : `no usable VGG16 weights in ${dir}: training starts from scratch (get them with \`fcn weights download\`)`,
  );
  return lines;
}

async function fileStatus(p: string, known: Vgg16WeightFile): Promise<{ ok: boolean; detail: string }> {
  if (await isPublishedFile(p, known))
    return { ok: true, detail: `Keras's published file (${known.size} bytes, md5 ${known.md5})` };
  try {
    const weights = await readVgg16H5(p);
    checkFullWidth(weights);
    if (weights.hasTop !== known.top) {
      return {
        ok: false,
        detail: `holds ${weights.hasTop ? 'fc1/fc2' : 'no fc1/fc2'}, but this name is the ${known.top ? 'full' : 'notop'} file`,
      };
    }
    return { ok: true, detail: "VGG16's layers at full width (not Keras's published file: md5 differs)" };
  } catch (err) {
    if (err instanceof RunError) return { ok: false, detail: err.message };
    throw err;
  }
}

async function isPublishedFile(p: string, known: Vgg16WeightFile): Promise<boolean> {
  return (await fsp.stat(p)).size === known.size && (await hashFile(p, 'md5')) === known.md5;
}

/** VGG16 at width 1: pretrained weights for narrower models do not exist. */
function checkFullWidth(weights: Vgg16Weights): void {
  const conv1 = weights.layers.get('block1_conv1')!.kernel.shape;
  const conv5 = weights.layers.get('block5_conv3')!.kernel.shape;
  const fc1 = weights.layers.get('fc1')?.kernel.shape;
  if (conv1[3] !== 64 || conv5[3] !== 512 || (fc1 && fc1[1] !== 4096)) {
    throw new RunError(
      `${weights.file} holds a narrow VGG16 (block1_conv1 ${conv1[3]} filters, block5_conv3 ${conv5[3]}` +
        `${fc1 ? `, fc1 ${fc1[1]}` : ''}; VGG16 has 64, 512${fc1 ? ', 4096' : ''}); use Keras's VGG16 weights ` +
        '(`fcn weights download`)',
    );
  }
}
