import type { Command } from 'commander';
import { selectBackend } from '../backend';
import { importKerasH5 } from '../infer/keras-h5';

/** `fcn import --keras-h5 <file> --out <run>`: a Keras save_weights file back into a run folder. */
export function registerImportCommand(program: Command): void {
  program
    .command('import')
    .description("read Keras's save_weights HDF5 (from `fcn export --format keras-h5` or Keras) into a run folder")
    .requiredOption('--keras-h5 <file>', 'the .h5 weights file')
    .requiredOption('--out <dir>', 'new run folder')
    .option('--like <run>', 'take config.json and dataset.json from this run (for a file Keras wrote)')
    .action(async (flags: { kerasH5: string; out: string; like?: string }) => {
      await selectBackend();
      for (const f of await importKerasH5(flags.kerasH5, flags.out, flags.like)) console.log(`wrote ${f}`);
    });
}
