import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EditBasis, PARAM_COUNT } from '../../../src/core/model/basis';
import { createProject, openProject } from '../../../src/core/project';
import { drivenParams, lockMask, puppeteerProject } from '../../../src/core/render/puppeteer';
import { Rng } from '../../../src/core/util/random';
import { tempDir } from '../../helpers';

const tmp = tempDir('puppet');

const regions = [...Array(12).fill('mouth'), ...Array(8).fill('eyes'), ...Array(6).fill('brows'), ...Array(6).fill('nose-forehead-cheeks')];
const basis = { meta: { attributes: regions.map((region, k) => ({ name: `${region} ${k}`, region })) }, pose: new Float32Array(0) } as unknown as EditBasis;

describe('puppeteering', () => {
  it('locks transfer exactly the tracks of their region', () => {
    const count = (m: boolean[]) => m.filter(Boolean).length;
    expect(count(lockMask(basis, null))).toBe(35);
    expect(lockMask(basis, 'pose').slice(0, 3)).toEqual([true, true, true]);
    expect(count(lockMask(basis, 'pose'))).toBe(3);
    expect(count(lockMask(basis, 'expression'))).toBe(32);
    expect(count(lockMask(basis, 'mouth'))).toBe(12);
    expect(count(lockMask(basis, 'eyes'))).toBe(14); // eyes with the brows
  });

  it('relative mode adds the driving motion from its neutral frame to the identity neutral, scaled; absolute copies it', () => {
    const rng = new Rng(1);
    const frames = 5;
    const motion = rng.normals(frames * PARAM_COUNT);
    const neutral = rng.normals(PARAM_COUNT);
    const all = lockMask(basis, null);
    const rel = drivenParams(motion, frames, 2, neutral, all, { mode: 'relative', only: null, strength: 0.5 });
    const abs = drivenParams(motion, frames, 2, neutral, all, { mode: 'absolute', only: null, strength: 1 });
    for (let t = 0; t < frames; t++) {
      for (let i = 0; i < PARAM_COUNT; i++) {
        expect(rel[t * PARAM_COUNT + i]).toBeCloseTo(neutral[i]! + 0.5 * (motion[t * PARAM_COUNT + i]! - motion[2 * PARAM_COUNT + i]!), 5);
        expect(abs[t * PARAM_COUNT + i]).toBeCloseTo(motion[t * PARAM_COUNT + i]!, 6);
      }
    }
    // At the neutral frame, relative driving gives the identity's own neutral expression.
    expect(Array.from(rel.subarray(2 * PARAM_COUNT, 3 * PARAM_COUNT))).toEqual(Array.from(neutral));
    const mouthOnly = drivenParams(motion, frames, 2, neutral, lockMask(basis, 'mouth'), { mode: 'relative', only: 'mouth', strength: 1 });
    expect(mouthOnly[4 * PARAM_COUNT + 0]).toBe(neutral[0]); // yaw locked to the identity
    expect(mouthOnly[4 * PARAM_COUNT + 3]).toBeCloseTo(neutral[3]! + motion[4 * PARAM_COUNT + 3]! - motion[2 * PARAM_COUNT + 3]!, 5);
  });

  it('writes a driven project: identity latent of B, motion of A, transforms and source of A', async () => {
    const rng = new Rng(2);
    const names = ['yaw', 'pitch', 'roll', ...regions.map((r, k) => `${r} ${k}`)];
    const make = async (name: string, frames: number, identityFrame: number) =>
      createProject(join(tmp, `${name}.stylecast`), {
        source: { path: join(tmp, `${name}.mp4`), width: 64, height: 64, fps: 25, fpsRational: '25/1', frameCount: frames, durationSec: frames / 25, hasAudio: false, sha256: '0'.repeat(64), size: 1 },
        model: { id: 'm1', name: 'seeded-64', resolution: 64 },
        encoding: { wDim: 8, paramNames: names, identityFrame, encodedThrough: frames },
        wid: rng.normals(10 * 8),
        params: rng.normals(frames * PARAM_COUNT),
        transforms: Float32Array.from({ length: frames * 6 }, (_, i) => [1, 0, i, 0, 1, 0][i % 6]!)
      });
    const a = await make('a', 6, 1);
    const b = await make('b', 3, 2);
    const bundle = { manifest: { id: 'm1' } } as never;
    const c = await puppeteerProject({ motion: a, identity: { project: b }, bundle, basis, out: join(tmp, 'c.stylecast'), options: { mode: 'relative', only: null, strength: 1 } });
    const reopened = await openProject(c.dir);
    expect(reopened.wid).toEqual(b.wid);
    expect(reopened.transforms).toEqual(a.transforms);
    expect(reopened.doc.source.path).toBe(a.doc.source.path);
    expect(reopened.doc.encoding.encodedThrough).toBe(6);
    const bNeutral = b.params.subarray(2 * PARAM_COUNT, 3 * PARAM_COUNT);
    for (let i = 0; i < PARAM_COUNT; i++) {
      expect(reopened.params[5 * PARAM_COUNT + i]).toBeCloseTo(bNeutral[i]! + a.params[5 * PARAM_COUNT + i]! - a.params[1 * PARAM_COUNT + i]!, 5);
    }
    // Its neutral frame is the motion's (1), which holds the identity's resting numbers.
    expect(reopened.doc.encoding.identityFrame).toBe(1);
    for (let i = 0; i < PARAM_COUNT; i++) expect(reopened.params[1 * PARAM_COUNT + i]).toBeCloseTo(bNeutral[i]!, 5);
    await expect(
      puppeteerProject({ motion: a, identity: { project: b }, bundle: { manifest: { id: 'other' } } as never, basis, out: join(tmp, 'd.stylecast'), options: { mode: 'relative', only: null, strength: 1 } })
    ).rejects.toThrow(/another model/);
  });
});
