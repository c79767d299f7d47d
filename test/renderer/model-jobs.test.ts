import { describe, expect, it } from 'vitest';
import { bundleFolder, catalogStatus, jobTitle, loadCatalog, offlineHint } from '../../src/renderer/src/models/modelView';
import type { Loadable } from '../../src/renderer/src/start/loadable';
import { idleJob, jobReducer } from '../../src/renderer/src/ui/jobState';
import { validateEvent, validateRequest, type ModelCatalog, type StylecastApi } from '../../src/shared/contract';

/** An api whose every invoke answers `answer` (or fails with it), recording the method names asked for. */
function countingApi(answer: () => Promise<unknown>): { api: Pick<StylecastApi, 'invoke'>; calls: string[] } {
  const calls: string[] = [];
  const api = { invoke: (name: string) => (calls.push(name), answer()) } as unknown as Pick<StylecastApi, 'invoke'>;
  return { api, calls };
}

describe('model manager jobs in the view', () => {
  it('says how far a cut download got, and nothing for installed or untouched entries', () => {
    expect(catalogStatus({ installed: false, partial: { received: 1_500_000, bytes: 364_000_000 } })).toBe('1.5 MB of 364 MB downloaded: Resume continues from there');
    expect(catalogStatus({ installed: false, partial: { received: 2000, bytes: null } })).toBe('2.0 KB downloaded: Resume continues from there');
    expect(catalogStatus({ installed: false, partial: null })).toBeNull();
    expect(catalogStatus({ installed: true, partial: { received: 1, bytes: 2 } })).toBeNull();
  });

  it('titles the job and points an offline failure at Import checkpoint', () => {
    expect(jobTitle({ kind: 'import', file: '/home/u/ffhq.pkl' })).toBe('Importing ffhq.pkl');
    expect(jobTitle({ kind: 'download', name: 'stylegan2-ffhq-config-f' })).toBe('Downloading stylegan2-ffhq-config-f');
    expect(offlineHint('cannot download x: fetch failed; this machine seems to be offline. To install it without this download, fetch https://a/b by any other means and run "stylecast models import FILE"')).toMatch(/Import checkpoint/);
    expect(offlineHint('cannot import /a.pt: wrong shapes')).toBeNull();
    expect(bundleFolder('/m/models/my-face')).toBe('my-face');
    expect(bundleFolder('C:\\m\\models\\my-face')).toBe('my-face');
  });

  it('tracks a model job through the contract events', () => {
    const progress = validateEvent('job:progress', { jobId: 'j1', kind: 'model', stage: 'download', fraction: 0.5, etaSec: null, message: '1 MB of 2 MB', frame: null, of: null, loss: null });
    let s = jobReducer(idleJob('model'), { type: 'start' });
    s = jobReducer(s, { type: 'started', jobId: 'j1' });
    s = jobReducer(s, { type: 'progress', progress });
    expect(s.progress?.fraction).toBe(0.5);
    s = jobReducer(s, { type: 'done', done: validateEvent('job:done', { jobId: 'j1', kind: 'model', status: 'done', message: 'installed', path: '/m/x' }) });
    expect(s).toMatchObject({ phase: 'done', path: '/m/x' });
    // Another kind's events do not move it.
    expect(jobReducer(idleJob('export'), { type: 'progress', progress }).progress).toBeNull();
  });

  it('loadCatalog reads the catalogue with exactly one models:catalog call, delivering entries and protected paths together', async () => {
    const catalog: ModelCatalog = {
      entries: [{ name: 'lpips-vgg.v0.1', kind: 'perceptual-heads', purpose: 'p', licence: 'BSD', url: 'https://x/y.pth', bytes: 6000, installed: false, partial: null }],
      protectedPaths: ['/m/models/seeded-64']
    };
    const { api, calls } = countingApi(() => Promise.resolve(catalog));
    const seen: Loadable<ModelCatalog>[] = [];
    loadCatalog(api, (c) => seen.push(c), String);
    await new Promise((r) => setTimeout(r, 0));
    expect(calls).toEqual(['models:catalog']);
    expect(seen).toEqual([{ state: 'ready', value: catalog }]);

    // A failure is the panel's error, worded by the caller; a cancelled read delivers nothing.
    const failing = countingApi(() => Promise.reject(new Error('catalogue.json is damaged')));
    const errors: Loadable<ModelCatalog>[] = [];
    loadCatalog(failing.api, (c) => errors.push(c), (e) => `read failed: ${(e as Error).message}`);
    const late: Loadable<ModelCatalog>[] = [];
    loadCatalog(api, (c) => late.push(c), String)();
    await new Promise((r) => setTimeout(r, 0));
    expect(failing.calls).toEqual(['models:catalog']);
    expect(errors).toEqual([{ state: 'error', message: 'read failed: catalogue.json is damaged' }]);
    expect(late).toEqual([]);
    expect(calls).toEqual(['models:catalog', 'models:catalog']);
  });

  it('accepts only plain model names in requests', () => {
    expect(validateRequest('models:download', { name: 'lpips-vgg.v0.1' })).toEqual({ name: 'lpips-vgg.v0.1' });
    for (const name of ['..', '../x', 'a/b', 'a\\b', '', '.hidden', 'x'.repeat(101)]) expect(() => validateRequest('models:remove', { name })).toThrow(/model name/);
    expect(() => validateRequest('models:import', { path: 'rel.pt' })).toThrow(/absolute/);
  });
});
