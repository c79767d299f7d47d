// The studio's fine-tuning over IPC, on the tiny generator and 8 real frames of lp_d11
// (test/core/tune/fixture.ts): the cost estimate (a real timed step), the tune job in a
// real job process with progress, cancel and resume, the viewer's before/after renders, and
// a damaged or missing delta, which opens untuned only after the user agrees.
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
import { hasSharedData, tempDir } from '../helpers';
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
}, 300_000);

afterAll(async () => {
  await api?.dispose();
  await rt?.release();
  rmSync(tmp, { recursive: true, force: true });
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
    const damaged = join(tmp, 'damaged.stylecast');
    cpSync(tuned, damaged, { recursive: true });
    const file = join(damaged, (await openProject(damaged)).doc.tune!.file);
    const bytes = readFileSync(file);
    bytes[6]! ^= 0xff;
    writeFileSync(file, bytes);
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
});
