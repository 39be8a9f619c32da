import type { Command } from 'commander';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { selectBackend } from '../backend';
import { loadRgbImage } from '../data';
import { writePng } from '../data/png';
import { loadPredictor } from '../infer/load-predictor';
import { predict } from '../infer/predict';
import { FcnError } from '../util/errors';
import { isStorageFault, storageError } from '../util/storage';
import { overlay } from '../viz/overlay';
import { paletteFor } from '../viz/palette';
import { encodePng } from '../viz/png';

async function predictCommand(images: string[], flags: { run: string; out: string; native?: boolean }): Promise<void> {
  await selectBackend();
  const predictor = await loadPredictor(flags.run);
  const palette = paletteFor(predictor.classes);
  fs.mkdirSync(flags.out, { recursive: true });
  for (const file of images) {
    if (!fs.existsSync(file)) throw new FcnError(`image ${file} does not exist`);
    const image = await loadRgbImage(file);
    const pred = await predict(predictor.model, image, { inputShape: flags.native ? null : predictor.inputShape });
    const base = path.basename(file, path.extname(file));
    const painted = overlay(image, pred.labels, palette);
    console.log(
      `${file}: ${classShares(
        pred.labels.data,
        predictor.classes.map((c) => c.name),
      )}`,
    );
    const overlayFile = path.join(flags.out, `${base}_overlay.png`);
    const labelsFile = path.join(flags.out, `${base}_labels.png`);
    try {
      fs.writeFileSync(overlayFile, await encodePng(painted));
      await writePng(labelsFile, pred.labels.data, pred.height, pred.width, 1);
    } catch (err) {
      if (!isStorageFault(err)) throw err;
      const message = storageError(
        overlayFile,
        painted.data.byteLength,
        err,
        'The shares above are complete; the images were not saved.',
      );
      console.error(`not saved: ${message.message}`);
      process.exitCode = 1;
      continue;
    }
    console.log(`  -> ${overlayFile}, ${labelsFile}`);
  }
  predictor.model.dispose();
}

/** "road 34.2%, not road 65.8%": the classes the prediction holds, largest first. */
function classShares(labels: Uint8Array, names: readonly string[]): string {
  const counts = new Array<number>(names.length).fill(0);
  for (const v of labels) counts[v]++;
  return counts
    .map((n, i) => ({ n, name: names[i] }))
    .filter((c) => c.n > 0)
    .sort((a, b) => b.n - a.n)
    .map((c) => `${c.name} ${((100 * c.n) / labels.length).toFixed(1)}%`)
    .join(', ');
}

export function registerPredictCommand(program: Command): void {
  program
    .command('predict')
    .description('segment images of any size; writes <name>_overlay.png and <name>_labels.png')
    .argument('<images...>', 'PNG or JPEG files')
    .requiredOption('--run <dir>', 'run folder, or a folder `fcn export` wrote (quantized or not)')
    .option('--out <dir>', 'output folder', 'predictions')
    .option('--native', "run at the image's own size instead of the training size")
    .action(predictCommand);
}
