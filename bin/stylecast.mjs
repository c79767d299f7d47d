#!/usr/bin/env node
// Entry shim. In a source checkout (src/cli is there) it runs the TypeScript through tsx, a
// development tool, so edits need no build. An installed copy has no sources: it runs the
// compiled CLI that `npm run build` writes to out/main/cli.js.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const source = new URL('../src/cli/index.ts', import.meta.url);
const compiled = new URL('../out/main/cli.js', import.meta.url);

if (existsSync(fileURLToPath(source))) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else if (existsSync(fileURLToPath(compiled))) {
  await import(compiled.href);
} else {
  process.stderr.write(`stylecast: error: ${fileURLToPath(compiled)} is missing: run "npm run build" first\n`);
  process.exit(1);
}
