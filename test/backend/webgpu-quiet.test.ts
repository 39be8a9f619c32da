import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { MARKER } from './quiet-probe-check';

const CHECK = path.join(__dirname, 'quiet-probe-check.ts');

describe('backend selection probes WebGPU quietly', function () {
  this.timeout(120_000);

  it("prints nothing of Dawn's before the in-process probe, and the child probe answers as the in-process one", async () => {
    const env = { ...process.env };
    delete env.FCN_BACKEND;
    const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', CHECK],
        { env, encoding: 'utf8', cwd: path.join(__dirname, '..', '..') },
        (err, out, errOut) =>
          err
            ? reject(new Error(`${CHECK} failed: ${err.message}\n${errOut}`))
            : resolve({ stdout: out, stderr: errOut }),
      );
    });
    const [beforeProbe] = stderr.split(MARKER);
    assert.equal(beforeProbe.trim(), '', `selection wrote to stderr:\n${beforeProbe}`);
    const { line, quiet, loud } = JSON.parse(stdout) as { line: string; quiet: unknown; loud: unknown };
    assert.match(line, /^backend: \w+/);
    assert.deepEqual(quiet, loud);
  });
});
