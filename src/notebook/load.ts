import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const SRC = path.join(ROOT, 'src');
const DIST = path.join(ROOT, 'dist');

/** Newest modification time (ms) of the files under `dir` whose names pass `keep`; 0 for none. */
function newestMtime(dir: string, keep: (name: string) => boolean): number {
  let newest = 0;
  if (!fs.existsSync(dir)) return 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p, keep));
    else if (keep(entry.name)) newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * Recompiles src/ into dist/ (`npm run build`) when a source file is newer
 * than the newest compiled one. Gives true when it rebuilt.
 */
export function rebuildIfStale(log: (line: string) => void = (l) => console.log(l)): boolean {
  const src = newestMtime(SRC, (n) => n.endsWith('.ts') || n.endsWith('.json'));
  const dist = newestMtime(DIST, (n) => n.endsWith('.js'));
  if (src <= dist) return false;
  log('src/ changed since the last build: compiling it into dist/ (npm run build)');
  try {
    execFileSync(
      process.execPath,
      [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.build.json')],
      { cwd: ROOT, stdio: 'pipe' },
    );
  } catch (err) {
    // tsc still writes the JavaScript on type errors; show them and go on with what was emitted.
    const out = String((err as { stdout?: Buffer }).stdout ?? '');
    log(`tsc reported errors (the JavaScript was still written):\n${out.trim()}`);
  }
  return true;
}

/**
 * The notebooks' import: rebuilds dist/ when src/ changed, drops dist/ from
 * require's cache so that every project module is read afresh, and gives the
 * notebook API (src/notebook/index.ts). Re-running the import cell after an
 * edit in src/ thus picks the edit up without restarting the kernel. Values
 * made before (a session, a model) keep the old code: re-run their cells too.
 */
export function loadProject(): typeof import('./index') {
  rebuildIfStale();
  const self = __filename;
  for (const key of Object.keys(require.cache)) {
    if (key.startsWith(DIST + path.sep) && key !== self) delete require.cache[key];
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh load after clearing the cache above
  return require('./index') as typeof import('./index');
}
