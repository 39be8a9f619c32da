import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { rmDir, tmpDir } from './helpers';

/**
 * The layer rules of src/, checked on its import graph:
 *   - src/model never imports src/backend (a model is a pure function of its config);
 *   - nothing outside src/cli imports src/cli;
 *   - no import cycle between the folders of src/.
 * Files directly in src/ (the package entry) may import anything.
 */

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]*)['"]/gm;

/** Folder → folders it imports, with one file:line per edge as the witness. */
export function folderGraph(srcDir: string): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  const walk = (dir: string): string[] =>
    fs
      .readdirSync(dir, { withFileTypes: true })
      .flatMap((e) =>
        e.isDirectory() ? walk(path.join(dir, e.name)) : /\.(ts|js)$/.test(e.name) ? [path.join(dir, e.name)] : [],
      );
  const folderOf = (file: string): string | null => {
    const rel = path.relative(srcDir, file).split(path.sep);
    return rel.length > 1 && rel[0] !== '..' ? rel[0] : null;
  };
  for (const file of walk(srcDir)) {
    const from = folderOf(file);
    if (from === null) continue;
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      const target = path.resolve(path.dirname(file), m[1]);
      const to = folderOf(
        fs.existsSync(target) && fs.statSync(target).isDirectory() ? path.join(target, 'index.ts') : target,
      );
      if (to === null || to === from) continue;
      const edges = graph.get(from) ?? new Map<string, string>();
      const line = text.slice(0, m.index).split('\n').length;
      if (!edges.has(to)) edges.set(to, `${path.relative(srcDir, file)}:${line}`);
      graph.set(from, edges);
    }
  }
  return graph;
}

/** Every broken rule, one line each with the file:line that breaks it. */
export function layerViolations(srcDir: string): string[] {
  const graph = folderGraph(srcDir);
  const out: string[] = [];
  const backendFromModel = graph.get('model')?.get('backend');
  if (backendFromModel) out.push(`model imports backend (${backendFromModel})`);
  for (const [from, edges] of graph) {
    if (from !== 'cli' && edges.has('cli')) out.push(`${from} imports cli (${edges.get('cli')})`);
  }
  // A cycle is an edge a -> b with a path back from b to a.
  const reaches = (a: string, b: string, seen = new Set<string>()): string[] | null => {
    if (a === b) return [b];
    seen.add(a);
    for (const next of graph.get(a)?.keys() ?? []) {
      if (seen.has(next)) continue;
      const rest = reaches(next, b, seen);
      if (rest) return [a, ...rest];
    }
    return null;
  };
  const reported = new Set<string>();
  for (const [from, edges] of graph) {
    for (const [to, where] of edges) {
      const back = reaches(to, from);
      if (!back) continue;
      const cycle = [from, ...back];
      const key = [...cycle.slice(1)].sort().join(' ');
      if (reported.has(key)) continue;
      reported.add(key);
      out.push(`import cycle ${cycle.join(' -> ')} (${where}, ...)`);
    }
  }
  return out;
}

describe('layers of src/', () => {
  it('src/ follows the rules', () => {
    assert.deepEqual(layerViolations(path.resolve(__dirname, '../src')), []);
  });

  it('the check catches each kind of break', () => {
    const dir = tmpDir();
    try {
      const write = (file: string, text: string) => {
        fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        fs.writeFileSync(path.join(dir, file), text);
      };
      write('backend/index.ts', 'export const b = 1;\n');
      write('model/fcn8.ts', "import { b } from '../backend';\n");
      write('cli/index.ts', 'export const c = 1;\n');
      write('train/run.ts', "import { e } from '../eval/evaluate';\nexport const t = 1;\n");
      write(
        'eval/evaluate.ts',
        "import { t } from '../train/run';\nimport { c } from '../cli';\nexport const e = 1;\n",
      );
      write('index.ts', "export * from './cli';\n");
      assert.deepEqual(layerViolations(dir).sort(), [
        'eval imports cli (eval/evaluate.ts:2)',
        'import cycle eval -> train -> eval (eval/evaluate.ts:1, ...)',
        'model imports backend (model/fcn8.ts:1)',
      ]);
    } finally {
      rmDir(dir);
    }
  });
});
