/**
 * The child of webgpu-quiet.test.ts (`node --import tsx test/backend/quiet-probe-check.ts`):
 * selects a backend as every command does, writes a marker to stderr, then
 * probes Dawn in this process. Stdout: JSON of the backend line and both
 * probes' answers. Dawn stays out of the mocha process.
 */
import { selectBackend } from '../../src/backend';
import { probeWebgpu } from '../../src/backend/webgpu';

export const MARKER = '--- in-process probe from here ---';

async function main(): Promise<void> {
  const backend = await selectBackend({ log: null });
  const quiet = await probeWebgpu({ allowSoftware: true, quiet: true });
  process.stderr.write(`${MARKER}\n`);
  const loud = await probeWebgpu({ allowSoftware: true });
  process.stdout.write(JSON.stringify({ line: backend.line, quiet, loud }));
  process.exit(0);
}

if (require.main === module) void main();
