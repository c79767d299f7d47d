// The studio's model manager over IPC (registerHandlers validates every payload as in the
// app): importing a real fixture checkpoint the user picked in the dialog, refusing one it
// did not, downloading from a local 127.0.0.1 server through STYLECAST_MODEL_MIRROR, the
// catalogue listing, and removing bundles (never the seeded default).
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeArchitecture } from '../../src/core/model/architecture';
import { createSeededModel } from '../../src/core/model/create';
import type { Catalog } from '../../src/core/model/manager';
import { Runtime } from '../../src/core/runtime';
import { createCoreApi, type CoreApi } from '../../src/main/core-api';
import { appUrlMatcher, registerHandlers, type InvokeEventLike } from '../../src/main/ipc';
import type { JobProgress, ModelCatalog, ModelSummary } from '../../src/shared/contract';
import { repoRoot, tempDir } from '../helpers';
import { FakeIpcMain, ScriptedHost } from './fake-host';
import { writeBomb50G } from '../core/model/import/bomb-fixture';

const tmp = tempDir('model-manager');
const modelsDir = join(tmp, 'models');
const FIXTURE = join(repoRoot, 'test', 'fixtures', 'import', 'rosinality-32.pt');
const fixture = readFileSync(FIXTURE);

let host: ScriptedHost;
let api: CoreApi<InvokeEventLike>;
let ipc: FakeIpcMain;
let server: http.Server;
let mirror: string;
const served: string[] = [];
const savedMirror = process.env.STYLECAST_MODEL_MIRROR;

const call = <T = unknown>(name: string, payload?: unknown): Promise<T> => (payload === undefined ? ipc.invoke(name) : ipc.invoke(name, payload)) as Promise<T>;

const catalog = (): Catalog => ({
  path: '(test)',
  entries: [
    {
      name: 'tiny-generator',
      kind: 'generator',
      file: 'rosinality-32.pt',
      url: 'https://example.invalid/rosinality-32.pt',
      bytes: fixture.length,
      sha256: createHash('sha256').update(fixture).digest('hex'),
      sha256Prefix: null,
      verification: 'test fixture',
      bundle: 'downloaded-32',
      licence: 'test licence',
      homepage: 'https://example.invalid',
      purpose: 'a 32 px test generator'
    }
  ]
});

beforeAll(async () => {
  // A real (tiny) bundle in the default's folder: the one models:remove must refuse.
  const rt = await Runtime.create({ device: 'cpu' });
  const arch = makeArchitecture({ resolution: 16, channelBase: 256, channelMax: 16, zDim: 32, wDim: 32, mappingLayers: 2 });
  await createSeededModel(join(modelsDir, 'seeded-64'), arch, 5, rt, 'seeded-64');
  await rt.release();
  server = http.createServer((req, res) => {
    served.push(req.url ?? '');
    if (req.url === '/stall/rosinality-32.pt') {
      // Half the file, then nothing until the client gives up.
      res.writeHead(200, { 'content-length': fixture.length });
      res.write(fixture.subarray(0, fixture.length >> 1));
      return;
    }
    if (req.url !== '/models/rosinality-32.pt') return void res.writeHead(404).end('not found');
    res.writeHead(200, { 'content-length': fixture.length });
    res.end(fixture);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  mirror = `http://127.0.0.1:${(server.address() as AddressInfo).port}/models`;
  host = new ScriptedHost(modelsDir);
  host.catalog = catalog;
  api = createCoreApi<InvokeEventLike>(host);
  ipc = new FakeIpcMain();
  registerHandlers(ipc, api.handlers, { isTrustedSender: appUrlMatcher(FakeIpcMain.APP_URL) });
});

afterAll(async () => {
  if (savedMirror === undefined) delete process.env.STYLECAST_MODEL_MIRROR;
  else process.env.STYLECAST_MODEL_MIRROR = savedMirror;
  await api?.dispose();
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
});

describe('model manager over IPC', () => {
  it('imports only a checkpoint the user picked in the dialog, as a job that ends with a new bundle', async () => {
    const picked = join(tmp, 'my-face.pt');
    copyFileSync(FIXTURE, picked);
    await expect(call('models:import', { path: picked })).rejects.toThrow(/cannot read .*my-face\.pt: open the checkpoint first/);
    await expect(call('models:import', { path: 'relative.pt' })).rejects.toThrow(/absolute file path/);

    host.answer('openCheckpoint', null);
    expect(await call('dialog:openCheckpoint')).toBeNull();
    host.answer('openCheckpoint', picked);
    expect(await call('dialog:openCheckpoint')).toBe(picked);
    const { jobId } = await call<{ jobId: string }>('models:import', { path: picked });
    const done = await host.jobDone(jobId, 120_000);
    expect(done).toMatchObject({ status: 'done', path: join(modelsDir, 'my-face') });
    expect(done.message).toContain('my-face');
    const progress = host.eventsOf<JobProgress>('job:progress', jobId);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.every((p) => p.kind === 'model')).toBe(true);
    const models = await call<ModelSummary[]>('models:list');
    const imported = models.find((m) => m.path === join(modelsDir, 'my-face'));
    expect(imported?.resolution).toBe(32);
    expect(existsSync(join(modelsDir, 'my-face', 'weights.bin'))).toBe(true);

    // A second import of the same file would overwrite the bundle: the job fails and says so.
    const again = await call<{ jobId: string }>('models:import', { path: picked });
    const failed = await host.jobDone(again.jobId, 60_000);
    expect(failed.status).toBe('failed');
    expect(failed.message).toMatch(/already exists/);
  }, 180_000);

  it('imports in a job process: a 50 GB zip bomb fails there, and main stays responsive meanwhile', async () => {
    const bomb = join(tmp, 'bomb-50g.pt');
    writeBomb50G(bomb);
    host.answer('openCheckpoint', bomb);
    await call('dialog:openCheckpoint');
    // Main's event loop, sampled every 10 ms while the job runs: its worst delay.
    let worst = 0;
    let last = performance.now();
    const tick = setInterval(() => {
      const now = performance.now();
      worst = Math.max(worst, now - last - 10);
      last = now;
    }, 10);
    const rss0 = process.memoryUsage().rss;
    const { jobId } = await call<{ jobId: string }>('models:import', { path: bomb });
    expect(api.jobs.list()).toEqual([{ jobId, kind: 'model', out: null }]);
    const done = await host.jobDone(jobId, 60_000);
    clearInterval(tick);
    console.log(`bomb import job: main's worst event-loop delay ${worst.toFixed(0)} ms, main RSS grew ${((process.memoryUsage().rss - rss0) / 1e6).toFixed(1)} MB`);
    expect(done.status).toBe('failed');
    expect(done.message).toMatch(/bomb-50g\.pt: zip entry "archive\/data\/0" declares 3850000000 bytes .* a zip bomb or a corrupt file/);
    expect(worst).toBeLessThan(250);
    expect(existsSync(join(modelsDir, 'bomb-50g'))).toBe(false);
  }, 90_000);

  it('refuses a dialog answer that is not a checkpoint, and grants nothing for it', async () => {
    const notCkpt = join(tmp, 'notes.txt');
    copyFileSync(FIXTURE, notCkpt);
    host.answer('openCheckpoint', notCkpt);
    await expect(call('dialog:openCheckpoint')).rejects.toThrow(/\.pkl, \.pt or \.pth/);
    await expect(call('models:import', { path: notCkpt })).rejects.toThrow(/open the checkpoint first/);
  });

  it('lists the catalogue and downloads from the mirror as a job that installs the bundle', async () => {
    const before = await call<ModelCatalog>('models:catalog');
    expect(before.entries).toEqual([
      { name: 'tiny-generator', kind: 'generator', purpose: 'a 32 px test generator', licence: 'test licence', url: 'https://example.invalid/rosinality-32.pt', bytes: fixture.length, installed: false, partial: null }
    ]);
    expect(before.protectedPaths).toEqual([join(modelsDir, 'seeded-64')]);
    await expect(call('models:download', { name: '../etc' })).rejects.toThrow(/model name/);
    await expect(call('models:download', { name: 'not-in-catalogue' })).rejects.toThrow(/no model "not-in-catalogue"/);

    process.env.STYLECAST_MODEL_MIRROR = mirror;
    const { jobId } = await call<{ jobId: string }>('models:download', { name: 'tiny-generator' });
    const done = await host.jobDone(jobId, 120_000);
    expect(done).toMatchObject({ status: 'done', path: join(modelsDir, 'downloaded-32') });
    expect(done.message).toMatch(/SHA-256 verified/);
    expect(served).toEqual(['/models/rosinality-32.pt']);
    const progress = host.eventsOf<JobProgress>('job:progress', jobId).filter((p) => p.stage === 'download');
    expect(progress.at(-1)?.fraction).toBe(1);
    const after = await call<ModelCatalog>('models:catalog');
    expect(after.entries[0]!.installed).toBe(true);
    const models = await call<ModelSummary[]>('models:list');
    expect(models.find((m) => m.path === join(modelsDir, 'downloaded-32'))?.resolution).toBe(32);
  }, 180_000);

  it('cancels a running download, keeps the part and lists it as partial', async () => {
    rmSync(join(modelsDir, 'downloaded-32'), { recursive: true, force: true });
    process.env.STYLECAST_MODEL_MIRROR = mirror.replace(/models$/, 'stall');
    const { jobId } = await call<{ jobId: string }>('models:download', { name: 'tiny-generator' });
    await new Promise<void>((resolve) => {
      const off = host.onEvent((e) => {
        const p = e.payload as JobProgress;
        if (e.name === 'job:progress' && p.jobId === jobId && p.fraction >= 0.4) {
          off();
          resolve();
        }
      });
    });
    await call('job:cancel', { jobId });
    const done = await host.jobDone(jobId, 30_000);
    expect(done.status).toBe('cancelled');
    expect(done.message).toMatch(/Download again to resume/);
    const c = await call<ModelCatalog>('models:catalog');
    expect(c.entries[0]!.installed).toBe(false);
    expect(c.entries[0]!.partial?.received).toBe(fixture.length >> 1);
    await expect(call('job:cancel', { jobId })).rejects.toThrow(/No job/);
  }, 60_000);

  it('reports a download that cannot reach the server with how to import the file instead', async () => {
    process.env.STYLECAST_MODEL_MIRROR = 'http://127.0.0.1:1/models';
    const { jobId } = await call<{ jobId: string }>('models:download', { name: 'tiny-generator' });
    const done = await host.jobDone(jobId, 120_000);
    expect(done.status).toBe('failed');
    expect(done.message).toContain('stylecast models import FILE');
  }, 180_000);

  it('removes an imported bundle but refuses the seeded default and anything outside the models folder', async () => {
    await expect(call('models:remove', { name: 'seeded-64' })).rejects.toThrow(/default seeded model/);
    expect(existsSync(join(modelsDir, 'seeded-64', 'manifest.json'))).toBe(true);
    await expect(call('models:remove', { name: '..' })).rejects.toThrow(/model name/);
    await expect(call('models:remove', { name: 'a/b' })).rejects.toThrow(/model name/);
    await expect(call('models:remove', { name: 'nothing-here' })).rejects.toThrow(/there is no model/);
    host.confirmAnswers.push(true);
    await call('models:remove', { name: 'my-face' });
    expect(host.confirmRequests.at(-1)!.detail).toMatch(/my-face and everything in it will be deleted/);
    expect(existsSync(join(modelsDir, 'my-face'))).toBe(false);
    const models = await call<ModelSummary[]>('models:list');
    expect(models.map((m) => m.path)).toEqual([join(modelsDir, 'seeded-64')]);
  });
});
