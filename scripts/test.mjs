#!/usr/bin/env node
// The README's test command: type checks, unit and integration tests, then the browser end-to-end tests.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

function step(name, cmd, args) {
  process.stderr.write(`\n== ${name}: ${cmd} ${args.join(' ')}\n`);
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write(`== ${name} failed (exit ${r.status})\n`);
    process.exit(r.status ?? 1);
  }
}

step('typecheck', 'npx', ['tsc', '-p', 'tsconfig.core.json']);
step('typecheck', 'npx', ['tsc', '-p', 'tsconfig.node.json']);
step('typecheck', 'npx', ['tsc', '-p', 'tsconfig.web.json']);
step('unit and integration tests', 'npx', ['vitest', 'run', '--reporter=default', '--reporter=json', '--outputFile.json=test-results/vitest.json']);
if (existsSync('test/e2e/run.mjs')) step('end-to-end tests', 'node', ['test/e2e/run.mjs']);

// One plain closing line for CI: the counts of the vitest runs (unit and integration, then end-to-end).
const counts = { passed: 0, failed: 0, skipped: 0 };
for (const file of ['test-results/vitest.json', 'test-results/e2e.json']) {
  if (!existsSync(file)) continue;
  const report = JSON.parse(readFileSync(file, 'utf8'));
  counts.passed += report.numPassedTests;
  counts.failed += report.numFailedTests;
  counts.skipped += report.numPendingTests;
}
process.stdout.write(`\ntests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`);
