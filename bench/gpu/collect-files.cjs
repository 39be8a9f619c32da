// Lists the files the GPU run kit needs from the project's node_modules:
// every JS file reachable by string-literal require()/import from the roots
// (the compiled app's entry files, and package names), plus the package.json
// of each package they sit in. Node's own resolver does the resolving, so the
// list is what Node would load. Files loaded by computed paths (dawn.node,
// the .wasm binaries) are not found this way; pack.sh adds them.
//   node collect-files.cjs <project dir> <entry .js file or package>...
// prints node_modules/... paths relative to <project dir>, one a line.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { builtinModules } = require('node:module');

const [projectDir, ...roots] = process.argv.slice(2);
const modulesDir = path.join(fs.realpathSync(projectDir), 'node_modules');
const builtins = new Set(builtinModules);
const SPECIFIER = /(?:\brequire\s*\(\s*|\bimport\s*\(\s*|\bfrom\s+|\bimport\s+)(['"])([^'"\n]+)\1/g;

const seen = new Set();
const unresolved = new Set();
const queue = [];

function add(file) {
  if (seen.has(file)) return;
  seen.add(file);
  if (/\.(c|m)?js$/.test(file)) queue.push(file);
}

/** Every package.json between a file and node_modules: the package's own and nested "type" markers. */
function packageJsonsOf(file) {
  const found = [];
  for (let dir = path.dirname(file); dir.startsWith(modulesDir + path.sep); dir = path.dirname(dir)) {
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj)) found.push(pj);
  }
  return found;
}

function resolveFrom(specifier, fromFile) {
  if (specifier.startsWith('node:') || builtins.has(specifier.split('/')[0])) return null;
  // The compiled app sits outside the project; its packages come from the project's node_modules.
  const inModules = fromFile.startsWith(modulesDir + path.sep);
  const base = specifier.startsWith('.') || inModules ? path.dirname(fromFile) : projectDir;
  try {
    return require.resolve(specifier, { paths: [base] });
  } catch {
    // Guarded requires of optional modules (and bundles' internal module names) stay out.
    unresolved.add(`${specifier} (from ${path.basename(fromFile)})`);
    return null;
  }
}

for (const root of roots) {
  const file = fs.existsSync(root) ? path.resolve(root) : resolveFrom(root, path.join(projectDir, 'index.js'));
  if (!file) throw new Error(`collect-files: root ${root} is neither a file nor a package of ${projectDir}`);
  add(file);
}
while (queue.length) {
  const file = queue.pop();
  const text = fs.readFileSync(file, 'utf8');
  for (const m of text.matchAll(SPECIFIER)) {
    const resolved = resolveFrom(m[2], file);
    if (resolved) add(resolved);
  }
}
const out = new Set();
for (const file of seen) {
  if (!file.startsWith(modulesDir + path.sep)) continue;
  out.add(path.relative(path.dirname(modulesDir), file));
  for (const pj of packageJsonsOf(file)) out.add(path.relative(path.dirname(modulesDir), pj));
}
for (const u of unresolved) process.stderr.write(`collect-files: left out ${u}\n`);
process.stdout.write([...out].sort().join('\n') + '\n');
