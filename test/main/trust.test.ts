// The trust boundaries of main (docs/SECURITY.md), attacked the way a compromised
// renderer or a hostile shared project would: forged IPC payloads through main's own
// handler registration, real files, real symbolic links, a real job process.
import { createHash } from 'node:crypto';
import { cpSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeArchitecture } from '../../src/core/model/architecture';
import { createSeededModel } from '../../src/core/model/create';
import { createProject, type ProjectInit } from '../../src/core/project';
import { Runtime } from '../../src/core/runtime';
import { emptyTimeline } from '../../src/core/timeline/types';
import { serializeTimeline } from '../../src/core/timeline/parse';
import { createVideoWriter } from '../../src/core/video';
import { createCoreApi, type CoreApi } from '../../src/main/core-api';
import { projectBesideVideo } from '../../src/main/grants';
import { appUrlMatcher, registerHandlers, type InvokeEventLike } from '../../src/main/ipc';
import { PARAM_COUNT, PARAM_GROUPS, type ProjectSummary, type RecentProject } from '../../src/shared/contract';
import { tempDir } from '../helpers';
import { FakeIpcMain, ScriptedHost } from './fake-host';

const tmp = tempDir('trust');
const modelsDir = join(tmp, 'models');
const FRAMES = 4;

let host: ScriptedHost;
let api: CoreApi<InvokeEventLike>;
let ipc: FakeIpcMain;
let video: string;
let foreign: string;
let foreignId: string;
let mine: string;

const call = <T = unknown>(name: string, payload?: unknown): Promise<T> => (payload === undefined ? ipc.invoke(name) : ipc.invoke(name, payload)) as Promise<T>;

/** A small real H.264 clip (a moving gradient). */
async function writeClip(path: string): Promise<void> {
  const w = await createVideoWriter({ path, width: 32, height: 32, fps: 10, preset: 'ultrafast' });
  for (let f = 0; f < 6; f++) {
    const frame = new Uint8Array(32 * 32 * 3);
    for (let i = 0; i < frame.length; i++) frame[i] = (i + f * 40) & 0xff;
    await w.write(frame);
  }
  await w.close();
}

/** A project as a colleague would share it: its own basis metadata, so it opens without a calibrated model. */
function projectInit(source: string, model: { id: string; path: string }): ProjectInit {
  const attributes = Array.from({ length: PARAM_COUNT - 3 }, (_, i) => ({ name: `channel-${i}`, region: PARAM_GROUPS[1 + (i % 4)] }));
  const transforms = new Float32Array(FRAMES * 6);
  for (let t = 0; t < FRAMES; t++) transforms.set([0.5, 0, 4, 0, 0.5, 4], t * 6);
  return {
    source: { path: source, width: 32, height: 32, fps: 10, fpsRational: '10/1', frameCount: FRAMES, durationSec: 0.4, hasAudio: false, sha256: 'cd'.repeat(32), size: 1000 },
    model: { id: model.id, name: 'face-16', resolution: 16, path: model.path },
    encoding: { wDim: 32, paramNames: ['yaw', 'pitch', 'roll', ...attributes.map((a) => a.name)] },
    params: new Float32Array(FRAMES * PARAM_COUNT).fill(0.5),
    transforms,
    loss: new Float32Array(FRAMES).fill(0.1),
    basis: { meta: { poseUnit: 'pseudo-degree', attributes } }
  };
}

/** Every file and link under `root` (not following links), by a digest of what it is. */
function snapshot(root: string, skip: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (p === skip) continue;
      const st = lstatSync(p);
      if (st.isSymbolicLink()) out.set(p, `link:${readlinkSync(p)}`);
      else if (st.isDirectory()) walk(p);
      else out.set(p, createHash('sha256').update(readFileSync(p)).digest('hex'));
    }
  };
  walk(root);
  return out;
}

beforeAll(async () => {
  mkdirSync(modelsDir, { recursive: true });
  const rt = await Runtime.create({ device: 'cpu' });
  const arch = makeArchitecture({ resolution: 16, channelBase: 256, channelMax: 16, zDim: 32, wDim: 32, mappingLayers: 2 });
  foreign = join(tmp, 'shared', 'models', 'face-16');
  foreignId = (await createSeededModel(foreign, arch, 5, rt, 'face-16')).id;
  mine = join(modelsDir, 'mine');
  await createSeededModel(mine, arch, 6, rt, 'mine');
  await rt.release();
  video = join(tmp, 'clips', 'talk.mp4');
  mkdirSync(join(tmp, 'clips'));
  await writeClip(video);
  host = new ScriptedHost(modelsDir);
  api = createCoreApi<InvokeEventLike>(host);
  ipc = new FakeIpcMain();
  registerHandlers(ipc, api.handlers, { isTrustedSender: appUrlMatcher(FakeIpcMain.APP_URL) });
});

afterAll(async () => {
  await api?.dispose();
});

describe('a path the renderer says was dropped', () => {
  it('is read-only: it plays, but gets no project beside it and no recent entry until main asks the user', async () => {
    // A compromised page calls the channel directly, with a path it picked.
    expect(await call('file:openDropped', { path: video })).toBe(video);
    expect((await call<{ frames: number }>('video:probe', { path: video })).frames).toBe(6);
    expect((await call<RecentProject[]>('recent:add', { path: video })).map((r) => r.path)).toEqual([]);
    const request = { video, model: mine, out: projectBesideVideo(video), start: 0, count: 2, quality: 'draft', align: 'none', identityFrame: null };
    host.confirmAnswers.push(false);
    await expect(call('encode:start', request)).rejects.toThrow(/Nothing was written: you did not allow Stylecast to create a project beside .*talk\.mp4/);
    expect(host.confirmRequests.at(-1)!.detail).toMatch(/talk\.mp4 was dropped on the window/);
    expect(existsSync(projectBesideVideo(video))).toBe(false);
    expect(host.recent.list()).toEqual([]);
  });

  it('a dropped project opens for viewing; saving into it waits for the user to allow it in main', async () => {
    const dir = join(tmp, 'clips', 'dropped.stylecast');
    await createProject(dir, projectInit(video, { id: foreignId, path: foreign }));
    expect(await call('file:openDropped', { path: join(dir, 'project.json') })).toBe(dir);
    const summary = await call<ProjectSummary>('project:open', { path: dir });
    expect(summary.encodedThrough).toBe(FRAMES);
    const edits = serializeTimeline(emptyTimeline(FRAMES));
    host.confirmAnswers.push(false);
    await expect(call('project:saveEdits', { project: dir, edits })).rejects.toThrow(/did not allow Stylecast to save edits into .*dropped\.stylecast/);
    expect(existsSync(join(dir, 'edits.json'))).toBe(false);
    host.confirmAnswers.push(true);
    await call('project:saveEdits', { project: dir, edits });
    expect(existsSync(join(dir, 'edits.json'))).toBe(true);
    expect(host.recent.list().map((r) => r.path)).toEqual([dir]);
  });
});

describe('smaller boundaries', () => {
  it('models:remove deletes only after main’s own dialog agrees', async () => {
    cpSync(mine, join(modelsDir, 'old'), { recursive: true });
    host.confirmAnswers.push(false);
    await call('models:remove', { name: 'old' });
    expect(host.confirmRequests.at(-1)).toMatchObject({ message: 'Remove the model “old”?', confirm: 'Remove' });
    expect(existsSync(join(modelsDir, 'old', 'manifest.json'))).toBe(true);
    host.confirmAnswers.push(true);
    await call('models:remove', { name: 'old' });
    expect(existsSync(join(modelsDir, 'old'))).toBe(false);
  });

  it('a catalogue model without a published checksum downloads only if the user accepts it in main', async () => {
    // The repository's catalogue: NVIDIA publishes no digest for the FFHQ pickle.
    host.confirmAnswers.push(false);
    await expect(call('models:download', { name: 'stylegan2-ada-ffhq' })).rejects.toThrow(/stylegan2-ada-ffhq was not downloaded: it has no published checksum and you did not accept it on trust/);
    expect(host.confirmRequests.at(-1)).toMatchObject({ message: 'Download stylegan2-ada-ffhq without a published checksum?', confirm: 'Download' });
    expect(api.modelJobs.list()).toEqual([]);
  });

  it('dialog:save asks before the .mp4 it appends replaces an existing file', async () => {
    const existing = join(tmp, 'clips', 'final.mp4');
    writeFileSync(existing, 'an earlier export');
    host.answer('save', join(tmp, 'clips', 'final'));
    host.confirmAnswers.push(false);
    expect(await call('dialog:save', { kind: 'video', defaultPath: existing })).toBeNull();
    expect(host.confirmRequests.at(-1)!.message).toBe('final.mp4 already exists. Replace it?');
    host.answer('save', join(tmp, 'clips', 'final'));
    host.confirmAnswers.push(true);
    expect(await call('dialog:save', { kind: 'video', defaultPath: existing })).toBe(existing);
  });
});

describe('a hostile shared project', () => {
  it('opens with clear messages and writes nothing outside its own real folder', async () => {
    const home = join(tmp, 'home');
    mkdirSync(home);
    const project = join(tmp, 'shared', 'talk.stylecast');
    await createProject(project, projectInit(video, { id: foreignId, path: foreign }));
    // The source is "../../home/diary.mp4" (a text file), the recorded absolute path is gone.
    writeFileSync(join(home, 'diary.mp4'), 'dear diary, ...');
    const doc = JSON.parse(readFileSync(join(project, 'project.json'), 'utf8'));
    doc.source.path = join(tmp, 'gone', 'talk.mp4');
    doc.source.relativePath = '../../home/diary.mp4';
    doc.source.size = 15;
    writeFileSync(join(project, 'project.json'), JSON.stringify(doc));
    // loss.f32 links to a user file of the same size, which a resumed encode would overwrite.
    writeFileSync(join(home, 'wallet.dat'), Buffer.alloc(FRAMES * 4, 7));
    rmSync(join(project, 'loss.f32'));
    symlinkSync(join(home, 'wallet.dat'), join(project, 'loss.f32'));
    const chosenOut = join(tmp, 'chosen', 'mine.stylecast');
    mkdirSync(join(tmp, 'chosen'));
    const before = snapshot(tmp, project);

    host.answer('openProject', project);
    expect(await call('dialog:openProject')).toBe(project);
    await expect(call('project:open', { path: project })).rejects.toThrow(/talk\.stylecast\/loss\.f32 is a symbolic link\. Stylecast never follows links inside a project folder/);

    // The user puts a real loss.f32 back; the project then opens, saying what it did not trust.
    rmSync(join(project, 'loss.f32'));
    writeFileSync(join(project, 'loss.f32'), Buffer.alloc(FRAMES * 4));
    const summary = await call<ProjectSummary>('project:open', { path: project });
    expect(summary.source.path).toBeNull();
    expect(summary.model.path).toBe(foreign);
    expect(summary.notices).toHaveLength(2);
    expect(summary.notices[0]).toMatch(/uses the model bundle .*shared\/models\/face-16, which is outside the models folder .*models\. Stylecast reads it but never writes to it .* import it in the Model Manager or copy the folder into/);
    expect(summary.notices[1]).toMatch(/^The source video .*home\/diary\.mp4 that .*talk\.stylecast names lies outside the project and could not be read as a video \(.*\), so Stylecast does not read it\. Locate the source video/);
    await expect(call('media:url', { path: join(home, 'diary.mp4') })).rejects.toThrow(/cannot read .*diary\.mp4/);
    await expect(call('render:source', { project, frame: 0, size: 16 })).rejects.toThrow(/needs locating|not a video Stylecast trusts|locate it/);
    await call('project:saveEdits', { project, edits: serializeTimeline(emptyTimeline(FRAMES)) });

    // Encoding the user's own video with the project's foreign model: calibrating it would
    // write into the shared folder, so the job refuses before touching it.
    host.answer('openVideo', video);
    await call('dialog:openVideo');
    host.answer('save', chosenOut);
    await call('dialog:save', { kind: 'project', defaultPath: chosenOut });
    const { jobId } = await call<{ jobId: string }>('encode:start', { video, model: foreign, out: chosenOut, start: 0, count: 2, quality: 'draft', align: 'none', identityFrame: null });
    const done = await host.jobDone(jobId, 120_000);
    expect(done.status).toBe('failed');
    expect(done.message).toMatch(/face-16 is not calibrated and lies outside the models folder, where Stylecast never writes: import it in the Model Manager or copy the folder/);

    const after = snapshot(tmp, project);
    const changed = [...new Set([...before.keys(), ...after.keys()])].filter((p) => before.get(p) !== after.get(p));
    expect(changed).toEqual([]);
    expect(existsSync(join(project, 'edits.json'))).toBe(true);
  }, 180_000);
});
