#!/usr/bin/env node
// Installs the npm packages when node_modules is missing or older than the lockfile.
// With the internet it does a normal install; when the binary download hosts
// (Electron, ONNX Runtime's CUDA build) cannot be reached it installs with the
// offline settings of shared/ENVIRONMENT.md and says so.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stampFile = join(root, 'node_modules', '.stylecast-install-stamp');

function manifestHash() {
  const h = createHash('sha256');
  for (const f of ['package.json', 'package-lock.json']) {
    const p = join(root, f);
    if (existsSync(p)) h.update(readFileSync(p));
  }
  return h.digest('hex');
}

function reachable(host) {
  return new Promise((resolve) => {
    const req = request({ host, method: 'HEAD', path: '/', timeout: 4000 }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.end();
  });
}

const want = manifestHash();
const have = existsSync(stampFile) ? readFileSync(stampFile, 'utf8').trim() : '';
if (want === have && existsSync(join(root, 'node_modules', 'onnxruntime-node'))) process.exit(0);

const env = { ...process.env };
const online = process.env.STYLECAST_OFFLINE === '1' ? false : await reachable('github.com');
if (!online) {
  env.ELECTRON_SKIP_BINARY_DOWNLOAD = '1';
  env.ONNXRUNTIME_NODE_INSTALL = env.ONNXRUNTIME_NODE_INSTALL ?? 'skip';
  process.stderr.write(
    'stylecast: binary download hosts are unreachable; installing with the offline settings\n' +
      '  (ELECTRON_SKIP_BINARY_DOWNLOAD=1, ONNXRUNTIME_NODE_INSTALL=skip): the engine runs on the CPU\n' +
      '  build of onnxruntime-node, and the Electron app cannot be launched until Electron is installed.\n'
  );
}
const useCi = existsSync(join(root, 'package-lock.json'));
const args = useCi ? ['ci', '--no-audit', '--no-fund'] : ['install', '--no-audit', '--no-fund'];
process.stderr.write(`stylecast: installing dependencies (npm ${args[0]})...\n`);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const r = spawnSync(npm, args, { cwd: root, env, stdio: ['ignore', 'inherit', 'inherit'] });
if (r.status !== 0) {
  process.stderr.write(`stylecast: npm ${args[0]} failed (exit ${r.status}); see the output above.\n`);
  process.exit(r.status ?? 1);
}
writeFileSync(stampFile, want + '\n');
