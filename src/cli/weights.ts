import type { Command } from 'commander';
import { VGG16_WEIGHTS_DIR, checkVgg16Weights, downloadVgg16Weights, importVgg16Weights } from '../model/weights-file';

/** `fcn weights download|check|import`: the VGG16 ImageNet weights the encoder starts from. */
export function registerWeightsCommands(program: Command): void {
  const weights = program
    .command('weights')
    .description(`VGG16 ImageNet weights for the encoder (kept in ${VGG16_WEIGHTS_DIR}/)`);
  const log = (line: string) => console.log(line);

  weights
    .command('download')
    .description("download Keras's VGG16 weights (553 MB; --notop: 59 MB, conv layers only, fc6/fc7 start random)")
    .option('--notop', 'the file without fc1/fc2')
    .option('--dir <dir>', 'folder to keep them in', VGG16_WEIGHTS_DIR)
    .option('--no-progress', 'no progress bar')
    .action(async (flags: { notop?: boolean; dir: string; progress: boolean }) => {
      await downloadVgg16Weights({ top: !flags.notop, dir: flags.dir, progress: flags.progress, log });
    });

  weights
    .command('check')
    .description('say which weight files are there and whether they are intact')
    .option('--dir <dir>', 'folder to look in', VGG16_WEIGHTS_DIR)
    .action(async (flags: { dir: string }) => {
      (await checkVgg16Weights({ dir: flags.dir })).forEach(log);
    });

  weights
    .command('import <file>')
    .description('copy a VGG16 .h5 you already have (e.g. ~/.keras/models/) into the weights folder')
    .option('--dir <dir>', 'folder to copy it to', VGG16_WEIGHTS_DIR)
    .action(async (file: string, flags: { dir: string }) => {
      await importVgg16Weights(file, { dir: flags.dir, log });
    });
}
