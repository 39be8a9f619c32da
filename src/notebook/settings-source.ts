import type { DatasetName } from '../data/types';
import { WRITTEN_PRESET, hyperparameters, type Hyperparameters } from './settings';

/** One line of comment per field of the hyperparameters cell, in the cell's order. */
const FIELD_NOTES: Readonly<Record<Exclude<keyof Hyperparameters, 'dataDir'>, string>> = {
  inputShape: '[height, width] of the training input, multiples of 32',
  batchSize: 'images per optimizer step',
  epochs: 'passes over the training images; raising it continues the same run',
  learningRate: "Adam's learning rate (the schedule's peak); the lr-finder cell suggests one",
  lrSchedule: "'constant', 'poly' or 'cosine' decay over the run",
  fc6: "'paper' (7x7x4096), 'lite' (3x3x1024, dilated) or { filters, kernelSize, dilation }",
  widthMultiplier: 'channels of every conv layer relative to VGG16; 1 = VGG16',
  dropout: 'dropout rate after fc6 and fc7 (paper: 0.5)',
  l2: 'L2 factor on the conv kernels, 0 = off (paper: 1e-3)',
  seed: 'validation split, shuffling, augmentation and initialisation',
  augment: '{ flip, colorJitter, scaleCrop: [min, max] | null } of training pairs; null = off',
  classWeights: "null, 'median-frequency' (SegNet's) or one loss weight per class",
  pretrained: "start the encoder from VGG16's ImageNet weights (npx fcn weights download; widthMultiplier 1)",
};

/** A value as TypeScript source: JSON with single-quoted strings and unquoted keys, e.g. { flip: true }. */
function tsLiteral(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(tsLiteral).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    return `{ ${Object.entries(value)
      .map(([k, v]) => `${k}: ${tsLiteral(v)}`)
      .join(', ')} }`;
  }
  return typeof value === 'string' ? `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'` : String(value);
}

/**
 * The hyperparameters cell of a dataset's notebook: WRITTEN_PRESET's values
 * as the object the reader edits, one comment per field, then the setUp
 * call. The notebooks hold this text; a test keeps them equal to it, so the
 * cell cannot drift from the preset.
 */
export function settingsSource(dataset: DatasetName): string {
  const hp = hyperparameters(WRITTEN_PRESET, dataset, {}, {});
  const fields = Object.entries(FIELD_NOTES).flatMap(([k, note]) => [
    `  // ${note}`,
    `  ${k}: ${tsLiteral(hp[k as keyof typeof FIELD_NOTES])},`,
  ]);
  return [
    `// The ${WRITTEN_PRESET} preset, written out: change a value and re-run from here. What you change is applied`,
    '// to the preset in force (printed below: FCN_PRESET, else paper on a GPU and cpu otherwise).',
    'const settings: Partial<Hyperparameters> = {',
    ...fields,
    "  // dataset folder; default FCN_DATA, else the first of the dataset's folders under data/ that exists",
    "  // dataDir: '../data/my_copy',",
    '};',
    `const nb = await fcn.NotebookSession.setUp('${dataset}', settings);`,
  ].join('\n');
}
