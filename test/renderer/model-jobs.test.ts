import { describe, expect, it } from 'vitest';
import { bundleFolder, catalogStatus, jobTitle, offlineHint } from '../../src/renderer/src/models/modelView';
import { idleJob, jobReducer } from '../../src/renderer/src/ui/jobState';
import { validateEvent, validateRequest } from '../../src/shared/contract';

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

  it('accepts only plain model names in requests', () => {
    expect(validateRequest('models:download', { name: 'lpips-vgg.v0.1' })).toEqual({ name: 'lpips-vgg.v0.1' });
    for (const name of ['..', '../x', 'a/b', 'a\\b', '', '.hidden', 'x'.repeat(101)]) expect(() => validateRequest('models:remove', { name })).toThrow(/model name/);
    expect(() => validateRequest('models:import', { path: 'rel.pt' })).toThrow(/absolute/);
  });
});
