import type { Command } from 'commander';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { selectBackend } from '../backend';
import { loadRgbImage } from '../data';
import { loadPredictor } from '../infer/load-predictor';
import { predict } from '../infer/predict';
import { FcnError } from '../util/errors';
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
    fs.writeFileSync(path.join(flags.out, `${base}_overlay.png`), await encodePng(painted));
    const ids = { data: pred.labels.data, height: pred.height, width: pred.width };
    const sharp = (await import('sharp')).default;
    // b-w keeps one channel: without it sharp writes the ids as a 3-channel sRGB PNG.
    await sharp(ids.data, { raw: { width: ids.width, height: ids.height, channels: 1 } }).toColourspace('b-w').png()
      .toFile(path.join(flags.out, `${base}_labels.png`));
    console.log(`${file} -> ${path.join(flags.out, base)}_{overlay,labels}.png`);
  }
  predictor.model.dispose();
}

export function registerPredictCommand(program: Command): void {
  program.command('predict')
    .description('segment images of any size; writes <name>_overlay.png and <name>_labels.png')
    .argument('<images...>', 'PNG or JPEG files')
    .requiredOption('--run <dir>', 'run folder, or a folder `fcn export` wrote (quantized or not)')
    .option('--out <dir>', 'output folder', 'predictions')
    .option('--native', 'run at the image\'s own size instead of the training size')
    .action(predictCommand);
}
