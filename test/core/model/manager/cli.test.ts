// `stylecast models` end to end: the real catalogue through a local mirror (a server on
// 127.0.0.1 that serves a stand-in file under the catalogue's file name), offline, list, remove.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, tempDir } from '../../../helpers';

const tmp = tempDir('models-cli');
const models = join(tmp, 'models');

function cli(env: Record<string, string>, ...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'stylecast.mjs'), ...args], {
      cwd: tmp,
      env: { ...process.env, STYLECAST_MODELS_DIR: models, ...env },
      stdio: ['ignore', 'pipe', 'pipe']
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => done({ status, stdout, stderr }));
  });
}

describe('stylecast models', () => {
  it('fails offline with one line that says how to import the file instead', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const r = await cli({ STYLECAST_MODEL_MIRROR: `http://127.0.0.1:${port}` }, 'models', 'download', 'lpips-vgg-v0.1');
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([
      `stylecast: error: cannot download lpips-vgg-v0.1: cannot reach 127.0.0.1:${port} (ECONNREFUSED); this machine seems to be offline. To install it without this download, fetch https://raw.githubusercontent.com/richzhang/PerceptualSimilarity/master/lpips/weights/v0.1/vgg.pth by any other means and run "stylecast models import FILE"`
    ]);
  });

  it('downloads through a mirror with progress on stderr and refuses a file that does not match the catalogue digest; lists and removes', async () => {
    // A stand-in for vgg.pth that cannot match the catalogue's SHA-256: the download must be refused.
    const body = Buffer.alloc(7289, 7);
    const server = http.createServer((req, res) => {
      if (req.url === '/mirror/lpips-v0.1-vgg.pth') res.writeHead(200, { 'content-length': body.length }).end(body);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const mirror = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mirror`;
    try {
      const r = await cli({ STYLECAST_MODEL_MIRROR: mirror }, 'models', 'download', 'lpips-vgg-v0.1', '--json');
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('[lpips-vgg-v0.1] 100% 7.3 kB of 7.3 kB');
      expect(r.stderr).toContain('failed verification: its SHA-256 is ');
      expect(r.stderr).toContain('expected a78928a0af1e5f0fcb1f3b9e8f8c3a2a5a3de244d830ad5c1feddc79b8432868');
    } finally {
      await new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r())));
    }

    mkdirSync(join(models, 'kept'), { recursive: true });
    writeFileSync(join(models, 'kept', 'manifest.json'), JSON.stringify({ format: 'stylecast-model', version: 1, id: 'abc', name: 'kept', architecture: { resolution: 32 } }));
    const list = await cli({}, 'models', 'list', '--json');
    expect(list.status).toBe(0);
    const l = JSON.parse(list.stdout);
    expect(l.bundles.map((b: { folder: string; resolution: number; calibrated: boolean }) => [b.folder, b.resolution, b.calibrated])).toEqual([['kept', 32, false]]);
    expect(l.perceptual).toEqual([]);
    expect(l.available.map((a: { name: string }) => a.name)).toEqual(['stylegan2-ada-ffhq', 'vgg16-imagenet', 'lpips-vgg-v0.1']);
    const rm = await cli({}, 'models', 'remove', 'kept', '--json');
    expect(rm.status).toBe(0);
    expect(JSON.parse(rm.stdout)).toEqual({ kind: 'bundle', path: join(models, 'kept') });
    expect(() => readFileSync(join(models, 'kept', 'manifest.json'))).toThrow();
  });
});
