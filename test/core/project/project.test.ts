import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, linkSync, lstatSync, symlinkSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, closeSync, writeSync, truncateSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Affine } from '../../../src/core/face/types';
import {
  MIGRATIONS,
  PARAM_COUNT,
  ProjectError,
  SCHEMA_VERSION,
  bytesPerFrame,
  createProject,
  frameTransform,
  hashFile,
  locateModel,
  migrateDoc,
  openProject,
  readParams,
  saveProject,
  sourceDecoding,
  sourceFrameOf,
  unsafeFileName,
  validateDoc,
  verifySource,
  writeFrameParams,
  writeFrames,
  type Migration,
  type MigrationSet,
  type ProjectErrorCode,
  type ProjectInit,
  type ProjectJson,
} from '../../../src/core/project';
import { Rng } from '../../../src/core/util/random';
import { discardFailedEncode } from '../../../src/core/encode/presets';
import { IDENTITY_PROGRESS_FILE, encodeIdentityProgress } from '../../../src/core/encode/identity-progress';
import { tempDir } from '../../helpers';

const tmp = tempDir('project');

const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..');
const realClip = resolve(repoRoot, '..', 'shared', 'data', 'clips', 'lp_d11.mp4');

const PARAM_NAMES = [
  'yaw', 'pitch', 'roll',
  ...['lip-press', 'pucker', 'mouth-gape', 'smile-left', 'smile-right', 'lower-lip', 'upper-lip', 'jaw-drop', 'lip-corner-l', 'lip-corner-r', 'lip-stretch', 'mouth-wrinkle'],
  ...['blink-left', 'blink-right', 'eye-squint-l', 'eye-squint-r', 'eye-wide', 'crows-feet-l', 'crows-feet-r', 'under-eye'],
  ...['brow-raise-l', 'brow-raise-r', 'brow-furrow', 'brow-inner', 'brow-outer-l', 'brow-outer-r'],
  ...['nose-bridge', 'nose-wrinkle', 'forehead', 'cheek-raise-l', 'cheek-raise-r', 'cheek-puff'],
];
const FRAMES = 12;
const NUM_WS = 6; // a 16x16 model
const W_DIM = 16;

/** A stand-in source video: the project only ever hashes and stats it. */
function makeSource(name: string, bytes = 50_000, seed = 1): string {
  const path = join(tmp, name);
  const rng = new Rng(seed);
  const b = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) b[i] = Math.floor(rng.uniform() * 256);
  writeFileSync(path, b);
  return path;
}
const sourcePath = makeSource('interview.mp4');

/** A plausible crop->source affine: scale ~0.6, small roll, the face near the centre of a 640x360 frame. */
function affine(t: number): Affine {
  const s = 0.6 + 0.01 * Math.sin(t);
  const r = 0.05 * Math.sin(t / 3);
  return [s * Math.cos(r), -s * Math.sin(r), 200 + 3 * t, s * Math.sin(r), s * Math.cos(r), 60 + t];
}

function frameParams(rng: Rng, t: number): Float32Array {
  const p = rng.normals(PARAM_COUNT, 0.8);
  p[0] = 12 * Math.sin(t / 4); // yaw in degrees
  p[1] = -4 + t * 0.25; // pitch
  p[2] = 1.5; // roll
  return p;
}

function baseInit(over: Partial<ProjectInit> = {}): ProjectInit {
  const rng = new Rng(7);
  const transforms = new Float32Array(FRAMES * 6);
  for (let t = 0; t < FRAMES; t++) transforms.set(affine(t), t * 6);
  return {
    app: { name: 'Stylecast Studio', version: '0.1.0' },
    source: {
      path: sourcePath,
      width: 640,
      height: 360,
      fps: 30000 / 1001,
      fpsRational: '30000/1001',
      frameCount: FRAMES + 3,
      durationSec: ((FRAMES + 3) * 1001) / 30000,
      hasAudio: true,
    },
    model: { id: '3f2a9c0d11e4b577', name: 'seeded-16', resolution: 16 },
    encoding: { frames: { start: 2, count: FRAMES }, wDim: W_DIM, paramNames: PARAM_NAMES, settings: { steps: 40, lr: 0.01, perceptual: 'ms-ssim' }, identityFrame: 4 },
    wid: rng.normals(NUM_WS * W_DIM, 0.7),
    transforms,
    basis: { sha256: 'ab'.repeat(32) },
    ...over,
  };
}

let counter = 0;
const newDir = (label = 'p'): string => join(tmp, `${label}-${++counter}.stylecast`);

async function expectProjectError(p: Promise<unknown> | (() => unknown), code: ProjectErrorCode, ...mentions: (string | RegExp)[]): Promise<ProjectError> {
  let err: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    err = e;
  }
  expect(err, `expected a ProjectError ${code}`).toBeInstanceOf(ProjectError);
  const pe = err as ProjectError;
  expect(pe.code, pe.message).toBe(code);
  for (const m of mentions) expect(pe.message).toMatch(m);
  return pe;
}

const listDir = (dir: string): string[] => readdirSync(dir).sort();
const CLEAN = ['loss.f32', 'params.f32', 'project.json', 'transforms.f32', 'wid.f32'];

function editJson(dir: string, edit: (doc: Record<string, any>) => void): void {
  const path = join(dir, 'project.json');
  const doc = JSON.parse(readFileSync(path, 'utf8'));
  edit(doc);
  writeFileSync(path, JSON.stringify(doc));
}

/** Overwrites bytes in place, as a crash in the middle of a row write would leave them. */
function scribble(path: string, position: number, bytes: Uint8Array): void {
  const fd = openSync(path, 'r+');
  writeSync(fd, bytes, 0, bytes.length, position);
  closeSync(fd);
}

describe('project round trip', () => {
  it('saves and reopens every field and array exactly, in little-endian float32 row-major files', async () => {
    const dir = newDir();
    const init = baseInit({ edits: { tracks: { yaw: { keys: [{ id: 'k1', t: 0.5, v: 3.25, interp: 'bezier' }] } } }, view: { zoom: 2.5, panels: [240, 600] } });
    const p = await createProject(dir, init);
    const rng = new Rng(11);
    const written: Float32Array[] = [];
    for (let t = 0; t < 5; t++) {
      written.push(frameParams(rng, t));
      await writeFrameParams(p, t, written[t]!, affine(t), 0.05 + 0.01 * t);
    }
    (p.doc as unknown as Record<string, unknown>).addedByNewerMinor = { keep: [1, 2, 3] };
    p.doc.encoding.settings.finetune = false;
    await saveProject(p);

    const q = await openProject(dir);
    expect(q.dir).toBe(resolve(dir));
    expect(q.doc.schemaVersion).toBe(SCHEMA_VERSION);
    expect(q.doc.source).toEqual({
      path: sourcePath,
      relativePath: '../interview.mp4',
      sha256: createHash('sha256').update(readFileSync(sourcePath)).digest('hex'),
      size: 50_000,
      width: 640,
      height: 360,
      fps: 30000 / 1001,
      fpsRational: '30000/1001',
      frameCount: 15,
      durationSec: (15 * 1001) / 30000,
      hasAudio: true,
    });
    expect(q.doc.model).toEqual({ id: '3f2a9c0d11e4b577', name: 'seeded-16', resolution: 16 });
    expect(q.doc.encoding).toEqual({
      frames: { start: 2, count: 12 },
      numWs: 6,
      wDim: 16,
      paramCount: 35,
      paramNames: PARAM_NAMES,
      identityFrame: 4,
      encodedThrough: 5,
      settings: { steps: 40, lr: 0.01, perceptual: 'ms-ssim', finetune: false },
      losses: 'loss',
    });
    expect(q.doc.basis).toEqual({ modelId: '3f2a9c0d11e4b577', sha256: 'ab'.repeat(32) });
    expect(q.doc.files).toEqual({
      wid: { file: 'wid.f32', dtype: 'float32-le', shape: [6, 16] },
      params: { file: 'params.f32', dtype: 'float32-le', shape: [12, 35] },
      transforms: { file: 'transforms.f32', dtype: 'float32-le', shape: [12, 6] },
      loss: { file: 'loss.f32', dtype: 'float32-le', shape: [12] },
    });
    expect(q.doc.edits).toEqual(init.edits);
    expect(q.doc.view).toEqual(init.view);
    expect((q.doc as unknown as Record<string, unknown>).addedByNewerMinor).toEqual({ keep: [1, 2, 3] });
    expect(Date.parse(q.doc.modified)).toBeGreaterThanOrEqual(Date.parse(q.doc.created));

    expect(q.wid).toEqual(init.wid);
    expect(q.transforms).toEqual(init.transforms);
    for (let t = 0; t < 5; t++) expect(q.params.subarray(t * 35, t * 35 + 35)).toEqual(written[t]);
    expect(q.params.subarray(5 * 35).every((v) => v === 0)).toBe(true);
    expect(Array.from(q.loss.subarray(0, 5))).toEqual([0.05, 0.06, 0.07, 0.08, 0.09].map(Math.fround));
    expect(frameTransform(q, 3)).toEqual(Array.from(Float32Array.from(affine(3))));
    expect(sourceFrameOf(q, 3)).toBe(5);

    // The on-disk layout FORMAT.md promises: sizes, row-major order, little-endian.
    expect(statSync(join(dir, 'wid.f32')).size).toBe(6 * 16 * 4);
    expect(statSync(join(dir, 'params.f32')).size).toBe(12 * 35 * 4);
    expect(statSync(join(dir, 'transforms.f32')).size).toBe(12 * 6 * 4);
    expect(statSync(join(dir, 'loss.f32')).size).toBe(12 * 4);
    const raw = readFileSync(join(dir, 'params.f32'));
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    expect(dv.getFloat32((3 * 35 + 0) * 4, true)).toBe(written[3]![0]); // yaw of frame 3
    expect(dv.getFloat32((3 * 35 + 34) * 4, true)).toBe(written[3]![34]); // last attribute of frame 3
    const w = readFileSync(join(dir, 'wid.f32'));
    expect(new DataView(w.buffer, w.byteOffset).getFloat32((2 * 16 + 5) * 4, true)).toBe(init.wid![2 * 16 + 5]);
    expect(listDir(dir)).toEqual(CLEAN);
  });

  it('carries a copy of the basis pose directions when given one', async () => {
    const dir = newDir();
    const pose = new Rng(3).normals(3 * NUM_WS * W_DIM);
    await createProject(dir, baseInit({ basis: { sha256: 'cd'.repeat(32), pose, meta: { attributes: [{ name: 'lip-press', sIndex: 17 }] } } }));
    const q = await openProject(dir);
    expect(q.doc.basis).toEqual({ modelId: '3f2a9c0d11e4b577', sha256: 'cd'.repeat(32), file: 'basis', meta: { attributes: [{ name: 'lip-press', sIndex: 17 }] } });
    expect(q.doc.files.basis).toEqual({ file: 'basis.f32', dtype: 'float32-le', shape: [3, 6, 16] });
    expect(q.basisPose).toEqual(pose);
    expect(listDir(dir)).toEqual(['basis.f32', ...CLEAN].sort());
  });

  it('refuses to create over a non-empty folder, without the .stylecast suffix, or from bad values (and cleans up)', async () => {
    const dir = newDir();
    await createProject(dir, baseInit());
    await expectProjectError(createProject(dir, baseInit()), 'EXISTS', /not empty/);
    await expectProjectError(createProject(join(tmp, 'plain-folder'), baseInit()), 'INVALID', /\.stylecast/);
    const bad = newDir('bad');
    await expectProjectError(createProject(bad, baseInit({ encoding: { wDim: W_DIM, paramNames: PARAM_NAMES.slice(0, 34) } })), 'INVALID', /paramNames/, /35/);
    expect(existsSync(bad)).toBe(false);
    await expectProjectError(createProject(newDir(), baseInit({ source: { ...baseInit().source, path: join(tmp, 'nope.mp4') } })), 'NOT_FOUND', /nope\.mp4/);
    await expectProjectError(createProject(newDir(), baseInit({ wid: new Float32Array(5) })), 'INVALID', /project\.wid has 5 values/);
  });

  it('reports bytes per frame: 140 for p_t, plus the transform and the amortised identity latent', async () => {
    const small = await createProject(newDir(), baseInit());
    expect(bytesPerFrame(small)).toEqual({ perFrameParams: 140, perFrameTransform: 24, identityBytes: 6 * 16 * 4, frames: 12, perFrameTotal: 140 + 24 + 384 / 12 });

    // Config-f at 1024: w_ID is 18 x 512 float32 = 36 KiB; 300 frames (10 s at 30 fps).
    const big = await createProject(newDir(), {
      ...baseInit(),
      source: { ...baseInit().source, frameCount: 300, durationSec: 10.01, fps: 29.97, fpsRational: '2997/100' },
      model: { id: 'ffhq-1024', name: 'FFHQ config-f', resolution: 1024 },
      encoding: { wDim: 512, paramNames: PARAM_NAMES, settings: {} },
      wid: undefined,
      transforms: undefined,
    });
    expect(big.doc.encoding.numWs).toBe(18);
    expect(bytesPerFrame(big)).toEqual({ perFrameParams: 140, perFrameTransform: 24, identityBytes: 36864, frames: 300, perFrameTotal: 140 + 24 + 122.88 });
  });
});

describe('resumable encoding', () => {
  it('keeps completed frames after a crash without save, and resumes at encodedThrough', async () => {
    const dir = newDir();
    const p = await createProject(dir, baseInit());
    const ino = statSync(join(dir, 'params.f32')).ino;
    const rng = new Rng(5);
    const done: Float32Array[] = [];
    for (let t = 0; t < 5; t++) {
      done.push(frameParams(rng, t));
      await writeFrameParams(p, t, done[t]!, affine(t), 0.1 * (t + 1));
    }
    // Written in place into the preallocated file, not rewritten whole.
    expect(statSync(join(dir, 'params.f32')).ino).toBe(ino);
    expect(statSync(join(dir, 'params.f32')).size).toBe(12 * 140);

    // The crash: frame 5's row half written, its project.json update never renamed into place.
    scribble(join(dir, 'params.f32'), 5 * 140, new Uint8Array(70).fill(0x41));
    writeFileSync(join(dir, 'project.json.tmp'), '{"format":"stylecast-project","schemaVer');
    // (the Project object p is dropped, as a crashed process would)

    const q = await openProject(dir);
    expect(q.doc.encoding.encodedThrough).toBe(5);
    for (let t = 0; t < 5; t++) expect(q.params.subarray(t * 35, t * 35 + 35)).toEqual(done[t]);
    expect(Array.from(q.loss.subarray(0, 5))).toEqual([0.1, 0.2, 0.3, 0.4, 0.5].map(Math.fround));
    expect(listDir(dir)).toEqual(CLEAN); // the stray temp is gone

    await expectProjectError(writeFrameParams(q, 7, done[0]!, affine(7), 0.1), 'INVALID', /resumes at frame 5/);
    const f5 = frameParams(rng, 5);
    await writeFrameParams(q, 5, f5, affine(5), 0.6);
    const onDisk = await readParams(q);
    expect(onDisk.subarray(5 * 35, 6 * 35)).toEqual(f5);
    expect(onDisk.subarray(0, 35)).toEqual(done[0]);
    expect((await openProject(dir)).doc.encoding.encodedThrough).toBe(6);
  });

  it('after a failed encode removes a new folder only when it holds nothing worth resuming', async () => {
    const fail = new Error('ffmpeg stopped');
    // No identity yet, no frame: nothing to resume, no partial output left.
    const bare = newDir();
    await createProject(bare, baseInit({ encoding: { ...baseInit().encoding, identityFrame: null } }));
    expect(await discardFailedEncode(bare, false, fail)).toBeNull();
    expect(existsSync(bare)).toBe(false);
    // The identity is saved (hours at 1024), no frame yet: kept, and said so.
    const withIdentity = newDir();
    await createProject(withIdentity, baseInit());
    expect(await discardFailedEncode(withIdentity, false, fail)).toBe('the identity is saved');
    expect((await openProject(withIdentity)).doc.encoding.identityFrame).toBe(4);
    // Part of the identity search is saved (identity-progress.bin): kept, and said so.
    const searching = newDir();
    await createProject(searching, baseInit({ encoding: { ...baseInit().encoding, identityFrame: null } }));
    writeFileSync(join(searching, IDENTITY_PROGRESS_FILE), encodeIdentityProgress('k', { cpuMs: 1, wallMs: 1, costs: [] }, new Map(), null));
    expect(await discardFailedEncode(searching, false, fail)).toBe('part of the identity search is saved');
    expect(existsSync(searching)).toBe(true);
    // Frames encoded: kept.
    const p = await createProject(newDir(), baseInit());
    await writeFrameParams(p, 0, frameParams(new Rng(3), 0), affine(0), 0.1);
    await writeFrameParams(p, 1, frameParams(new Rng(4), 1), affine(1), 0.1);
    expect(await discardFailedEncode(p.dir, false, fail)).toBe('frames 0 to 1 are saved');
    expect(existsSync(p.dir)).toBe(true);
    // Refused because another process writes it (lock.ts): that process's folder, never removed.
    const busy = newDir();
    await createProject(busy, baseInit({ encoding: { ...baseInit().encoding, identityFrame: null } }));
    expect(await discardFailedEncode(busy, false, new ProjectError('BUSY', 'being written by another Stylecast'))).toBeNull();
    expect(existsSync(busy)).toBe(true);
    // A folder that existed before this encode is never removed, even empty of work.
    const before = newDir();
    await createProject(before, baseInit({ encoding: { ...baseInit().encoding, identityFrame: null } }));
    expect(await discardFailedEncode(before, true, fail)).toBeNull();
    expect(existsSync(before)).toBe(true);
  });

  it('writes batches, serialises concurrent calls, and allows re-encoding an earlier frame', async () => {
    const dir = newDir();
    const p = await createProject(dir, baseInit());
    const rng = new Rng(9);
    const batch = new Float32Array(4 * 35);
    for (let k = 0; k < 4; k++) batch.set(frameParams(rng, k), k * 35);
    const tr = new Float32Array(4 * 6);
    for (let k = 0; k < 4; k++) tr.set(affine(k), k * 6);
    await writeFrames(p, 0, batch, tr, [0.2, 0.21, 0.22, 0.23]);
    expect(p.doc.encoding.encodedThrough).toBe(4);

    // Issued together; the project's queue applies them in order, so none sees a gap.
    const later = [4, 5, 6, 7].map((t) => ({ t, v: frameParams(rng, t) }));
    await Promise.all(later.map(({ t, v }) => writeFrameParams(p, t, v, affine(t), 0.3)));
    const redo = frameParams(rng, 100);
    await writeFrameParams(p, 2, redo, affine(2), 0.01);

    const q = await openProject(dir);
    expect(q.doc.encoding.encodedThrough).toBe(8);
    expect(q.params.subarray(0, 35)).toEqual(batch.subarray(0, 35));
    expect(q.params.subarray(2 * 35, 3 * 35)).toEqual(redo);
    expect(q.params.subarray(7 * 35, 8 * 35)).toEqual(later[3]!.v);
    expect(q.loss[2]).toBe(Math.fround(0.01));
  });

  it('persists only encodedThrough from a frame write, not unsaved in-memory edits', async () => {
    const dir = newDir();
    const p = await createProject(dir, baseInit());
    p.doc.encoding.settings.steps = 999;
    p.doc.view = { zoom: 9 };
    await writeFrameParams(p, 0, frameParams(new Rng(1), 0), affine(0), 0.1);
    const q = await openProject(dir);
    expect(q.doc.encoding.encodedThrough).toBe(1);
    expect(q.doc.encoding.settings.steps).toBe(40);
    expect(q.doc.view).toBeUndefined();
    expect(p.doc.encoding.settings.steps).toBe(999); // still pending in memory for the next save
  });

  it('rejects frames the encoder should never persist', async () => {
    const p = await createProject(newDir(), baseInit());
    const ok = frameParams(new Rng(2), 0);
    const nan = Float32Array.from(ok);
    nan[10] = Number.NaN;
    await expectProjectError(writeFrameParams(p, 0, nan, affine(0), 0.1), 'INVALID', /non-finite/, /diverged/);
    await expectProjectError(writeFrameParams(p, 0, ok, affine(0), 1e39), 'INVALID', /loss/, /Infinity/);
    await expectProjectError(writeFrameParams(p, 0, ok.subarray(0, 34), affine(0), 0.1), 'INVALID', /35/);
    await expectProjectError(writeFrameParams(p, 0, ok, [0, 0, 1, 0, 0, 1], 0.1), 'INVALID', /not invertible/);
    await expectProjectError(writeFrameParams(p, 12, ok, affine(0), 0.1), 'INVALID', /0\.\.11/);
    expect(p.doc.encoding.encodedThrough).toBe(0);
  });
});

describe('atomic save', () => {
  it('leaves no temporary files behind and replaces the files by rename', async () => {
    const dir = newDir();
    const p = await createProject(dir, baseInit());
    expect(listDir(dir)).toEqual(CLEAN);
    const before = statSync(join(dir, 'wid.f32')).ino;
    p.wid[0] = 42;
    await saveProject(p);
    expect(listDir(dir)).toEqual(CLEAN);
    expect(statSync(join(dir, 'wid.f32')).ino).not.toBe(before);
    expect((await openProject(dir)).wid[0]).toBe(42);
  });

  it('validates before writing: an invalid in-memory project leaves the disk untouched', async () => {
    const dir = newDir();
    const p = await createProject(dir, baseInit());
    const json = readFileSync(join(dir, 'project.json'), 'utf8');
    p.wid[3] = Number.NaN;
    await expectProjectError(saveProject(p), 'INVALID', /project\.wid/, /NaN/, /unchanged/);
    p.wid[3] = 0;
    p.doc.encoding.identityFrame = 12;
    await expectProjectError(saveProject(p), 'INVALID', /encoding\.identityFrame/, /0\.\.11/);
    p.doc.encoding.identityFrame = 4;
    p.doc.edits = { n: 10n };
    await expectProjectError(saveProject(p), 'INVALID', /JSON/);
    expect(readFileSync(join(dir, 'project.json'), 'utf8')).toBe(json);
    expect(listDir(dir)).toEqual(CLEAN);
  });

  it('a crash before the commit point reopens as the previous save', async () => {
    const dir = newDir();
    const p = await createProject(dir, baseInit());
    const oldWid = Float32Array.from(p.wid);
    // Everything a save writes before its commit: complete temp arrays and a half-written document.
    writeFileSync(join(dir, 'wid.f32.tmp'), new Uint8Array(6 * 16 * 4).fill(7));
    writeFileSync(join(dir, 'params.f32.tmp'), new Uint8Array(100));
    writeFileSync(join(dir, 'project.json.tmp'), '{"format":"stylecast-project",');
    // Opened while a job writes it: the committed state is read and the job's temporary files stay.
    const during = await openProject(dir, { recover: false });
    expect(during.wid).toEqual(oldWid);
    expect(listDir(dir)).toEqual([...CLEAN, 'params.f32.tmp', 'project.json.tmp', 'wid.f32.tmp'].sort());
    const q = await openProject(dir);
    expect(q.wid).toEqual(oldWid);
    expect(q.doc.encoding.identityFrame).toBe(4);
    expect(listDir(dir)).toEqual(CLEAN);
  });

  it('a crash after the commit point reopens as the new save (rolled forward)', async () => {
    const dir = newDir();
    await createProject(dir, baseInit());
    // Build the new save in a copy, then lay its files out as a crash halfway through the renames leaves them.
    const copy = newDir('copy');
    cpSync(dir, copy, { recursive: true });
    const c = await openProject(copy);
    c.wid.fill(0.25);
    c.params[35] = 3.5;
    c.doc.encoding.identityFrame = 9;
    await saveProject(c);
    renameSync(join(copy, 'wid.f32'), join(dir, 'wid.f32')); // already renamed into place
    renameSync(join(copy, 'params.f32'), join(dir, 'params.f32.tmp')); // not yet
    renameSync(join(copy, 'transforms.f32'), join(dir, 'transforms.f32.tmp'));
    renameSync(join(copy, 'loss.f32'), join(dir, 'loss.f32.tmp'));
    renameSync(join(copy, 'project.json'), join(dir, 'project.json.commit'));

    const q = await openProject(dir);
    expect(q.doc.encoding.identityFrame).toBe(9);
    expect(q.wid.every((v) => v === 0.25)).toBe(true);
    expect(q.params[35]).toBe(3.5);
    expect(listDir(dir)).toEqual(CLEAN);
  });

  it('keeps the pre-migration file on the first save after a migration', async () => {
    const dir = newDir();
    await createProject(dir, baseInit());
    // Rewrite it as the fake schema 0 below would have stored it.
    editJson(dir, (d) => {
      d.schemaVersion = 0;
      d.frameRange = [d.encoding.frames.start, d.encoding.frames.start + d.encoding.frames.count];
      delete d.encoding.frames;
      delete d.format;
    });
    const v0 = readFileSync(join(dir, 'project.json'), 'utf8');
    await expectProjectError(openProject(dir), 'TOO_OLD', /schema 0/);
    const p = await openProject(dir, { migrations: fakeSet });
    expect(p.doc.encoding.frames).toEqual({ start: 2, count: 12 });
    expect(readFileSync(join(dir, 'project.json'), 'utf8')).toBe(v0); // opening never rewrites

    // A frame write first turns the file into the current schema (a full save), then patches its row.
    await writeFrameParams(p, 0, frameParams(new Rng(4), 0), affine(0), 0.1);
    expect(readFileSync(join(dir, 'project.json.v0.bak'), 'utf8')).toBe(v0);
    const q = await openProject(dir);
    expect(q.doc.schemaVersion).toBe(SCHEMA_VERSION);
    expect(q.doc.encoding.encodedThrough).toBe(1);
    expect(JSON.parse(readFileSync(join(dir, 'project.json'), 'utf8')).frameRange).toBeUndefined();
  });
});

// Schema 0 is fictional: it kept the encoded range as frameRange [start, end) and had no format marker.
const v0ToV1: Migration = (d) => {
  const [start, end] = d.frameRange as [number, number];
  const { frameRange: _drop, ...rest } = d;
  return { ...rest, format: 'stylecast-project', encoding: { ...(d.encoding as ProjectJson), frames: { start, count: end - start } } };
};
const fakeSet: MigrationSet = { migrations: [v0ToV1, ...MIGRATIONS], oldest: 0, current: SCHEMA_VERSION };

describe('migrations', () => {
  it('the shipped set starts at schema 1; schema 2 added the fine-tuning record', () => {
    expect(SCHEMA_VERSION).toBe(2);
    expect(MIGRATIONS).toHaveLength(1);
  });

  it('a real schema-1 project opens unchanged as schema 2 (untuned), and its first save keeps the v1 file', async () => {
    const dir = newDir();
    const p = await createProject(dir, baseInit());
    for (let t = 0; t < 3; t++) await writeFrameParams(p, t, frameParams(new Rng(t), t), affine(t), 0.1);
    // What Stylecast wrote before schema 2: the same document without `tune`, at schemaVersion 1.
    editJson(dir, (d) => {
      d.schemaVersion = 1;
      delete d.tune;
    });
    const v1 = readFileSync(join(dir, 'project.json'), 'utf8');
    const q = await openProject(dir);
    expect(q.doc.schemaVersion).toBe(2);
    expect(q.doc.tune).toBeNull();
    expect(q.params).toEqual(p.params);
    expect(q.wid).toEqual(p.wid);
    expect(q.transforms).toEqual(p.transforms);
    const { tune: _t, schemaVersion: _v, modified: _m, ...rest } = q.doc;
    const { tune: _t2, schemaVersion: _v2, modified: _m2, ...was } = p.doc;
    expect(rest).toEqual(was);
    expect(readFileSync(join(dir, 'project.json'), 'utf8')).toBe(v1); // opening never rewrites
    await saveProject(q);
    expect(readFileSync(join(dir, 'project.json.v1.bak'), 'utf8')).toBe(v1);
    const saved = JSON.parse(readFileSync(join(dir, 'project.json'), 'utf8'));
    expect([saved.schemaVersion, saved.tune]).toEqual([2, null]);
  });

  it('schema 2 requires the tune record (null or a float16 delta with a safe file name)', async () => {
    const dir = newDir();
    await createProject(dir, baseInit());
    const doc = JSON.parse(readFileSync(join(dir, 'project.json'), 'utf8'));
    const check = (d: unknown) => validateDoc(d, { file: 'p/project.json', code: 'CORRUPT', advice: '' });
    const { tune: _t, ...noTune } = doc;
    expect(() => check(noTune)).toThrow(/tune is missing/);
    const rec = { file: 'delta-abc.f16', dtype: 'float16-le', bytes: 10, sha256: 'a'.repeat(64), rank: 4, widSha256: 'b'.repeat(64) };
    expect(check({ ...doc, tune: rec }).tune).toEqual(rec);
    expect(() => check({ ...doc, tune: { ...rec, file: '../x' } })).toThrow(/tune\.file/);
    expect(() => check({ ...doc, tune: { ...rec, file: 'params.f32' } })).toThrow(/also used by files\.params/);
    expect(() => check({ ...doc, tune: { ...rec, bytes: 7 } })).toThrow(/tune\.bytes must be even/);
    expect(() => check({ ...doc, tune: { ...rec, dtype: 'float32-le' } })).toThrow(/tune\.dtype/);
  });

  it("records when the source's first frame is shown, optionally (older projects have none), within a day", async () => {
    const dir = newDir();
    await createProject(dir, { ...baseInit(), source: { ...baseInit().source, videoStartSec: 0.033, fileStartSec: -0.007 } });
    const doc = JSON.parse(readFileSync(join(dir, 'project.json'), 'utf8'));
    expect([doc.source.videoStartSec, doc.source.fileStartSec]).toEqual([0.033, -0.007]);
    const check = (d: unknown) => validateDoc(d, { file: 'p/project.json', code: 'CORRUPT', advice: '' });
    const { videoStartSec: _v, fileStartSec: _f, ...older } = doc.source;
    expect(check({ ...doc, source: older }).source.videoStartSec).toBeUndefined();
    expect(() => check({ ...doc, source: { ...doc.source, videoStartSec: -0.5 } })).toThrow(/source\.videoStartSec must be a finite number >= 0/);
    expect(() => check({ ...doc, source: { ...doc.source, videoStartSec: 90_000 } })).toThrow(/source\.videoStartSec must be at most 86400/);
    expect(() => check({ ...doc, source: { ...doc.source, fileStartSec: '1.4' } })).toThrow(/source\.fileStartSec must be a number within ±86400/);
    expect(() => check({ ...doc, source: { ...doc.source, fileStartSec: -90_000 } })).toThrow(/source\.fileStartSec/);
  });

  it('runs a v0 -> v1 migration and the result validates as the current schema', async () => {
    const dir = newDir();
    await createProject(dir, baseInit());
    const v1 = JSON.parse(readFileSync(join(dir, 'project.json'), 'utf8')) as ProjectJson;
    const { format: _f, ...noFormat } = v1;
    const v0: ProjectJson = { ...noFormat, schemaVersion: 0, frameRange: [2, 14], encoding: { ...(v1.encoding as ProjectJson), frames: undefined } };
    const { doc, from } = migrateDoc(structuredClone(v0), 'old/project.json', fakeSet);
    expect(from).toBe(0);
    expect(doc.schemaVersion).toBe(SCHEMA_VERSION);
    const valid = validateDoc(doc, { file: 'old/project.json', code: 'CORRUPT', advice: '' });
    expect(valid.encoding.frames).toEqual({ start: 2, count: 12 });
    expect(valid).toEqual(v1);
  });

  it('chains migrations in order and stamps each step with its version', () => {
    const seen: number[] = [];
    const step = (tag: string): Migration => (d) => {
      seen.push(d.schemaVersion as number);
      return { ...d, history: [...((d.history as string[]) ?? []), tag] };
    };
    const set: MigrationSet = { migrations: [step('a'), step('b'), step('c')], oldest: 0, current: 3 };
    expect(migrateDoc({ schemaVersion: 1 }, 'x', set).doc).toEqual({ schemaVersion: 3, history: ['b', 'c'] });
    expect(seen).toEqual([1, 2]);
    expect(migrateDoc({ schemaVersion: 3, history: [] }, 'x', set).doc).toEqual({ schemaVersion: 3, history: [] });
  });

  it('refuses newer, older and unreadable versions, and a broken migration set', async () => {
    await expectProjectError(() => migrateDoc({ schemaVersion: 3 }, '/p/a.stylecast/project.json'), 'NEWER_SCHEMA', /a\.stylecast\/project\.json/, /Update Stylecast/);
    await expectProjectError(() => migrateDoc({ schemaVersion: '1' }, 'x'), 'CORRUPT', /schemaVersion/);
    await expectProjectError(() => migrateDoc({ schemaVersion: 0 }, 'x', { migrations: [() => { throw new Error('frameRange missing'); }], oldest: 0, current: 1 }), 'CORRUPT', /from project schema 0 to 1: frameRange missing/);
    expect(() => migrateDoc({ schemaVersion: 0 }, 'x', { migrations: [], oldest: 0, current: 1 })).toThrow(/cannot take schema 0 to 1/);
  });
});

describe('damaged and hostile projects', () => {
  async function fresh(): Promise<string> {
    const dir = newDir('bad');
    const p = await createProject(dir, baseInit());
    for (let t = 0; t < 3; t++) await writeFrameParams(p, t, frameParams(new Rng(t), t), affine(t), 0.1);
    return dir;
  }

  it('truncated params.f32', async () => {
    const dir = await fresh();
    truncateSync(join(dir, 'params.f32'), 12 * 140 - 60);
    await expectProjectError(openProject(dir), 'CORRUPT', /params\.f32 has 1620 bytes/, /\[12, 35\] = 1680 bytes/, /truncated/, /backup/);
  });

  it('a missing array file', async () => {
    const dir = await fresh();
    rmSync(join(dir, 'loss.f32'));
    await expectProjectError(openProject(dir), 'CORRUPT', /loss\.f32 is missing/);
  });

  it('project.json that is not JSON, not an object, or not ours', async () => {
    const dir = await fresh();
    writeFileSync(join(dir, 'project.json'), '{"format": "stylecast-project", "schemaVersion": 1,, }');
    await expectProjectError(openProject(dir), 'CORRUPT', /project\.json is not valid JSON/);
    writeFileSync(join(dir, 'project.json'), '[1, 2]');
    await expectProjectError(openProject(dir), 'CORRUPT', /JSON object/);
    writeFileSync(join(dir, 'project.json'), '{"format": "stylecast-model", "version": 1}');
    await expectProjectError(openProject(dir), 'NOT_A_PROJECT', /not a Stylecast project/);
  });

  it('shapes that disagree with the encoding', async () => {
    const dir = await fresh();
    editJson(dir, (d) => (d.files.params.shape = [12, 34]));
    await expectProjectError(openProject(dir), 'CORRUPT', /files\.params\.shape is \[12, 34\] but the encoding needs \[12, 35\]/);
    const dir2 = await fresh();
    editJson(dir2, (d) => (d.encoding.numWs = 18));
    await expectProjectError(openProject(dir2), 'CORRUPT', /encoding\.numWs must be 6 for a 16x16 model/);
    const dir3 = await fresh();
    editJson(dir3, (d) => (d.files.wid.dtype = 'float16-le'));
    await expectProjectError(openProject(dir3), 'CORRUPT', /files\.wid\.dtype/);
  });

  it('NaN in wid.f32', async () => {
    const dir = await fresh();
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, Number.NaN, true);
    scribble(join(dir, 'wid.f32'), (1 * 16 + 3) * 4, b);
    await expectProjectError(openProject(dir), 'CORRUPT', /wid\.f32 holds a non-finite value \(NaN\) at \[1, 3\]/);
  });

  it('bad field values', async () => {
    const cases: [(d: Record<string, any>) => void, RegExp][] = [
      [(d) => (d.encoding.identityFrame = 12), /encoding\.identityFrame must be an integer in 0\.\.11/],
      [(d) => (d.encoding.encodedThrough = 13), /encoding\.encodedThrough/],
      [(d) => (d.encoding.frames.start = 4), /encoding\.frames\.count must be an integer in 1\.\.11/],
      [(d) => (d.source.fpsRational = '25/1'), /disagrees with source\.fps/],
      [(d) => (d.source.sha256 = 'xyz'), /source\.sha256/],
      [(d) => (d.source.path = 'relative/clip.mp4'), /source\.path must be an absolute path/],
      [(d) => (d.encoding.paramNames[0] = 'pitch'), /paramNames\[0\] must be "yaw"/],
      [(d) => (d.encoding.paramNames[20] = 'pucker'), /"pucker" twice/],
      [(d) => (d.basis.modelId = 'other'), /basis\.modelId/],
      [(d) => (d.created = 'yesterday'), /created must be an ISO 8601 date/],
      [(d) => delete d.files.transforms, /files\.transforms is missing/],
      [(d) => (d.files.loss.file = 'wid.f32'), /also used by files\.wid/],
    ];
    for (const [edit, msg] of cases) {
      const dir = await fresh();
      editJson(dir, edit);
      await expectProjectError(openProject(dir), 'CORRUPT', msg, /project\.json/);
    }
  });

  it('file names that would leave the project folder', async () => {
    for (const name of ['../wid.f32', '/etc/passwd', 'sub/wid.f32', '..\\wid.f32', 'C:\\wid.f32', '.hidden', '..', 'project.json', 'wid.f32.tmp', 'NUL.f32']) {
      const dir = await fresh();
      editJson(dir, (d) => (d.files.wid.file = name));
      await expectProjectError(openProject(dir), 'UNSAFE_PATH', /files\.wid\.file/);
    }
    expect(unsafeFileName('wid.f32')).toBeNull();
    expect(unsafeFileName('params-v2_final.f32')).toBeNull();
  });

  it('a newer schema is refused, naming the file and asking for an update', async () => {
    const dir = await fresh();
    editJson(dir, (d) => (d.schemaVersion = 3));
    const e = await expectProjectError(openProject(dir), 'NEWER_SCHEMA', /project\.json was saved by a newer version of Stylecast/, /schema 3/, /Update Stylecast/);
    expect(e.file).toBe(join(resolve(dir), 'project.json'));
  });

  it('missing folders and folders that are not projects', async () => {
    await expectProjectError(openProject(join(tmp, 'gone.stylecast')), 'NOT_FOUND', /gone\.stylecast/, /does not exist/);
    const empty = join(tmp, 'empty.stylecast');
    mkdirSync(empty);
    await expectProjectError(openProject(empty), 'NOT_FOUND', /has no project\.json/);
    await expectProjectError(openProject(sourcePath), 'NOT_A_PROJECT', /is a file/);
  });
});

describe('source video and model', () => {
  it('hashFile streams sha256 and names a missing file', async () => {
    const big = makeSource('big.bin', 5 * 1024 * 1024 + 17, 3);
    expect(await hashFile(big)).toBe(createHash('sha256').update(readFileSync(big)).digest('hex'));
    await expectProjectError(hashFile(join(tmp, 'missing.mp4')), 'NOT_FOUND', /missing\.mp4/);
  });

  it('verifySource finds the video beside a moved project and catches a changed or missing one', async () => {
    const home = join(tmp, 'home');
    mkdirSync(join(home, 'media'), { recursive: true });
    const video = join(home, 'media', 'talk.mp4');
    cpSync(sourcePath, video);
    const dir = join(home, 'talk.stylecast');
    await createProject(dir, baseInit({ source: { ...baseInit().source, path: video } }));
    expect((await openProject(dir, { verifySource: true })).doc.source.relativePath).toBe('../media/talk.mp4');

    const moved = join(tmp, 'moved-home');
    renameSync(home, moved); // the project and its video move together; the absolute path is now stale
    const p = await openProject(join(moved, 'talk.stylecast'), { verifySource: true });
    expect(await verifySource(p)).toBe(join(moved, 'media', 'talk.mp4'));

    scribble(join(moved, 'media', 'talk.mp4'), 1000, new Uint8Array([1, 2, 3]));
    await expectProjectError(openProject(join(moved, 'talk.stylecast'), { verifySource: true }), 'SOURCE_CHANGED', /talk\.mp4/, /sha256 differs/);
    rmSync(join(moved, 'media', 'talk.mp4'));
    await expectProjectError(verifySource(p), 'SOURCE_MISSING', /talk\.mp4/);
    // Without the flag the encoding still opens: it does not need the video.
    expect((await openProject(join(moved, 'talk.stylecast'))).doc.encoding.numWs).toBe(6);
  });

  it('locateModel matches the bundle id and reports a missing model', async () => {
    const models = join(tmp, 'models');
    mkdirSync(join(models, 'seeded-16'), { recursive: true });
    writeFileSync(join(models, 'seeded-16', 'manifest.json'), JSON.stringify({ format: 'stylecast-model', id: '3f2a9c0d11e4b577' }));
    mkdirSync(join(models, 'other'), { recursive: true });
    writeFileSync(join(models, 'other', 'manifest.json'), JSON.stringify({ format: 'stylecast-model', id: 'ffff' }));
    const p = await createProject(newDir(), baseInit());
    expect(await locateModel(p, [models])).toBe(join(models, 'seeded-16'));
    rmSync(join(models, 'seeded-16'), { recursive: true });
    await expectProjectError(locateModel(p, [models]), 'MODEL_MISSING', /seeded-16/, /3f2a9c0d11e4b577/);
  });

  it.skipIf(!existsSync(realClip))('records a real clip as probed, and verifies it', async () => {
    const { probeVideo } = await import('../../../src/core/video');
    const info = await probeVideo(realClip);
    const dir = newDir('real');
    const p = await createProject(dir, { ...baseInit(), source: info, encoding: { wDim: W_DIM, paramNames: PARAM_NAMES, settings: {} }, transforms: undefined });
    expect(p.doc.source).toMatchObject({ path: realClip, width: info.width, height: info.height, fps: info.fps, fpsRational: info.fpsRational, frameCount: info.frameCount, hasAudio: info.hasAudio });
    expect(p.doc.source.size).toBe(statSync(realClip).size);
    expect(p.doc.source.sha256).toBe(createHash('sha256').update(readFileSync(realClip)).digest('hex'));
    expect(p.doc.encoding.frames).toEqual({ start: 0, count: info.frameCount });
    expect(p.params.length).toBe(info.frameCount * 35);
    expect(await verifySource(await openProject(dir))).toBe(realClip);
  });
});

describe('a shared project folder is untrusted: links are never followed', () => {
  const victimBytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7) & 0xff));

  it('refuses to write encoded frames through a symlinked loss.f32, and leaves its target untouched', async () => {
    const dir = newDir('linked-loss');
    await createProject(dir, baseInit({ encoding: { ...baseInit().encoding, encodedThrough: 0 } }));
    const p = await openProject(dir);
    // A user file of exactly the size loss.f32 has, which a resumed encode would overwrite.
    const victim = join(tmp, 'victim-notes.txt');
    const original = victimBytes(FRAMES * 4);
    writeFileSync(victim, original);
    rmSync(join(dir, 'loss.f32'));
    symlinkSync(victim, join(dir, 'loss.f32'));
    const rng = new Rng(3);
    await expectProjectError(writeFrameParams(p, 0, frameParams(rng, 0), affine(0), 0.25), 'UNSAFE_PATH', join(dir, 'loss.f32'), /symbolic link/);
    expect(readFileSync(victim).equals(original)).toBe(true);
    expect(lstatSync(join(dir, 'loss.f32')).isSymbolicLink()).toBe(true);
  });

  it('refuses to open a project whose array or project.json is a link, naming the file', async () => {
    // Moves a project file elsewhere and leaves a symbolic link to it in its place.
    const linkAway = (dir: string, name: string, to: string) => {
      cpSync(join(dir, name), to);
      rmSync(join(dir, name));
      symlinkSync(to, join(dir, name));
    };
    const dir = newDir('linked-params');
    await createProject(dir, baseInit());
    linkAway(dir, 'params.f32', join(tmp, 'elsewhere-params.f32'));
    await expectProjectError(openProject(dir), 'UNSAFE_PATH', join(dir, 'params.f32'), /never follows links inside a project folder/);

    const dir2 = newDir('linked-doc');
    await createProject(dir2, baseInit());
    linkAway(dir2, 'project.json', join(tmp, 'elsewhere-project.json'));
    await expectProjectError(openProject(dir2), 'UNSAFE_PATH', join(dir2, 'project.json'));

    // A pipe: refused before its open, which would wait for a writer forever.
    const dir3 = newDir('piped-doc');
    await createProject(dir3, baseInit());
    rmSync(join(dir3, 'project.json'));
    expect(spawnSync('mkfifo', [join(dir3, 'project.json')]).status).toBe(0);
    await expectProjectError(openProject(dir3), 'UNSAFE_PATH', join(dir3, 'project.json'), /not a regular file/);
  });

  it('refuses to write in place into an array with another hard link', async () => {
    const dir = newDir('hardlinked');
    await createProject(dir, baseInit({ encoding: { ...baseInit().encoding, encodedThrough: 0 } }));
    const p = await openProject(dir);
    const outside = join(tmp, 'hardlink-of-transforms.f32');
    linkSync(join(dir, 'transforms.f32'), outside);
    const before = readFileSync(outside);
    await expectProjectError(writeFrameParams(p, 0, frameParams(new Rng(4), 0), affine(0), 0.25), 'UNSAFE_PATH', /hard links/);
    expect(readFileSync(outside).equals(before)).toBe(true);
  });

  it('a temporary file planted as a link is replaced, never written through', async () => {
    const dir = newDir('linked-tmp');
    const p = await createProject(dir, baseInit());
    const victim = join(tmp, 'victim-tmp.txt');
    writeFileSync(victim, 'keep me');
    symlinkSync(victim, join(dir, 'params.f32.tmp'));
    await saveProject(p);
    expect(readFileSync(victim, 'utf8')).toBe('keep me');
    expect((await openProject(dir)).params).toEqual(p.params);
  });
});

describe('how a project reads its source frames', () => {
  it("records an HDR source's curve and an untagged HD matrix, and keeps reading older projects' frames as they were fitted", async () => {
    const hdr = await createProject(newDir('hdr'), baseInit({ source: { ...baseInit().source, hdr: 'hlg' } }));
    expect(sourceDecoding(await openProject(hdr.dir))).toEqual({ size: { width: 640, height: 360 }, hdr: 'hlg', assumedMatrix: null });
    const hd = await createProject(newDir('hd'), baseInit({ source: { ...baseInit().source, hdr: null, assumedMatrix: 'bt709' } }));
    expect(sourceDecoding(await openProject(hd.dir))).toMatchObject({ hdr: null, assumedMatrix: 'bt709' });
    const sdr = await createProject(newDir('sdr'), baseInit({ source: { ...baseInit().source, hdr: null } }));
    expect(sourceDecoding(await openProject(sdr.dir)).hdr).toBeNull();
    // A project made before 2026-12-07 records nothing: its HDR video was read as standard range, and still is.
    const old = await createProject(newDir('old'), baseInit());
    expect('hdr' in old.doc.source).toBe(false);
    expect(sourceDecoding(await openProject(old.dir))).toMatchObject({ hdr: null, assumedMatrix: null });
    // A hand-edited value is refused.
    const doc = JSON.parse(readFileSync(join(hdr.dir, 'project.json'), 'utf8')) as ProjectJson;
    (doc.source as unknown as Record<string, unknown>).hdr = 'dolby';
    expect(() => validateDoc(doc, { file: 'p/project.json', code: 'CORRUPT', advice: '' })).toThrow(/source\.hdr/);
    (doc.source as unknown as Record<string, unknown>).hdr = 'hlg';
    (doc.source as unknown as Record<string, unknown>).assumedMatrix = 'bt2020';
    expect(() => validateDoc(doc, { file: 'p/project.json', code: 'CORRUPT', advice: '' })).toThrow(/source\.assumedMatrix/);
  });
});
