// The studio in Chromium over the real engine. First the start screen; then the
// issue's end-to-end scenario: open a clip,
// encode a few frames on the seeded model and watch progress reach 100%, edit in
// the timeline (a mouth keyframe, the head gizmo, undo and redo), puppeteer with
// a portrait, export; the export differs from an unedited one exactly on the
// frames the edits change. Screenshots of each screen go to test-results/e2e/.
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { openProject } from '../../src/core/project';
import { probeVideo, readFrames } from '../../src/core/video';
import { editedParams } from '../../src/main/edits';
import type { ExportRequest, JobProgress, ProjectSummary } from '../../src/shared/contract';
import { clip, hasSharedData, pausedClip, portrait, tempDir } from '../helpers';
import { SCREENSHOTS, startSeededStudio, type Studio } from './harness';
import { EXPECTED_KEYS, MOUTH_TRACK, YAW_TRACK, editTimeline } from './editor-steps';
import { parseTimeline } from '../../src/core/timeline/parse';

const tmp = tempDir('e2e-studio');
const VIDEO = clip('lp_d11.mp4');
const PORTRAIT = portrait('lp_s0.jpg');
/** One encoder window: the per-frame stage costs the same for 1 to 8 frames. */
const FRAMES = 8;
let studio: Studio;

beforeAll(async () => {
  studio = await startSeededStudio(tmp);
});

afterAll(async () => {
  await studio?.close();
  rmSync(tmp, { recursive: true, force: true });
});

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += Math.abs(a[i]! - b[i]!);
  return d / a.length;
}

describe('start screen', () => {
  it('opens and lists the seeded model and the device', async () => {
    const { page } = studio;
    await page.getByRole('heading', { name: 'Stylecast Studio' }).waitFor();
    const status = page.getByRole('contentinfo', { name: 'Status' });
    await status.getByText('1 model bundle').waitFor();
    expect(await status.textContent()).toMatch(/seeded-64 \(64px\).*Device\s*CPU/);
    await studio.screenshot('01-start');
    expect(studio.pageErrors).toEqual([]);
  });
});

describe.skipIf(!hasSharedData)('a variable-frame-rate clip (needs ../shared/data; skipped without it)', () => {
  it('offers a constant-rate copy, writes it with progress and opens it in place of the clip', async () => {
    const { page, host } = studio;
    const paused = pausedClip(join(tmp, 'paused.mp4'));
    host.answer('openVideo', paused);
    await page.getByTestId('open-video').click();
    await page.getByRole('heading', { name: 'Encode settings' }).waitFor();
    const notice = page.getByTestId('encode-timing-warning');
    expect(await notice.textContent()).toMatch(/variable frame rate \(21\.212 per second on average\).*up to 0\.31 s from its sound/);
    await page.getByRole('definition').filter({ hasText: /^85$/ }).waitFor();
    await studio.screenshot('01a-variable-rate-warning');
    const copy = join(tmp, 'paused (constant rate).mp4');
    host.answer('save', copy);
    await page.getByTestId('conform-start').click();
    expect(host.saveRequests.at(-1)).toEqual({ kind: 'copy', defaultPath: copy });
    // The copy replaces the clip: 100 frames at 25 per second, and no warning.
    await page.getByRole('definition').filter({ hasText: /^100$/ }).waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('encode-timing-warning').count()).toBe(0);
    expect(await page.locator('.setup-source .panel-header-detail').getAttribute('title')).toBe(copy);
    const conform = host.eventsOf<JobProgress>('job:progress').filter((p) => p.kind === 'conform');
    expect(conform.length).toBeGreaterThan(0);
    const made = await probeVideo(copy);
    expect([made.fpsRational, made.frameCount, made.variableFrameRate]).toEqual(['25/1', 100, false]);
    await studio.screenshot('01b-constant-rate-copy');
    // Back to the start screen for the scenario.
    await page.keyboard.press('Alt+ArrowLeft');
    await page.getByRole('heading', { name: 'Stylecast Studio' }).waitFor();
    expect(studio.pageErrors).toEqual([]);
  }, 120_000);
});

describe.skipIf(!hasSharedData)('studio scenario (needs ../shared/data; skipped without it)', () => {
  it('opens a clip, encodes, edits, puppeteers and exports', async () => {
    const { page, host } = studio;
    // What a failure leaves for diagnosis: the window, and every API call with its outcome.
    onTestFailed(async () => {
      await studio.screenshot('failed');
      writeFileSync(join(SCREENSHOTS, 'calls.json'), JSON.stringify(studio.calls.map((c) => ({ name: c.name, error: c.error })), null, 1));
    });
    const projectDir = join(tmp, 'd11.stylecast');

    // 1. Open a clip from ../shared/data.
    host.answer('openVideo', VIDEO);
    await page.getByTestId('open-video').click();
    await page.getByRole('heading', { name: 'Encode settings' }).waitFor();

    // 2. Encode a few frames on the seeded model, draft quality, into a folder chosen in the save dialog.
    const count = page.getByTestId('encode-frame-count');
    await count.fill(String(FRAMES));
    await count.press('Tab');
    await page.getByTestId('encode-quality-draft').click();
    host.answer('save', projectDir);
    await page.getByTestId('encode-choose-out').click();
    await expect.poll(() => page.getByTestId('encode-out').inputValue()).toBe(projectDir);
    await studio.screenshot('02-encode-setup');
    await page.getByTestId('start-encode').click();

    const bar = page.getByTestId('encode-progress');
    await expect.poll(async () => Number(await bar.getAttribute('aria-valuenow')), { timeout: 120_000 }).toBeGreaterThan(15);
    await studio.screenshot('03-encode-running');
    await page.getByTestId('open-in-editor').waitFor({ timeout: 600_000 });
    expect(await bar.getAttribute('aria-valuenow')).toBe('100');
    const progress = host.eventsOf<JobProgress>('job:progress').filter((p) => p.kind === 'encode');
    expect(progress.at(-1)!.fraction).toBe(1);
    await studio.screenshot('04-encode-done');
    const encoded = await openProject(projectDir);
    expect(encoded.doc.encoding.encodedThrough).toBe(FRAMES);

    // 3-4. The editor: a mouth keyframe moved, the head gizmo rotated, undo once, redo once.
    await page.getByTestId('open-in-editor').click();
    await editTimeline(studio, { frames: FRAMES });

    // 5. Puppeteer with a portrait.
    await page.getByTestId('open-puppeteer').click();
    const puppet = page.getByTestId('puppeteer-dialog');
    await puppet.waitFor();
    host.answer('openImage', PORTRAIT);
    await page.getByTestId('puppet-choose-portrait').click();
    await page.getByTestId('puppet-preview-image').waitFor({ timeout: 300_000 });
    const drivenDir = join(tmp, 'driven.stylecast');
    host.answer('save', drivenDir);
    await page.getByTestId('puppet-choose-out').click();
    await expect.poll(() => page.getByTestId('puppet-out').inputValue()).toBe(drivenDir);
    await studio.screenshot('06-puppeteer');
    await page.getByTestId('puppet-start').click();
    await page.getByTestId('puppet-open').waitFor({ timeout: 300_000 });
    await studio.screenshot('07-puppeteer-done');
    const driven = await openProject(drivenDir);
    expect(driven.doc.encoding.encodedThrough).toBe(FRAMES);
    await page.getByRole('button', { name: 'Stay here' }).click();
    await puppet.waitFor({ state: 'detached' });

    // 6. Export, with the timeline's edits.
    await page.getByTestId('open-export').click();
    await page.getByTestId('export-dialog').waitFor();
    const exported = join(tmp, 'edited.mp4');
    host.answer('save', exported);
    await page.getByTestId('export-choose-out').click();
    await expect.poll(() => page.getByTestId('export-out').inputValue()).toBe(exported);
    await page.getByTestId('export-framing-crop').click();
    await page.getByTestId('export-size-64').click();
    await page.getByTestId('export-quality-lossless').click();
    await studio.screenshot('08-export');
    await page.getByTestId('export-start').click();
    await page.getByTestId('export-done').waitFor({ timeout: 300_000 });
    await studio.screenshot('09-export-done');

    // The exported file exists and has the right frame count.
    expect(existsSync(exported)).toBe(true);
    expect((await probeVideo(exported)).frameCount).toBe(FRAMES);
    // It carries the edits made in the editor.
    const request = studio.calls.filter((c) => c.name === 'export:start' && c.error === null).at(-1)!.payload as ExportRequest;
    expect(request).toMatchObject({ size: 64, pasteBack: false, quality: 'lossless' });
    const doc = parseTimeline(request.edits, FRAMES);
    expect(doc.layers[MOUTH_TRACK]!.map((k) => k.frame)).toEqual(EXPECTED_KEYS.mouth);
    expect(doc.layers[MOUTH_TRACK]![1]!.value).toBeCloseTo(3, 5);
    expect(doc.layers[YAW_TRACK]!.map((k) => k.frame)).toEqual(EXPECTED_KEYS.yaw);

    // An unedited export with the same settings, through the same API.
    host.answer('save', join(tmp, 'plain.mp4'));
    const plainOut = await studio.invoke<string>('dialog:save', { kind: 'video', defaultPath: join(tmp, 'plain.mp4') });
    const { jobId } = await studio.invoke<{ jobId: string }>('export:start', { ...request, out: plainOut, edits: null });
    expect(await host.jobDone(jobId)).toMatchObject({ status: 'done' });

    // Lossless exports hold exactly the rendered frames, so the two differ exactly
    // on the frames the edits change, and there by what the renders differ.
    const project = await openProject(projectDir);
    const summary = await studio.invoke<ProjectSummary>('project:open', { path: projectDir });
    const edited = editedParams(project, summary.paramGroups, request.edits);
    const changed = Array.from({ length: FRAMES }, (_, t) => t).filter((t) => edited.subarray(t * 35, t * 35 + 35).some((v, p) => v !== project.params[t * 35 + p]));
    expect(changed).toEqual([2, 3, 4, 5, 6]);
    const { renderer } = await studio.api.engine.renderer(summary.model.path!);
    const rendersEdited = await renderer.render(project.wid, edited, 64);
    const rendersPlain = await renderer.render(project.wid, project.params.subarray(0, FRAMES * 35), 64);
    const a = await readFrames(exported);
    const b = await readFrames(plainOut);
    const exportDiff = a.map((f, t) => meanAbsDiff(f.data, b[t]!.data));
    console.log(`export differences per frame: ${exportDiff.map((d) => d.toFixed(2)).join(', ')}`);
    for (let t = 0; t < FRAMES; t++) {
      expect(meanAbsDiff(a[t]!.data, rendersEdited[t]!)).toBeLessThan(0.05);
      expect(meanAbsDiff(b[t]!.data, rendersPlain[t]!)).toBeLessThan(0.05);
      if (changed.includes(t)) expect(exportDiff[t]).toBeGreaterThan(0.5);
      else expect(exportDiff[t]).toBe(0);
    }

    expect(studio.pageErrors).toEqual([]);
  });
});
