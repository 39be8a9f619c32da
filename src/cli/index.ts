import { Command, InvalidArgumentError } from 'commander';
import { FcnError } from '../util/errors';
import { registerDataCommands } from './data';
import { registerDoctorCommand } from './doctor';
import { registerEvalCommand } from './eval';
import { registerExportCommand } from './export';
import { registerImportCommand } from './import';
import { registerLrFindCommand } from './lr-find';
import { registerPredictCommand } from './predict';
import { registerServeCommand } from './serve';
import { registerStartCommand } from './start';
import { registerTrainCommand } from './train';
import { registerWeightsCommands } from './weights';

/** Builds the `fcn` program; every subcommand calls the functions a notebook calls. */
export function buildProgram(): Command {
  const program = new Command('fcn')
    .description('FCN-8 (VGG16) semantic segmentation of street scenes: train, evaluate, predict')
    .showHelpAfterError();
  registerTrainCommand(program);
  registerEvalCommand(program);
  registerPredictCommand(program);
  registerExportCommand(program);
  registerImportCommand(program);
  registerServeCommand(program);
  registerDataCommands(program);
  registerWeightsCommands(program);
  registerDoctorCommand(program);
  registerLrFindCommand(program);
  registerStartCommand(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    // Our errors carry the fix in their message; a stack trace would only hide it.
    if (err instanceof FcnError || err instanceof InvalidArgumentError) {
      console.error(`error: ${err.message}`);
      process.exitCode = 1;
      return;
    }
    throw err;
  }
}
