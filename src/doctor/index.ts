import { fail, type CheckStatus, type DoctorCheck } from './check';
import {
  checkChromium,
  checkDatasets,
  checkJupyter,
  checkNode,
  checkTfjsNode,
  checkTfjsNodeGpu,
  checkTrainingBackend,
  checkTslabKernel,
  checkWasm,
  checkWebgpu,
  checkWeights,
} from './checks';
import { defaultEnvironmentProbe, type EnvironmentProbe } from './probe';

export type { CheckStatus, DoctorCheck } from './check';
export { defaultEnvironmentProbe, type EnvironmentProbe } from './probe';
export { CHROMIUM_PATH, tslabKernelDir } from './checks';

export interface DoctorReport {
  readonly checks: readonly DoctorCheck[];
  /** No check failed: the main job (`npm start`) can run. */
  readonly canStart: boolean;
  /** 0 when `npm start` can run, 1 otherwise. */
  readonly exitCode: 0 | 1;
}

/** A check that throws is a bug in the probe, reported as a failed line rather than a crash. */
async function guarded(name: string, run: () => DoctorCheck | Promise<DoctorCheck>): Promise<DoctorCheck> {
  try {
    return await run();
  } catch (err) {
    return fail(
      name,
      `the check itself failed: ${(err as Error).message}`,
      'report this with the output of `npx fcn doctor`',
    );
  }
}

/**
 * Runs every check over `probe`, in the order they are printed: Node, each
 * backend, the backend training would use, Jupyter and the tslab kernel,
 * Chromium, the VGG16 weights, each dataset folder. WARN lines do not stop
 * `npm start`; FAIL lines do.
 */
export async function runDoctor(probe: EnvironmentProbe = defaultEnvironmentProbe()): Promise<DoctorReport> {
  // Selected first: the per-backend lines quote why the selection skipped a backend.
  const { check: training, selected } = await checkTrainingBackend(probe);
  const checks: DoctorCheck[] = [
    await guarded('node', () => checkNode(probe)),
    await guarded('tfjs-node-gpu', () => checkTfjsNodeGpu(probe, selected)),
    await guarded('webgpu', () => checkWebgpu(probe)),
    await guarded('tfjs-node', () => checkTfjsNode(probe, selected)),
    await guarded('wasm', () => checkWasm(probe)),
    training,
    await guarded('jupyter', () => checkJupyter(probe)),
    await guarded('tslab kernel', () => checkTslabKernel(probe)),
    await guarded('chromium', () => checkChromium(probe)),
    await guarded('vgg16 weights', () => checkWeights(probe)),
  ];
  try {
    checks.push(...(await checkDatasets(probe)));
  } catch (err) {
    checks.push(
      fail(
        'datasets',
        `the check itself failed: ${(err as Error).message}`,
        'report this with the output of `npx fcn doctor`',
      ),
    );
  }
  const canStart = checks.every((c) => c.status !== 'FAIL');
  return { checks, canStart, exitCode: canStart ? 0 : 1 };
}

const STATUS_WIDTH = 4;

/** One line per check, `OK   name: detail`, with `     fix: ...` under each WARN/FAIL, then the verdict. */
export function formatDoctorReport(report: DoctorReport): string {
  const lines: string[] = [];
  for (const c of report.checks) {
    lines.push(`${c.status.padEnd(STATUS_WIDTH)} ${c.name}: ${c.detail}`);
    if (c.fix && c.status !== 'OK') lines.push(`${' '.repeat(STATUS_WIDTH)} fix: ${c.fix}`);
  }
  const count = (s: CheckStatus) => report.checks.filter((c) => c.status === s).length;
  lines.push(
    report.canStart
      ? `npm start can run (${count('WARN')} warning(s))`
      : `npm start cannot run: fix the ${count('FAIL')} FAIL line(s) above`,
  );
  return lines.join('\n');
}
