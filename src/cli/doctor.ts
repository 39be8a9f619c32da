import type { Command } from 'commander';
import * as path from 'node:path';
import { defaultEnvironmentProbe, formatDoctorReport, runDoctor } from '../doctor';

/** `fcn doctor`: every check with OK/WARN/FAIL and its fix; exits 0 when `npm start` can run. */
export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description(
      'check Node, backends, Jupyter + tslab kernel, Chromium, weights and datasets; exit 0 when `npm start` can run',
    )
    .option('--project <dir>', 'project folder (package.json, data/, .jupyter/)', '.')
    .option('--json', 'print the checks as JSON')
    .action(async (flags: { project: string; json?: boolean }) => {
      const report = await runDoctor(defaultEnvironmentProbe(path.resolve(flags.project)));
      console.log(flags.json ? JSON.stringify(report, null, 2) : formatDoctorReport(report));
      process.exitCode = report.exitCode;
    });
}
