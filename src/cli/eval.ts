import type { Command } from 'commander';
import { selectBackend } from '../backend';
import { openDataset, trainValSamples } from '../data';
import { evaluateSamples } from '../eval/evaluate';
import { formatMetricsTable } from '../eval/format';
import { scoredSplit, writeRunMetrics } from '../eval/scored-split';
import { loadRun } from '../run/load-run';
import { FcnError, StorageError } from '../util/errors';
import { startProgress } from '../util/progress';
import { writeRunReport } from './eval-report';

async function evalCommand(flags: {
  run: string;
  data?: string;
  split?: string;
  progress: boolean;
  report?: string;
}): Promise<void> {
  await selectBackend();
  const run = await loadRun(flags.run);
  const ds = await openDataset(run.dataset.name, flags.data ?? run.dataset.dir, run.dataset.options);
  const classNames = ds.classes.map((c) => c.name);
  let samples;
  let splitName: string;
  if (flags.split && flags.split !== 'holdout') {
    if (!ds.splits.includes(flags.split as never))
      throw new FcnError(`split "${flags.split}" is not in ${ds.dir}; it has ${ds.splits.join(', ')}`);
    samples = await ds.samples(flags.split as 'train' | 'val' | 'test');
    splitName = flags.split;
  } else {
    // The images training validated on.
    ({ val: samples, valName: splitName } = await trainValSamples(ds, run.config));
  }
  const labelled = samples.filter((s) => s.labelPath);
  if (!labelled.length) throw new FcnError(`split ${splitName} of ${ds.dir} has no labelled images to score`);
  const bar = startProgress('eval', labelled.length, { enabled: flags.progress });
  const result = await evaluateSamples(run.model, ds, labelled, {
    classNames,
    ignoreIndex: ds.ignoreIndex,
    inputShape: run.config.model.inputShape,
    onProgress: (done) => bar.update(done),
  });
  bar.stop();
  console.log(`${ds.name} ${splitName}: ${result.images} images at full resolution`);
  console.log(formatMetricsTable(result.metrics, result.road ?? undefined));
  run.model.dispose();
  let out: string;
  try {
    out = writeRunMetrics(
      flags.run,
      scoredSplit(result, { split: splitName, dataset: ds.name, dir: ds.dir, images: result.images }),
      'The scores above are complete; they were not saved.',
    );
  } catch (err) {
    if (!(err instanceof StorageError)) throw err;
    console.error(`not saved: ${err.message}`);
    process.exitCode = 1;
    return;
  }
  console.log(`metrics written to ${out}`);
  if (flags.report)
    console.log(`report written to ${(await writeRunReport(flags.run, flags.data, flags.report)).html}`);
}

export function registerEvalCommand(program: Command): void {
  program
    .command('eval')
    .description('score a run at full resolution; prints a table and writes metrics.json')
    .requiredOption('--run <dir>', 'run folder')
    .option('--data <dir>', 'dataset folder (default: the one the run trained on)')
    .option('--split <name>', 'holdout (default), val, train or test')
    .option('--report <dir>', 'also write the error-analysis page (index.html + worst.png)')
    .option('--no-progress', 'no progress bar')
    .action(evalCommand);
}
