#!/usr/bin/env node
// The `fcn` command: runs the compiled CLI (npm run build writes dist/).
const path = require('node:path');
const fs = require('node:fs');
const entry = path.join(__dirname, '..', 'dist', 'cli', 'index.js');
if (!fs.existsSync(entry)) {
  console.error(`fcn: ${entry} is missing; build the project first with: npm run build`);
  process.exit(1);
}
require(entry)
  .main(process.argv)
  .catch((err) => {
    console.error(err && err.message ? err.message : err);
    process.exit(1);
  });
