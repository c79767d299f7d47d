// The IPC handlers over the real core, called the way the window calls them
// (through registerHandlers, so every payload is validated as in the app), on
// the seeded model and a real clip. Jobs run in real child processes.
import { existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFrames, probeVideo } from '../../src/core/video';
import { Runtime } from '../../src/core/runtime';
import { openProject } from '../../src/core/project';
import { emptyTimeline } from '../../src/core/timeline/types';
import { setInterp, setKey } from '../../src/core/timeline/edits';
import { serializeTimeline } from '../../src/core/timeline/parse';
import { createCoreApi, type CoreApi } from '../../src/main/core-api';
import { editedParams } from '../../src/main/edits';
import { appUrlMatcher, registerHandlers, type InvokeEventLike } from '../../src/main/ipc';
import { decodePngDataUrl } from '../../src/main/png';
import type { EncodeFrameEvent, JobProgress, ProjectSummary } from '../../src/shared/contract';
import { calibratedSeededModel, clip, hasSharedData, pausedClip, tempDir } from '../helpers';
import { runCli } from '../cli/run-cli';
import { FakeIpcMain, ScriptedHost } from './fake-host';

const tmp = tempDir('core-api');
const modelsDir = join(tmp, 'models');
const video = clip('lp_d11.mp4');
const FRAMES = 3;

let host: ScriptedHost;
let api: CoreApi<InvokeEventLike>;
let ipc: FakeIpcMain;
let modelPath: string;
let projectDir: string;
let summary: ProjectSummary;

const call = <T = unknown>(name: string, payload?: unknown): Promise<T> => (payload === undefined ? ipc.invoke(name) : ipc.invoke(name, payload)) as Promise<T>;

function nested(depth: number): unknown {
  let x: unknown = 1;
  for (let i = 0; i < depth; i++) x = [x];
  return x;
}

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d += Math.abs(a[i]! - b[i]!);
  return d / a.length;
}

beforeAll(async () => {
  if (!hasSharedData) return;
  const rt = await Runtime.create({ device: 'cpu' });
  const bundle = await calibratedSeededModel(join(modelsDir, 'seeded-64'), rt);
  await rt.release();
  modelPath = bundle.dir;
  host = new ScriptedHost(modelsDir);
  api = createCoreApi<InvokeEventLike>(host);
  ipc = new FakeIpcMain();
  registerHandlers(ipc, api.handlers, { isTrustedSender: appUrlMatcher(FakeIpcMain.APP_URL) });
});

afterAll(async () => {
  await api?.dispose();
});

describe.skipIf(!hasSharedData)('core API over IPC (needs ../shared/data; skipped without it)', () => {
  it('lists and describes the seeded model', async () => {
    const models = await call<{ name: string; path: string }[]>('models:list');
    expect(models.map((m) => m.name)).toEqual(['seeded-64']);
    const info = await call<{ resolution: number; sizes: number[]; calibrated: boolean; attributes: { name: string; group: string }[]; bytes: number }>('models:info', { path: modelPath });
    expect(info.resolution).toBe(64);
    expect(info.sizes).toEqual([16, 32, 64]);
    expect(info.calibrated).toBe(true);
    expect(info.attributes).toHaveLength(32);
    expect(info.attributes[0]!.group).toBe('mouth');
    expect(info.bytes).toBeGreaterThan(1_000_000);
    await expect(call('models:info', { path: '/etc' })).rejects.toThrow(/loads models from/);
  });

  it('reads only what the user opened', async () => {
    await expect(call('video:probe', { path: video })).rejects.toThrow(/cannot read .*lp_d11\.mp4: open the video first/);
    host.answer('openVideo', video);
    expect(await call('dialog:openVideo')).toBe(video);
    const probe = await call<{ width: number; height: number; frames: number; hasAudio: boolean; poster: string }>('video:probe', { path: video });
    expect([probe.width, probe.height, probe.frames, probe.hasAudio]).toEqual([512, 512, 225, true]);
    const poster = decodePngDataUrl(probe.poster);
    expect([poster.width, poster.height]).toEqual([160, 160]);
    // The poster is frame 0, scaled: compare with ffmpeg's own scaling of it.
    const [first] = await readFrames(video, { count: 1, size: { width: 160, height: 160 } });
    expect(meanAbsDiff(poster.data, first!.data)).toBe(0);

    const { url } = await call<{ url: string }>('media:url', { path: video });
    expect(url.startsWith(host.mediaBase)).toBe(true);
    const token = url.slice(host.mediaBase.length);
    const ranged = await api.media.respond(token, 'bytes=100-199');
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get('content-range')).toMatch(/^bytes 100-199\/\d+$/);
    expect(Buffer.from(await ranged.arrayBuffer()).equals(readFileSync(video).subarray(100, 200))).toBe(true);
    expect((await api.media.respond('not-a-token', null)).status).toBe(404);
    expect((await api.media.respond(token, 'bytes=999999999-')).status).toBe(416);
  });

  it('makes a constant-rate copy of an opened variable-rate video as a job, which then probes without the warning', async () => {
    const vfr = pausedClip(join(tmp, 'paused.mp4'));
    const out = join(tmp, 'paused (constant rate).mp4');
    await expect(call('video:conform', { video: vfr, out })).rejects.toThrow(/cannot read .*paused\.mp4: open the video first/);
    host.answer('openVideo', vfr);
    await call('dialog:openVideo');
    const before = await call<{ fps: number; frames: number; timingWarning: string | null }>('video:probe', { path: vfr });
    expect(before.timingWarning).toMatch(/variable frame rate .*make a constant-rate copy and encode that\./);
    expect(before).toHaveProperty('picture', null); // read as stored: not turned, square pixels, standard range
    // Only a file chosen in the save dialog, and never the video itself.
    await expect(call('video:conform', { video: vfr, out })).rejects.toThrow(/writes only where you choose/);
    await expect(call('video:conform', { video: vfr, out: 'relative.mp4' })).rejects.toThrow(/video:conform payload\.out/);
    host.answer('save', vfr);
    expect(await call('dialog:save', { kind: 'copy', defaultPath: out })).toBe(vfr);
    await expect(call('video:conform', { video: vfr, out: vfr })).rejects.toThrow(/is the video itself/);
    // Not over the source of an open project either (this file's encode is opened further down: lp_d11's).
    host.answer('save', out);
    expect(await call('dialog:save', { kind: 'copy', defaultPath: out })).toBe(out);
    expect(host.saveRequests.at(-1)).toEqual({ kind: 'copy', defaultPath: out });
    const { jobId } = await call<{ jobId: string }>('video:conform', { video: vfr, out });
    // While it runs, no copy (of lp_d11 here) may replace the video it reads.
    host.answer('openVideo', video);
    await call('dialog:openVideo');
    await expect(call('video:conform', { video, out: vfr })).rejects.toThrow(/is the source of an open project or a running job/);
    await expect(call('video:conform', { video: vfr, out })).rejects.toThrow(/is being written by another job/);
    const done = await host.jobDone(jobId);
    expect(done).toMatchObject({ status: 'done', path: out, kind: 'conform' });
    expect(done.message).toMatch(/100 frames at 25 per second \(the source had 85 at 21\.212 on average\)/);
    const fractions = host.eventsOf<JobProgress>('job:progress', jobId).map((p) => p.fraction);
    expect(fractions.length).toBeGreaterThan(1);
    expect(fractions.every((f, i) => i === 0 || f >= fractions[i - 1]!)).toBe(true);
    const after = await call<{ fps: number; frames: number; timingWarning: string | null }>('video:probe', { path: out });
    expect([after.fps, after.frames, after.timingWarning]).toEqual([25, 100, null]);
    expect(readdirSync(tmp).filter((n) => n.includes('partial'))).toEqual([]);
  }, 120_000);

  it('writes only where the user chose', async () => {
    const request = { video, model: modelPath, out: join(tmp, 'sneaky.stylecast'), start: 0, count: FRAMES, quality: 'draft', align: 'auto', identityFrame: null };
    await expect(call('encode:start', request)).rejects.toThrow(/writes only where you choose/);
    host.answer('save', join(tmp, 'd11'));
    projectDir = await call<string>('dialog:save', { kind: 'project', defaultPath: join(tmp, 'd11.stylecast') });
    expect(projectDir).toBe(join(tmp, 'd11.stylecast'));
    await expect(call('encode:start', { ...request, out: projectDir, quality: 'perfect' })).rejects.toThrow('encode:start payload.quality must be one of');
  });

  it('encodes a few frames: cancel stops it, starting again resumes, progress reaches 100%', async () => {
    const request = { video, model: modelPath, out: projectDir, start: 0, count: FRAMES, quality: 'draft', align: 'auto', identityFrame: null };
    const first = await call<{ jobId: string }>('encode:start', request);
    // Cancel as soon as the identity is being refined (its inversion step is saved by then).
    await new Promise<void>((resolve) => {
      const off = host.onEvent((e) => {
        if (e.name === 'job:progress' && (e.payload as JobProgress).jobId === first.jobId && (e.payload as JobProgress).stage === 'refine') {
          off();
          resolve();
        }
      });
    });
    const cancelledAt = Date.now();
    await call('job:cancel', { jobId: first.jobId });
    const cancelled = await host.jobDone(first.jobId);
    console.log(`encode cancel took ${Date.now() - cancelledAt} ms`);
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.path).toBe(projectDir);
    expect(Date.now() - cancelledAt).toBeLessThan(15_000);
    expect(existsSync(join(projectDir, 'project.json'))).toBe(true);
    await expect(call('job:cancel', { jobId: first.jobId })).rejects.toThrow(/No job .* is running/);
    // The project says that part of its identity search is saved (the resume dialog tells the user).
    const stopped = await call<ProjectSummary>('project:open', { path: projectDir });
    expect([stopped.encodedThrough, stopped.identityFrame, stopped.identitySearchSaved]).toEqual([0, null, true]);

    const t0 = Date.now();
    const second = await call<{ jobId: string }>('encode:start', request);
    const done = await host.jobDone(second.jobId);
    console.log(`encode of ${FRAMES} draft frames: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expect(done).toMatchObject({ status: 'done', path: projectDir });
    expect(done.message).toMatch(/^Resumed and finished 3 frames/);

    const progress = host.eventsOf<JobProgress>('job:progress', second.jobId);
    const fractions = progress.map((p) => p.fraction);
    expect(fractions.at(-1)).toBe(1);
    expect(fractions.every((f, i) => i === 0 || f >= fractions[i - 1]!)).toBe(true);
    // The resume checks the video is the one the project was encoded from ('hash'), then goes on.
    expect(new Set(progress.map((p) => p.stage))).toEqual(new Set(['probe', 'hash', 'align', 'identity', 'refine', 'frames', 'done']));
    expect(progress.some((p) => p.etaSec !== null && p.etaSec > 0)).toBe(true);

    const frames = host.eventsOf<EncodeFrameEvent>('encode:frame', second.jobId);
    expect(frames.map((f) => f.frame)).toEqual([0, 1, 2]);
    for (const f of frames) {
      const src = decodePngDataUrl(f.source);
      const ren = decodePngDataUrl(f.render);
      expect([src.width, src.height, ren.width, ren.height]).toEqual([64, 64, 64, 64]);
      expect(f.loss).toBeGreaterThan(0);
    }
    const onDisk = await openProject(projectDir);
    expect(onDisk.doc.encoding.encodedThrough).toBe(FRAMES);
    expect(Array.from(onDisk.loss)).toEqual(frames.map((f) => Math.fround(f.loss)));
  }, 600_000);

  it('opens the encoded project with its tracks', async () => {
    summary = await call<ProjectSummary>('project:open', { path: projectDir });
    expect(summary).toMatchObject({ name: 'd11', frameCount: FRAMES, encodedThrough: FRAMES, fps: 25, edits: null, editsWarning: null, puppeteeredFrom: null, tune: null, tuneCheckpoint: false, identitySearchSaved: false });
    expect(summary.model).toMatchObject({ name: 'seeded-64', resolution: 64, path: modelPath });
    // The project records the source's real path (symlinks resolved), as the encode job saw it.
    expect(summary.source).toEqual({ path: realpathSync(video), width: 512, height: 512, hasAudio: true, firstFrame: 0, firstFrameAtSec: 0 });
    expect(summary.params).toHaveLength(FRAMES * 35);
    expect(summary.paramNames.slice(0, 4)).toEqual(['yaw', 'pitch', 'roll', 'lip open']);
    expect(summary.paramGroups.slice(0, 4)).toEqual(['pose', 'pose', 'pose', 'mouth']);
    expect(summary.identityFrame).not.toBeNull();
  });

  it("serves the Evaluate panel's plot of the open project, with the metrics once eval.json is there", async () => {
    type Plot = { image: string; width: number; height: number; evaluated: boolean };
    const before = await call<Plot>('project:evaluation', { project: projectDir });
    expect(before.evaluated).toBe(false);
    writeFileSync(join(projectDir, 'eval.json'), JSON.stringify({ frames: FRAMES, perFrame: { psnr: [30, 31, 32], ssim: [0.8, 0.81, 0.82], akd: [null, null, null] } }));
    const after = await call<Plot>('project:evaluation', { project: projectDir });
    expect(after.evaluated).toBe(true);
    // PSNR and SSIM panels above the loss: two more stacked panels of 24 + 170 px, 22 px apart.
    expect(after.height - before.height).toBe(2 * (24 + 170 + 22));
    rmSync(join(projectDir, 'eval.json'));
  });

  it('runs the evaluation of the open project as a job: payloads are validated, a cancel writes nothing, a run writes what stylecast eval writes', async () => {
    type Plot = { image: string; width: number; height: number; evaluated: boolean };
    const evalJson = join(projectDir, 'eval.json');
    const evalPng = join(projectDir, 'eval.png');
    await expect(call('evaluate:start', { project: 'd11.stylecast' })).rejects.toThrow('evaluate:start payload.project must be an absolute file path, got "d11.stylecast"');
    await expect(call('evaluate:start', { project: projectDir, faces: false })).rejects.toThrow('evaluate:start payload has an unexpected field "faces"');
    await expect(call('evaluate:start', { project: join(tmp, 'other.stylecast') })).rejects.toThrow(/cannot open .*other\.stylecast: choose the project with File > Open Project first/);

    // Cancelled as soon as it starts: no report is written.
    const first = await call<{ jobId: string }>('evaluate:start', { project: projectDir });
    await call('job:cancel', { jobId: first.jobId });
    expect((await host.jobDone(first.jobId)).status).toBe('cancelled');
    expect(existsSync(evalJson) || existsSync(evalPng)).toBe(false);
    expect(readdirSync(projectDir).filter((f) => f.includes('.tmp'))).toEqual([]);

    const { jobId } = await call<{ jobId: string }>('evaluate:start', { project: projectDir });
    const done = await host.jobDone(jobId);
    expect(done, done.message).toMatchObject({ status: 'done', path: projectDir });
    expect(done.message).toMatch(/^Evaluated 3 frames: PSNR median \d+\.\d\d dB/);
    const progress = host.eventsOf<JobProgress>('job:progress', jobId);
    expect(progress.every((p) => p.kind === 'evaluate' && p.stage === 'evaluate')).toBe(true);
    expect(progress.at(-1)).toMatchObject({ fraction: 1, frame: FRAMES, of: FRAMES });
    const report = JSON.parse(readFileSync(evalJson, 'utf8'));
    expect(report.frames).toBe(FRAMES);
    expect(report.perFrame.psnr).toHaveLength(FRAMES);
    // Frame 1's PSNR, computed here from what the editor shows: its re-render and the source crop.
    const [ren, src] = await Promise.all([
      call<{ image: string }>('render:frame', { project: projectDir, frame: 1, params: summary.params.slice(35, 70), size: null, untuned: false }),
      call<{ image: string }>('render:source', { project: projectDir, frame: 1, size: 64 })
    ]);
    const a = decodePngDataUrl(ren.image).data;
    const b = decodePngDataUrl(src.image).data;
    let se = 0;
    for (let i = 0; i < a.length; i++) se += (a[i]! - b[i]!) ** 2;
    expect(report.perFrame.psnr[1]).toBeCloseTo(10 * Math.log10((255 * 255) / (se / a.length)), 6);
    const png = readFileSync(evalPng);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    // The panel now shows the metrics.
    const plot = await call<Plot>('project:evaluation', { project: projectDir });
    expect(plot.evaluated).toBe(true);

    // `stylecast eval` on the same project measures the same.
    const cli = await runCli({ cwd: tmp, env: { STYLECAST_MODELS_DIR: modelsDir }, timeoutMs: 300_000 }, 'eval', projectDir, '--json');
    expect(cli.status, cli.stderr).toBe(0);
    const fromCli = JSON.parse(readFileSync(evalJson, 'utf8'));
    expect(fromCli.perFrame).toEqual(report.perFrame);
    expect(JSON.parse(cli.stdout).psnr).toEqual(report.psnr);
    expect(fromCli).toEqual(report);
  }, 600_000);

  it('renders an edited frame fast, and the pixels follow the parameters', async () => {
    const row = summary.params.slice(0, 35);
    const times: number[] = [];
    const render = async (params: number[], size: number | null = null) => {
      const r = await call<{ image: string; width: number; height: number; ms: number }>('render:frame', { project: projectDir, frame: 0, params, size, untuned: false });
      times.push(r.ms);
      return { ...r, img: decodePngDataUrl(r.image) };
    };
    const a = await render(row);
    expect([a.width, a.height, a.img.width, a.img.height]).toEqual([64, 64, 64, 64]);
    const again = await render(row);
    expect(meanAbsDiff(a.img.data, again.img.data)).toBe(0);
    const smile = [...row];
    smile[3] = smile[3]! + 4;
    const b = await render(smile);
    expect(meanAbsDiff(a.img.data, b.img.data)).toBeGreaterThan(1);
    const yaw = [...row];
    yaw[0] = yaw[0]! + 20;
    expect(meanAbsDiff(a.img.data, (await render(yaw)).img.data)).toBeGreaterThan(1);
    const small = await render(row, 40);
    expect([small.width, small.img.width]).toEqual([32, 32]);
    console.log(`render:frame ms: ${times.map((t) => t.toFixed(0)).join(', ')}`);
    expect(Math.max(...times.slice(1))).toBeLessThan(1000);
    await expect(call('render:frame', { project: projectDir, frame: 0, params: row.slice(0, 34), size: null, untuned: false })).rejects.toThrow('payload.params must be an array of 35 numbers');
    await expect(call('render:frame', { project: projectDir, frame: FRAMES, params: row, size: null, untuned: false })).rejects.toThrow(/Frame 3 is outside/);
  });

  it('gives the aligned source crop the encoder saw', async () => {
    const src = await call<{ image: string; width: number }>('render:source', { project: projectDir, frame: 1, size: null });
    const crop = decodePngDataUrl(src.image);
    expect(crop.width).toBe(64);
    const seen = decodePngDataUrl(host.eventsOf<EncodeFrameEvent>('encode:frame').find((f) => f.frame === 1)!.source);
    // The project stores the crop transform as float32: the same crop up to rounding.
    expect(meanAbsDiff(crop.data, seen.data)).toBeLessThan(1);
    // At half the model's size it is the same crop, smaller (not its top-left quarter): compared
    // with the full crop averaged over 2x2 blocks.
    const half = decodePngDataUrl((await call<{ image: string }>('render:source', { project: projectDir, frame: 1, size: 32 })).image);
    expect(half.width).toBe(32);
    const pooled = new Uint8Array(32 * 32 * 3);
    for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) for (let c = 0; c < 3; c++) {
      let sum = 0;
      for (const [dy, dx] of [[0, 0], [0, 1], [1, 0], [1, 1]] as const) sum += crop.data[((2 * y + dy) * 64 + 2 * x + dx) * 3 + c]!;
      pooled[(y * 32 + x) * 3 + c] = Math.round(sum / 4);
    }
    expect(meanAbsDiff(half.data, pooled)).toBeLessThan(8);
  });

  it('saves edits atomically and refuses hostile or malformed ones', async () => {
    let doc = emptyTimeline(FRAMES);
    doc = setKey(doc, 3, 0, 0, 'k1');
    doc = setKey(doc, 3, 1, 4, 'k2');
    doc = setKey(doc, 3, 2, 0, 'k3');
    doc = setInterp(doc, ['k1', 'k2', 'k3'], 'hold');
    const edits = serializeTimeline(doc);
    await call('project:saveEdits', { project: projectDir, edits });
    const file = join(projectDir, 'edits.json');
    const saved = readFileSync(file, 'utf8');
    expect(JSON.parse(saved)).toEqual(edits);

    const hostile: [unknown, RegExp][] = [
      [JSON.parse('{"__proto__": {"polluted": true}}'), /forbidden key "__proto__"/],
      [{ ...(edits as object), layers: [] }, /layers must have 35 entries/],
      [{ ...(edits as object), extra: 'x' }, /unknown field "extra"/],
      [{ ...(edits as object), lock: 'everything' }, /lock/],
      [JSON.parse(JSON.stringify(edits).replace('"frame":1', '"frame":9999')), /frame/],
      [nested(40), /nested at most 32 deep/],
      ['edits', /must be an object/]
    ];
    for (const [bad, message] of hostile) await expect(call('project:saveEdits', { project: projectDir, edits: bad })).rejects.toThrow(message);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // Nothing a refused save sent reached the disk, and no temp file is left.
    expect(readFileSync(file, 'utf8')).toBe(saved);

    // Saves racing each other (autosave) land in order: the last one wins, whole.
    const versions = [1, 2, 3, 4, 5, 6].map((v) => serializeTimeline(setKey(doc, 4, 2, v, `v${v}`)));
    await Promise.all(versions.map((e) => call('project:saveEdits', { project: projectDir, edits: e })));
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(versions.at(-1));
    expect(readdirSync(projectDir).filter((n) => n.includes('tmp'))).toEqual([]);
    await call('project:saveEdits', { project: projectDir, edits });
    expect((await call<ProjectSummary>('project:open', { path: projectDir })).edits).toEqual(edits);

    await expect(call('project:saveEdits', { project: join(tmp, 'other.stylecast'), edits })).rejects.toThrow(/cannot open .*other\.stylecast/);
  });

  it('moves damaged saved edits aside and opens without them', async () => {
    const file = join(projectDir, 'edits.json');
    const good = readFileSync(file, 'utf8');
    writeFileSync(file, '{"version": 1, "frames": ');
    const opened = await call<ProjectSummary>('project:open', { path: projectDir });
    expect(opened.edits).toBeNull();
    expect(opened.editsWarning).toMatch(/could not be read \(it is not valid JSON\)\. They were kept as .*edits\.damaged-.*\.json/);
    expect(existsSync(file)).toBe(false);
    const aside = readdirSync(projectDir).filter((n) => n.startsWith('edits.damaged-'));
    expect(aside).toHaveLength(1);
    rmSync(join(projectDir, aside[0]!));
    writeFileSync(file, good);
  });

  it('exports with edits differing from an unedited export exactly on the edited frames', async () => {
    const edits = JSON.parse(readFileSync(join(projectDir, 'edits.json'), 'utf8')) as unknown;
    const project = await openProject(projectDir);
    const edited = editedParams(project, summary.paramGroups, edits);
    const changed = [0, 1, 2].filter((t) => edited.subarray(t * 35, t * 35 + 35).some((v, p) => v !== project.params[t * 35 + p]));
    expect(changed).toEqual([1]);

    const outs: string[] = [];
    for (const name of ['plain.mp4', 'edited']) {
      host.answer('save', join(tmp, name));
      outs.push(await call<string>('dialog:save', { kind: 'video', defaultPath: join(tmp, 'export.mp4') }));
    }
    expect(outs[1]).toBe(join(tmp, 'edited.mp4'));
    await expect(call('export:start', { project: projectDir, out: join(tmp, 'elsewhere.mp4'), size: 64, pasteBack: false, audio: false, quality: 'high', edits: null, start: null, count: null })).rejects.toThrow(/writes only where you choose/);
    await expect(call('export:start', { project: projectDir, out: outs[0], size: 48, pasteBack: false, audio: false, quality: 'high', edits: null, start: null, count: null })).rejects.toThrow(/renders at 16, 32, 64 pixels, not 48/);

    const run = async (out: string, e: unknown) => {
      const { jobId } = await call<{ jobId: string }>('export:start', { project: projectDir, out, size: 64, pasteBack: false, audio: false, quality: 'lossless', edits: e, start: null, count: null });
      const done = await host.jobDone(jobId);
      expect(done).toMatchObject({ status: 'done', path: out });
      expect(host.eventsOf<JobProgress>('job:progress', jobId).at(-1)!.fraction).toBe(1);
    };
    await run(outs[0]!, null);
    await run(outs[1]!, edits);
    for (const out of outs) expect((await probeVideo(out)).frameCount).toBe(FRAMES);
    const plain = await readFrames(outs[0]!);
    const withEdits = await readFrames(outs[1]!);
    const diffs = plain.map((f, t) => meanAbsDiff(f.data, withEdits[t]!.data));
    console.log(`export differences per frame: ${diffs.map((d) => d.toFixed(3)).join(', ')}`);
    // Lossless exports: the frames the edits leave alone are bit for bit the same.
    expect(diffs.map((d, t) => (d > 0 ? t : -1)).filter((t) => t >= 0)).toEqual(changed);
    expect(diffs[1]).toBeGreaterThan(1);
  }, 300_000);

  it('puppeteers a project by itself: the preview reproduces it, strength 0 freezes the motion', async () => {
    const identityFrame = summary.identityFrame!;
    const preview = async (frame: number, strength: number) =>
      decodePngDataUrl((await call<{ image: string }>('puppeteer:preview', { motion: projectDir, identity: { kind: 'project', path: projectDir }, mode: 'relative', lock: null, strength, frame })).image);
    const render = async (frame: number) => decodePngDataUrl((await call<{ image: string }>('render:frame', { project: projectDir, frame, params: summary.params.slice(frame * 35, frame * 35 + 35), size: null, untuned: false })).image);
    expect(meanAbsDiff((await preview(2, 1)).data, (await render(2)).data)).toBeLessThan(0.5);
    expect(meanAbsDiff((await preview(2, 0)).data, (await render(identityFrame)).data)).toBeLessThan(0.5);

    host.answer('save', join(tmp, 'driven.stylecast'));
    const out = await call<string>('dialog:save', { kind: 'project', defaultPath: join(tmp, 'driven.stylecast') });
    const { jobId } = await call<{ jobId: string }>('puppeteer:start', { motion: projectDir, identity: { kind: 'project', path: projectDir }, mode: 'relative', lock: 'mouth', strength: 1, out, tune: null });
    expect(await host.jobDone(jobId)).toMatchObject({ status: 'done', path: out });
    const driven = await call<ProjectSummary>('project:open', { path: out });
    expect(driven.encodedThrough).toBe(FRAMES);
    expect(driven.puppeteeredFrom).toBe(projectDir);
    await expect(call('puppeteer:start', { motion: projectDir, identity: { kind: 'project', path: projectDir }, mode: 'relative', lock: null, strength: 1, out, tune: null })).rejects.toThrow(/already exists/);
  }, 300_000);

  it('refuses to open a folder that is not a project, and reports unsaved edits to the host', async () => {
    const notProject = join(tmp, 'plain-folder');
    mkdirSync(notProject, { recursive: true });
    host.answer('openProject', tmp);
    await expect(call('dialog:openProject')).rejects.toThrow(/is not a Stylecast project: a project is a folder named NAME\.stylecast\. It holds d11\.stylecast, driven\.stylecast: choose one of those\./);
    host.answer('openProject', projectDir);
    expect(await call('dialog:openProject')).toBe(projectDir);
    await call('window:setUnsavedChanges', { unsaved: true });
    expect(host.unsaved).toBe(true);
    await expect(call('recent:add', { path: notProject })).rejects.toThrow(/opens only files you chose/);
    const recent = await call<{ path: string; kind: string }[]>('recent:add', { path: projectDir });
    expect(recent[0]).toMatchObject({ path: projectDir, kind: 'project' });
  });

  it('grants reads only for what the user showed: a dialog, a drop (read-only), or the stored recent list', async () => {
    const dropped = clip('lp_d10.mp4');
    const stored = clip('lp_d3.mp4');
    // The page naming a path is not the user opening it: refused, and still unreadable.
    await expect(call('recent:add', { path: dropped })).rejects.toThrow(/opens only files you chose: open .*lp_d10\.mp4 with File > Open or drop it/);
    await expect(call('video:probe', { path: dropped })).rejects.toThrow(/cannot read .*lp_d10\.mp4/);
    // Preload's drop call (its path comes from Electron's webUtils, not the page) grants it.
    expect(await call('file:openDropped', { path: dropped })).toBe(dropped);
    expect((await call<{ frames: number }>('video:probe', { path: dropped })).frames).toBeGreaterThan(0);
    // A drop is read-only and joins the recent list only once confirmed (test/main/trust.test.ts).
    expect((await call<{ path: string }[]>('recent:add', { path: dropped })).map((r) => r.path)).not.toContain(dropped);
    await expect(call('file:openDropped', { path: join(tmp, 'no-such.mp4') })).rejects.toThrow(/does not exist/);
    // A project's project.json opens the project; anything else is refused by name.
    expect(await call('file:openDropped', { path: join(projectDir, 'project.json') })).toBe(projectDir);
    await expect(call('file:openDropped', { path: join(tmp, 'notes.txt') })).rejects.toThrow(/“notes\.txt” is neither a video \(\.mp4, \.mov, \.mkv, \.webm, \.avi\) nor a Stylecast project/);
    // An entry saved on the recent list in an earlier session opens from the list.
    await expect(call('video:probe', { path: stored })).rejects.toThrow(/cannot read/);
    host.recent.add(stored);
    host.recent.add(dropped);
    expect((await call<{ path: string }[]>('recent:add', { path: stored }))[0]!.path).toBe(stored);
    expect((await call<{ frames: number }>('video:probe', { path: stored })).frames).toBeGreaterThan(0);
  });
});
