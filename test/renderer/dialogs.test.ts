import { describe, expect, it } from 'vitest';
import { type ModelInfo, validateRequest } from '../../src/shared/contract';
import { audioBlocker, defaultExportPath, exportSizes, initialExportForm, outputSize, pasteBackBlocker, toExportRequest, validateExport } from '../../src/renderer/src/dialogs/exportForm';
import { projectFixture } from './fixtures';
import { defaultPuppetOut, initialPuppetForm, previewKey, puppetOut, toPreviewRequest, toPuppeteerRequest, validatePuppet } from '../../src/renderer/src/dialogs/puppeteerForm';

const project = projectFixture();

const info = (sizes: number[], resolution = sizes[sizes.length - 1]!): ModelInfo => ({
  id: 'm',
  name: 'M',
  resolution,
  path: '/models/m',
  sizes,
  calibrated: true,
  poseUnit: 'degree',
  poseMethod: 'landmark-pnp',
  regionMethod: 'landmarks',
  attributes: [],
  bytes: 1
});

describe('export form', () => {
  it('offers the model sizes up to 1024 and defaults to the largest', () => {
    expect(exportSizes(info([16, 32, 64]))).toEqual([16, 32, 64]);
    expect(exportSizes(info([256, 512, 1024, 2048]))).toEqual([256, 512, 1024]);
    expect(exportSizes(info([], 128))).toEqual([128]);
    expect(exportSizes(null)).toEqual([]);
    expect(initialExportForm(project, info([16, 32, 64]))).toEqual({ size: 64, pasteBack: true, audio: true, quality: 'normal', out: null });
  });

  it('never suggests the source video as the output', () => {
    expect(defaultExportPath(project)).toBe('/work/talk-edit.mp4');
    expect(defaultExportPath({ path: 'C:\\p\\talk.stylecast', name: 'talk' })).toBe('C:\\p\\talk-edit.mp4');
  });

  it('turns paste-back and audio off, with the reason, when the source is missing or silent', () => {
    const missing = { ...project, source: { ...project.source, path: null } };
    expect(initialExportForm(missing, info([64]))).toMatchObject({ pasteBack: false, audio: false });
    expect(pasteBackBlocker(missing)).toMatch(/not where the project says/);
    expect(audioBlocker({ ...project, source: { ...project.source, hasAudio: false } })).toBe('The source video has no audio track.');
    expect(pasteBackBlocker(project)).toBeNull();
    expect(audioBlocker(project)).toBeNull();
  });

  it('reports the frame size of the output', () => {
    expect(outputSize(project, { size: 64, pasteBack: true })).toEqual({ width: 640, height: 360 });
    expect(outputSize(project, { size: 32, pasteBack: false })).toEqual({ width: 32, height: 32 });
  });

  it('validates against the project and the offered sizes', () => {
    const f = initialExportForm(project, info([16, 32, 64]));
    expect(validateExport(project, f, [16, 32, 64])).toBeNull();
    expect(validateExport(project, { ...f, size: 48 }, [16, 32, 64])).toMatch(/16, 32, 64/);
    expect(validateExport({ ...project, encodedThrough: 0 }, f, [16, 32, 64])).toMatch(/No frame/);
    expect(validateExport({ ...project, source: { ...project.source, hasAudio: false } }, f, [16, 32, 64])).toBe('The source video has no audio track.');
  });

  it('passes the editor edits through to export:start', () => {
    const f = { ...initialExportForm(project, info([64])), quality: 'high' as const };
    const edits = { version: 1, tracks: {} };
    expect(toExportRequest(project, f, edits, '/out/a.mp4')).toEqual({ project: '/work/talk.stylecast', out: '/out/a.mp4', size: 64, pasteBack: true, audio: true, quality: 'high', edits, start: null, count: null });
    expect(toExportRequest(project, f, undefined, '/out/a.mp4').edits).toBeNull();
  });
});

describe('puppeteer form', () => {
  const motion = { path: '/work/talk.stylecast', name: 'talk', frames: 8, total: 8 };

  it('needs an identity, and a different one from the motion', () => {
    const f = initialPuppetForm(motion);
    expect(f).toMatchObject({ mode: 'relative', lock: null, strength: 1, frame: 3, out: null, identity: null });
    expect(validatePuppet(f)).toMatch(/Choose whose face/);
    expect(validatePuppet({ ...f, identity: { kind: 'project', path: motion.path } })).toMatch(/same project/);
    expect(validatePuppet({ ...f, identity: { kind: 'portrait', path: '/pics/ada.png' } })).toBeNull();
  });

  it('refuses a partly encoded motion, a bad strength and an output over a source', () => {
    const f = { ...initialPuppetForm(motion), identity: { kind: 'portrait' as const, path: '/pics/ada.png' } };
    expect(validatePuppet({ ...f, motion: { ...motion, frames: 5 } })).toMatch(/not fully encoded \(5 of 8 frames\)/);
    expect(validatePuppet({ ...f, strength: 3.5 })).toMatch(/between 0 and 3/);
    expect(validatePuppet({ ...f, out: '/work/talk.stylecast' })).toMatch(/replace one of its sources/);
    expect(validatePuppet({ ...f, out: '/work/x' })).toMatch(/end in \.stylecast/);
  });

  it('names the new project after both faces, beside the motion', () => {
    expect(defaultPuppetOut('/work/talk.stylecast', '/pics/ada.png')).toBe('/work/ada-driven-by-talk.stylecast');
    const f = { ...initialPuppetForm(motion), identity: { kind: 'portrait' as const, path: '/pics/ada.png' } };
    expect(puppetOut(f)).toBe('/work/ada-driven-by-talk.stylecast');
    expect(puppetOut({ ...f, out: '/x/y.stylecast' })).toBe('/x/y.stylecast');
  });

  it('builds the start and preview requests', () => {
    const f = { ...initialPuppetForm(motion), identity: { kind: 'portrait' as const, path: '/pics/ada.png' }, lock: 'mouth' as const, strength: 1.5, frame: 20 };
    expect(toPuppeteerRequest({ ...f, out: '/o.stylecast' })).toEqual({ motion: '/work/talk.stylecast', identity: { kind: 'portrait', path: '/pics/ada.png' }, mode: 'relative', lock: 'mouth', strength: 1.5, out: '/o.stylecast', tune: null });
    expect(toPreviewRequest(f).frame).toBe(7);
    expect(previewKey(f)).toBe(previewKey({ ...f, out: '/elsewhere.stylecast' }));
    expect(previewKey(f)).not.toBe(previewKey({ ...f, strength: 2 }));
    expect(previewKey(initialPuppetForm(motion))).toBe('null');
  });

  it('tunes on the portrait only when asked and only for a portrait; the request passes main\'s validation', () => {
    const f = { ...initialPuppetForm(motion), identity: { kind: 'portrait' as const, path: '/pics/ada.png' }, out: '/o.stylecast' };
    expect(f.tunePortrait).toBe(false);
    expect(toPuppeteerRequest(f).tune).toBeNull();
    const tuned = toPuppeteerRequest({ ...f, tunePortrait: true });
    expect(tuned.tune).toEqual({ steps: null });
    expect(validateRequest('puppeteer:start', tuned)).toEqual(tuned);
    // Switching the identity to a project drops the option rather than sending what main refuses.
    expect(toPuppeteerRequest({ ...f, tunePortrait: true, identity: { kind: 'project', path: '/work/ada.stylecast' } }).tune).toBeNull();
    // The preview renders the untuned face either way: its request has no tune field.
    expect(toPreviewRequest({ ...f, tunePortrait: true })).toEqual(toPreviewRequest(f));
  });
});
