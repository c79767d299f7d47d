// The studio's fine-tuning over IPC, on the tiny generator and 8 real frames of lp_d11
// (test/core/tune/fixture.ts): the cost estimate (a real timed step), the tune job in a
// real job process with progress, cancel and resume, the viewer's before/after renders, and
// a damaged or missing delta, which opens untuned only after the user agrees; puppeteering
// with a portrait tuned on the portrait, and with an identity whose delta is damaged or missing.
import { cpSync, existsSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveBasis } from '../../src/core/model/basis';
import type { ModelBundle } from '../../src/core/model/bundle';
import { openProject } from '../../src/core/project';
import { FrameRenderer } from '../../src/core/render/render';
import { Runtime } from '../../src/core/runtime';
import { planDelta } from '../../src/core/tune';
import type { EditBasis } from '../../src/core/model/basis';
import type { CoreApi } from '../../src/main/core-api';
import type { InvokeEventLike } from '../../src/main/ipc';
import { decodePngDataUrl } from '../../src/main/png';
import type { ImageResult, JobProgress, ProjectSummary, TuneEstimate } from '../../src/shared/contract';
import { hasSharedData, portrait, tempDir } from '../helpers';
import { tinyArch, tinyModel, tinyProject } from '../core/tune/fixture';
import { coreOverIpc, type ScriptedHost } from './fake-host';

const tmp = tempDir('tune-ipc');
const modelsDir = join(tmp, 'models');
// Enough steps that the cancel, sent on the first step's progress, lands while steps remain.
const STEPS = 40;

let rt: Runtime;
let bundle: ModelBundle;
let basis: EditBasis;
let host: ScriptedHost;
let api: CoreApi<InvokeEventLike>;
let call: ReturnType<typeof coreOverIpc>['call'];
let tuned: string;
let plain: string;

/** Lets main read and write a project the way File > Open Project does. */
async function openByDialog(dir: string): Promise<void> {
  host.answer('openProject', dir);
  expect(await call('dialog:openProject')).toBe(dir);
}

const renderFrame = async (project: string, untuned: boolean, frame = 1) => {
  const p = await openProject(project);
  const params = Array.from(p.params.subarray(frame * 35, (frame + 1) * 35));
  return call<ImageResult>('render:frame', { project, frame, params, size: null, untuned });
};

/** A copy of the tuned project with one byte of its delta flipped; returns the copy and its delta file. */
async function damagedCopy(name: string, byte: number): Promise<{ dir: string; file: string }> {
  const dir = join(tmp, name);
  cpSync(tuned, dir, { recursive: true });
  const file = join(dir, (await openProject(dir)).doc.tune!.file);
  const bytes = readFileSync(file);
  bytes[byte]! ^= 0xff;
  writeFileSync(file, bytes);
  return { dir, file };
}

/** The user chooses a new project folder in the Save dialog (main writes only there). */
async function chooseOut(path: string): Promise<string> {
  host.answer('save', path);
  return call<string>('dialog:save', { kind: 'project', defaultPath: path });
}

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += Math.abs(a[i]! - b[i]!);
  return d / a.length;
}

beforeAll(async () => {
  if (!hasSharedData) return;
  rt = await Runtime.create({ device: 'cpu' });
  ({ bundle, basis } = await tinyModel(join(modelsDir, 'tiny-32'), rt));
  // Stored in the bundle, so the job processes and main's engine find the same basis.
  saveBasis(bundle, basis);
  tuned = (await tinyProject(join(tmp, 'talk.stylecast'), bundle, basis)).dir;
  plain = (await tinyProject(join(tmp, 'plain.stylecast'), bundle, basis)).dir;
  ({ host, api, call } = coreOverIpc(modelsDir));
});

afterAll(async () => {
  await api?.dispose();
  await rt?.release();
});

describe.skipIf(!hasSharedData)('fine-tuning in the studio (needs ../shared/data)', () => {
  it('estimates the cost from a step timed on this machine, and refuses a rank over the budget', async () => {
    await openByDialog(tuned);
    const summary = await call<ProjectSummary>('project:open', { path: tuned });
    expect([summary.tune, summary.tuneCheckpoint]).toEqual([null, false]);
    await expect(call('tune:estimate', { project: tuned, rank: 8 })).rejects.toThrow(/Rank 8 is too high for tiny-32: .*Choose 2 or less/);
    const e = await call<TuneEstimate>('tune:estimate', { project: tuned, rank: 2 });
    console.log(`tiny tune estimate: ${JSON.stringify(e)}`);
    expect(e).toMatchObject({ framesPerStep: 4, localityPerStep: 2, encoded: 8, tuned: 6, heldOut: 2, maxRank: 2, deltaBytes: 2 * planDelta(tinyArch, 2).size });
    expect(e.secondsPerStep).toBeGreaterThan(0);
    expect(e.secondsPerRender).toBeGreaterThan(0);
    // A step of 6 images' forward and gradient costs more than one image's forward.
    expect(e.secondsPerStep).toBeGreaterThan(e.secondsPerRender);
  }, 600_000);

  it('runs the tune job: cancel keeps a checkpoint, starting again resumes it and stores the delta', async () => {
    const request = { project: tuned, steps: STEPS, rank: 2 };
    const first = await call<{ jobId: string }>('tune:start', request);
    await expect(call('tune:start', request)).rejects.toThrow(/is being written by another job/);
    await new Promise<void>((resolve) => {
      const off = host.onEvent((ev) => {
        const p = ev.payload as JobProgress;
        if (ev.name === 'job:progress' && p.jobId === first.jobId && p.stage === 'tune') {
          off();
          resolve();
        }
      });
    });
    await call('job:cancel', { jobId: first.jobId });
    expect(await host.jobDone(first.jobId)).toMatchObject({ status: 'cancelled' });
    expect(existsSync(join(tuned, 'tune-resume.bin'))).toBe(true);
    const cancelled = await call<ProjectSummary>('project:open', { path: tuned });
    expect([cancelled.tune, cancelled.tuneCheckpoint]).toEqual([null, true]);

    const second = await call<{ jobId: string }>('tune:start', request);
    const done = await host.jobDone(second.jobId);
    console.log(`tune job: ${done.message}`);
    expect(done).toMatchObject({ status: 'done', path: tuned });
    expect(done.message).toMatch(new RegExp(`^Fine-tuned 6 frames in ${STEPS} steps \\(resumed at step [1-9]\\d*\\): held-out PSNR -?\\d+\\.\\d\\d → -?\\d+\\.\\d\\d dB, delta \\d+\\.\\d KB\\.$`));
    const progress = host.eventsOf<JobProgress>('job:progress', second.jobId);
    expect(progress.every((p) => p.kind === 'tune')).toBe(true);
    expect(progress.at(-1)!.fraction).toBe(1);
    expect(progress.some((p) => p.stage === 'tune' && p.etaSec !== null && p.etaSec > 0)).toBe(true);
    expect(progress.some((p) => new RegExp(`^resuming at step \\d+ of ${STEPS}$`).test(p.message))).toBe(true);

    const summary = await call<ProjectSummary>('project:open', { path: tuned });
    expect(summary.tuneCheckpoint).toBe(false);
    expect(summary.tune).toMatchObject({ rank: 2, deltaBytes: 2 * planDelta(tinyArch, 2).size, ignored: null });
    expect(readFileSync(join(tuned, summary.tune!.file)).byteLength).toBe(summary.tune!.deltaBytes);
    const onDisk = (await openProject(tuned)).doc.tune!;
    const report = onDisk.report as { psnr: { before: { heldOut: number }; after: { heldOut: number } } };
    expect(summary.tune!.psnrHeldOut).toEqual({ before: report.psnr.before.heldOut, after: report.psnr.after.heldOut });
    // The message shows what the project stores.
    expect(done.message).toContain(`${report.psnr.before.heldOut.toFixed(2)} → ${report.psnr.after.heldOut.toFixed(2)} dB`);
  }, 600_000);

  it("renders the tuned project after and before: 'before' is the untuned network, bit for bit", async () => {
    const after = decodePngDataUrl((await renderFrame(tuned, false)).image);
    const before = decodePngDataUrl((await renderFrame(tuned, true)).image);
    const d = meanAbsDiff(after.data, before.data);
    console.log(`before/after mean absolute difference: ${d.toFixed(2)} of 255`);
    expect(d).toBeGreaterThan(0.5);
    // The same frame of an untuned project with the same encoding, through the studio and directly.
    await openByDialog(plain);
    await call('project:open', { path: plain });
    const untunedProject = decodePngDataUrl((await renderFrame(plain, false)).image);
    expect(Buffer.from(before.data).equals(Buffer.from(untunedProject.data))).toBe(true);
    const p = await openProject(plain);
    const [direct] = await new FrameRenderer(bundle, basis, rt).render(p.wid, p.params.slice(35, 70), 32, 1);
    expect(Buffer.from(before.data).equals(Buffer.from(direct!))).toBe(true);
    // 'untuned' on an untuned project changes nothing.
    expect(Buffer.from(decodePngDataUrl((await renderFrame(plain, true)).image).data).equals(Buffer.from(direct!))).toBe(true);
  }, 300_000);

  it('a damaged delta: named in the question, refused by default, rendered untuned only after consent', async () => {
    const { dir: damaged, file } = await damagedCopy('damaged.stylecast', 6);
    await openByDialog(damaged);

    host.confirmAnswers.push(false);
    await expect(call('project:open', { path: damaged })).rejects.toThrow(/damaged\.stylecast was not opened: the fine-tuning delta .*delta-[0-9a-f]{12}\.f16 is damaged/);
    const asked = host.confirmRequests.at(-1)!;
    expect(asked.message).toBe('Render damaged.stylecast without its fine-tuning?');
    expect(asked.detail).toContain(file);
    expect(asked.confirm).toBe('Render Untuned');
    // Without consent nothing renders untuned: the preview is the delta's error.
    await expect(renderFrame(damaged, false)).rejects.toThrow(/delta .*is damaged/);

    host.confirmAnswers.push(true);
    const opened = await call<ProjectSummary>('project:open', { path: damaged });
    expect(opened.tune!.ignored).toMatch(/delta .*\.f16 is damaged/);
    const untuned = decodePngDataUrl((await renderFrame(damaged, false)).image);
    const plainRender = decodePngDataUrl((await renderFrame(plain, false)).image);
    expect(Buffer.from(untuned.data).equals(Buffer.from(plainRender.data))).toBe(true);

    rmSync(file);
    host.confirmAnswers.push(false);
    await expect(call('project:open', { path: damaged })).rejects.toThrow(/was not opened: the fine-tuning delta .*\.f16 is missing\./);
    expect(host.confirmRequests.at(-1)!.detail).toContain(file);
  }, 300_000);

  it('puppeteer:start validates the tune option: a portrait only, whole steps in range, never left out', async () => {
    const base = { motion: plain, identity: { kind: 'project', path: tuned }, mode: 'relative', lock: null, strength: 1, out: await chooseOut(join(tmp, 'never.stylecast')) };
    await expect(call('puppeteer:start', { ...base, tune: { steps: 5 } })).rejects.toThrow(/Tune on the portrait applies to a portrait identity; .*talk\.stylecast is a project, which brings its own fine-tuning/);
    await expect(call('puppeteer:start', { ...base, tune: { steps: 0 } })).rejects.toThrow(/tune\.steps/);
    await expect(call('puppeteer:start', { ...base, tune: { steps: 2.5 } })).rejects.toThrow(/tune\.steps/);
    await expect(call('puppeteer:start', { ...base, tune: { steps: 5, rank: 2 } })).rejects.toThrow(/unexpected field "rank"/);
    await expect(call('puppeteer:start', { ...base, tune: true })).rejects.toThrow(/tune/);
    await expect(call('puppeteer:start', base)).rejects.toThrow(/tune/);
    expect(existsSync(base.out)).toBe(false);
  });

  it('puppeteers a portrait tuned on the portrait: the driven project carries the delta, and it changes the render', async () => {
    const face = portrait('lp_s0.jpg');
    host.answer('openImage', face);
    expect(await call('dialog:openImage')).toBe(face);
    const out = await chooseOut(join(tmp, 'portrait-driven.stylecast'));
    const { jobId } = await call<{ jobId: string }>('puppeteer:start', { motion: plain, identity: { kind: 'portrait', path: face }, mode: 'relative', lock: null, strength: 1, out, tune: { steps: 60 } });
    const done = await host.jobDone(jobId);
    console.log(`portrait puppeteer job: ${done.message}`);
    expect(done).toMatchObject({ status: 'done', path: out });
    expect(done.message).toMatch(/tuned on the portrait \(PSNR -?\d+\.\d\d → -?\d+\.\d\d dB\)\.$/);
    const progress = host.eventsOf<JobProgress>('job:progress', jobId);
    expect(progress.some((p) => p.stage === 'tune' && /^tuning on the portrait: step \d+ of 60$/.test(p.message))).toBe(true);
    const record = (await openProject(out)).doc.tune!;
    // Main names the portrait by its real path (../shared may be a link).
    expect(record).toMatchObject({ source: 'portrait', portrait: realpathSync(face), rank: 2 });
    const report = record.report as { frames: unknown; psnr: { before: { tuned: number; heldOut: null }; after: { tuned: number; heldOut: null } } };
    expect(report.frames).toEqual({ tuned: 1, heldOut: 0 });
    expect(report.psnr.after.heldOut).toBeNull();
    expect(report.psnr.after.tuned).toBeGreaterThan(report.psnr.before.tuned);
    await openByDialog(out);
    const summary = await call<ProjectSummary>('project:open', { path: out });
    // No held-out frames: the summary shows no held-out PSNR rather than a made-up one.
    expect(summary.tune).toMatchObject({ rank: 2, psnrHeldOut: null, ignored: null });
    const after = decodePngDataUrl((await renderFrame(out, false)).image);
    const before = decodePngDataUrl((await renderFrame(out, true)).image);
    expect(meanAbsDiff(after.data, before.data)).toBeGreaterThan(0.5);
  }, 600_000);

  it('an identity project with a damaged or missing delta: asked by name before the start, nothing created without consent', async () => {
    const { dir: identity, file } = await damagedCopy('damaged-id.stylecast', 8);
    await openByDialog(identity);
    const out = await chooseOut(join(tmp, 'driven-by-damaged.stylecast'));
    const request = { motion: plain, identity: { kind: 'project', path: identity }, mode: 'relative', lock: null, strength: 1, out, tune: null };
    // The preview does not render untuned behind the user's back.
    const { out: _out, tune: _tune, ...settings } = request;
    await expect(call('puppeteer:preview', { ...settings, frame: 1 })).rejects.toThrow(/delta .*is damaged.*Create driven project asks/);

    host.confirmAnswers.push(false);
    await expect(call('puppeteer:start', request)).rejects.toThrow(/driven-by-damaged\.stylecast was not created: the fine-tuning delta .*delta-[0-9a-f]{12}\.f16 is damaged/);
    const asked = host.confirmRequests.at(-1)!;
    expect(asked.message).toBe('Puppeteer damaged-id.stylecast without its fine-tuning?');
    expect(asked.detail).toContain(file);
    expect(asked.confirm).toBe('Continue Untuned');
    expect(existsSync(out)).toBe(false);

    host.confirmAnswers.push(true);
    const { jobId } = await call<{ jobId: string }>('puppeteer:start', request);
    const done = await host.jobDone(jobId);
    expect(done).toMatchObject({ status: 'done', path: out });
    expect(done.message).toMatch(/untuned \(the identity’s delta was left out\)\.$/);
    expect((await openProject(out)).doc.tune).toBeNull();

    rmSync(file);
    host.confirmAnswers.push(false);
    await expect(call('puppeteer:start', { ...request, out: await chooseOut(join(tmp, 'driven-by-missing.stylecast')) })).rejects.toThrow(/was not created: the fine-tuning delta .*\.f16 is missing\./);
    expect(host.confirmRequests.at(-1)!.detail).toContain(file);
    expect(existsSync(join(tmp, 'driven-by-missing.stylecast'))).toBe(false);
  }, 600_000);
});
