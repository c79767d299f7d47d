#!/usr/bin/env node
// Runs the browser end-to-end tests (test/e2e/*.e2e.ts) with their own vitest config;
// extra arguments go to vitest (a file name, -t "name", ...).
import { spawnSync } from 'node:child_process';

const args = ['vitest', 'run', '--config', 'test/e2e/vitest.config.ts', '--reporter=default', '--reporter=json', '--outputFile.json=test-results/e2e.json', ...process.argv.slice(2)];
const r = spawnSync('npx', args, { stdio: 'inherit' });
process.exit(r.status ?? 1);
