import { InvalidArgumentError, type Command } from 'commander';
import { selectBackend } from '../backend';
import { exportForInference } from '../infer/export';
import { KERAS_H5_FILE, exportKerasH5 } from '../infer/keras-h5';
import { WEIGHT_QUANTIZATIONS, type WeightQuantization } from '../infer/quantize';
import { FcnError } from '../util/errors';
import { quantizeFlag } from './quantize-flag';

const exportFormat = (v: string): 'tfjs' | 'keras-h5' => {
  if (v !== 'tfjs' && v !== 'keras-h5') throw new InvalidArgumentError(`--format ${v}: use tfjs or keras-h5`);
  return v;
};

export function registerExportCommand(program: Command): void {
  program
    .command('export')
    .description('write a copy of a run: tfjs (stock layers + fcn-model.json, for a browser or Node app) or Keras HDF5')
    .requiredOption('--run <dir>', 'run folder')
    .requiredOption('--out <dir>', 'output folder')
    .option('--format <f>', `tfjs | keras-h5 (Keras's save_weights file, ${KERAS_H5_FILE})`, exportFormat, 'tfjs')
    .option(
      '--quantize <q>',
      `tfjs weights as ${WEIGHT_QUANTIZATIONS.join(' | ')} (dequantized when loaded)`,
      quantizeFlag,
    )
    .action(async (flags: { run: string; out: string; format: 'tfjs' | 'keras-h5'; quantize?: WeightQuantization }) => {
      await selectBackend();
      if (flags.format === 'keras-h5') {
        if (flags.quantize) throw new FcnError('--quantize applies to --format tfjs only; drop it for keras-h5');
        console.log(`wrote ${await exportKerasH5(flags.run, flags.out)}`);
        return;
      }
      const files = await exportForInference(flags.run, flags.out, { quantize: flags.quantize });
      for (const f of files) console.log(`wrote ${f}`);
    });
}
