import { InvalidArgumentError, type Command } from 'commander';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { selectBackend } from '../backend';
import { exportForInference } from '../infer/export';
import { isExportDir } from '../infer/load-predictor';
import { WEIGHT_QUANTIZATIONS, type WeightQuantization } from '../infer/quantize';
import { servePage } from '../infer/serve';
import { quantizeFlag } from './quantize-flag';

const port = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`--port must be 0-65535; got ${v}`);
  return n;
};

/**
 * `fcn serve --run <dir>`: the live segmentation page on 127.0.0.1. A run
 * folder is exported to a temporary folder first (removed on exit); an
 * `fcn export` folder, quantized or not, is served as it is.
 */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('serve a page that segments an image, a video file or the camera in the browser (tfjs, offline)')
    .requiredOption('--run <dir>', 'run folder, or a folder `fcn export` wrote')
    .option('--port <n>', 'port on 127.0.0.1 (0: any free one)', port, 8080)
    .option('--quantize <q>', `export a run folder with ${WEIGHT_QUANTIZATIONS.join(' | ')} weights`, quantizeFlag)
    .action(async (flags: { run: string; port: number; quantize?: WeightQuantization }) => {
      let modelDir = flags.run;
      let tmp: string | null = null;
      if (!isExportDir(flags.run)) {
        await selectBackend();
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fcn-serve-'));
        await exportForInference(flags.run, tmp, { quantize: flags.quantize });
        modelDir = tmp;
      } else if (flags.quantize) {
        throw new InvalidArgumentError(`${flags.run} is already exported; export it with --quantize instead`);
      }
      const server = await servePage({ modelDir, port: flags.port });
      const what = `model ${flags.run}${flags.quantize ? `, ${flags.quantize}` : ''}`;
      console.log(`fcn serve: ${server.url} (${what}; Ctrl-C stops)`);
      const stop = () => {
        void server.close().then(() => {
          if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
          process.exit(0);
        });
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
