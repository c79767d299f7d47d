// Tuning on a portrait (issue 11): the tiny seeded generator, the real portrait lp_s0.jpg
// found, aligned and inverted by the real face networks, then a delta tuned on that one crop
// and stored in the puppeteered project. The figures are measured, not assumed.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaceNets } from '../../../src/core/face/nets';
import { PARAM_COUNT, type EditBasis } from '../../../src/core/model/basis';
import type { ModelBundle } from '../../../src/core/model/bundle';
import { openProject, type Project } from '../../../src/core/project';
import { toRgb8 } from '../../../src/core/render/image';
import { PuppeteerError, invertPortrait, puppeteerProject } from '../../../src/core/render/puppeteer';
import { FrameRenderer } from '../../../src/core/render/render';
import { Runtime } from '../../../src/core/runtime';
import { TuneError, loadDelta, planDelta, projectRenderer, tunePortrait, type PortraitTune } from '../../../src/core/tune';
import { isCancelled } from '../../../src/core/util/cancel';
import { psnr } from '../../../src/core/metrics/image';
import { hasSharedData, portrait, smallSchedule, tempDir } from '../../helpers';
import { tinyArch, tinyModel, tinyProject } from './fixture';

const tmp = tempDir('tune-portrait');

const PORTRAIT = portrait('lp_s0.jpg');
const STEPS = 100;
const options = { mode: 'relative' as const, only: null, strength: 1 };

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += Math.abs(a[i]! - b[i]!);
  return d / a.length;
}

describe.skipIf(!hasSharedData)('tuning on a portrait (needs ../shared/data)', () => {
  let rt: Runtime;
  let bundle: ModelBundle;
  let basis: EditBasis;
  let wid: Float32Array;
  let crop: Float32Array;
  let motion: Project;
  let tuned: PortraitTune;

  beforeAll(async () => {
    rt = await Runtime.create({ device: 'cpu' });
    ({ bundle, basis } = await tinyModel(join(tmp, 'model'), rt));
    ({ wid, crop } = await invertPortrait(PORTRAIT, bundle, basis, rt, await FaceNets.load(rt), smallSchedule({ invert: 60 })));
    motion = await tinyProject(join(tmp, 'motion.stylecast'), bundle, basis);
  }, 300_000);

  afterAll(() => rt?.release());

  it('raises the PSNR of the portrait render against its crop, and reports no held-out frames', async () => {
    const steps: number[] = [];
    tuned = await tunePortrait({ crop, wid, label: PORTRAIT, bundle, basis, rt, perceptual: null, settings: { steps: STEPS }, onProgress: (p) => p.step !== undefined && steps.push(p.step) });
    const r = tuned.report;
    console.log(`portrait tune (${STEPS} steps, rank 2): ${JSON.stringify(r)}`);
    expect(Object.keys(r)).toEqual(['source', 'frames', 'psnr', 'lpips', 'locality', 'deltaBytes', 'synthesisBytes', 'seconds']);
    expect(r.source).toBe('portrait');
    expect(r.frames).toEqual({ tuned: 1, heldOut: 0 });
    expect([r.psnr.before.heldOut, r.psnr.after.heldOut]).toEqual([null, null]);
    expect(steps.at(-1)).toBe(STEPS);
    expect(r.psnr.after.tuned).toBeGreaterThan(r.psnr.before.tuned + 2);
    // Rank: the largest up to 8 that fits 5% of the tiny model's synthesis weights.
    expect(r.deltaBytes).toBe(2 * planDelta(tinyArch, 2).size);
    expect(r.deltaBytes).toBeLessThanOrEqual(0.05 * r.synthesisBytes);
    expect(r.locality).toBeGreaterThan(0);
    expect(r.lpips).toBeNull();
    // 'before' is the untuned portrait render (w_ID, all 35 parameters zero) measured here independently.
    const res = tinyArch.resolution;
    const [plain] = await new FrameRenderer(bundle, basis, rt).render(wid, new Float32Array(PARAM_COUNT), res, 1);
    expect(psnr(plain!, toRgb8(crop, 0, res, res))).toBe(r.psnr.before.tuned);
  }, 600_000);

  it('the driven project carries the portrait delta: its render differs from the untuned one, and matches what tuning measured', async () => {
    const out = join(tmp, 'driven.stylecast');
    const c = await puppeteerProject({ motion, identity: { wid, label: PORTRAIT, tuned }, bundle, basis, out, options });
    const p = await openProject(c.dir);
    expect(p.doc.tune).toMatchObject({ source: 'portrait', portrait: PORTRAIT, rank: 2, dtype: 'float16-le', bytes: tuned.report.deltaBytes });
    expect((p.doc.tune!.report as { psnr: unknown }).psnr).toEqual(tuned.report.psnr);
    const d = await loadDelta(p, bundle);
    expect(d!.values).toEqual(tuned.delta.values);
    const { renderer } = await projectRenderer(p, bundle, basis, rt);
    const withDelta = await renderer.render(p.wid, p.params, 32);
    const untuned = await new FrameRenderer(bundle, basis, rt).render(p.wid, p.params, 32);
    const diff = withDelta.reduce((s, img, i) => s + meanAbsDiff(img, untuned[i]!), 0) / withDelta.length;
    console.log(`driven project, tuned vs untuned render: mean absolute difference ${diff.toFixed(2)} of 255`);
    expect(diff).toBeGreaterThan(1);
    // The portrait itself (zero parameters) renders through the stored delta at the PSNR tuning reported.
    const res = tinyArch.resolution;
    const [face] = await renderer.render(p.wid, new Float32Array(PARAM_COUNT), res, 1);
    expect(psnr(face!, toRgb8(crop, 0, res, res))).toBe(tuned.report.psnr.after.tuned);
  }, 300_000);

  it('bad input: one-line errors naming the flag; a delta for another latent or a cancel writes nothing', async () => {
    const fails = async (settings: object, re: RegExp) => {
      const e = await tunePortrait({ crop, wid, label: PORTRAIT, bundle, basis, rt, perceptual: null, settings }).catch((x) => x);
      expect(e).toBeInstanceOf(TuneError);
      expect(e.message).toMatch(re);
      expect(e.message).not.toMatch(/\n/);
    };
    await fails({ steps: 0 }, /--tune-steps must be a whole number of at least 1 \(got 0\)/);
    await fails({ rank: 0 }, /--tune-rank must be a whole number of at least 1/);
    await fails({ rank: 3 }, /use --tune-rank 2 or less/);
    const e = await tunePortrait({ crop: crop.subarray(0, 10), wid, label: PORTRAIT, bundle, basis, rt, perceptual: null }).catch((x) => x);
    expect(e.message).toMatch(/the portrait crop of .*lp_s0\.jpg has 10 values, not 3 x 32 x 32/);

    const other = Float32Array.from(wid, (x) => x + 0.1);
    const out = join(tmp, 'other.stylecast');
    await expect(puppeteerProject({ motion, identity: { wid: other, label: PORTRAIT, tuned }, bundle, basis, out, options })).rejects.toThrow(PuppeteerError);
    expect(existsSync(out)).toBe(false);

    const ac = new AbortController();
    const stopped = await tunePortrait({ crop, wid, label: PORTRAIT, bundle, basis, rt, perceptual: null, settings: { steps: 40 }, signal: ac.signal, onProgress: (p) => p.step === 3 && ac.abort() }).catch((x) => x);
    expect(isCancelled(stopped)).toBe(true);
  }, 300_000);

  it('a driven project used as the identity: its damaged delta names --ignore-delta and writes nothing; ignored, the result is untuned', async () => {
    const identity = await openProject(join(tmp, 'driven.stylecast'));
    const file = join(identity.dir, identity.doc.tune!.file);
    rmSync(file);
    const out = join(tmp, 'second.stylecast');
    await expect(puppeteerProject({ motion, identity: { project: identity }, bundle, basis, out, options })).rejects.toThrow(/the fine-tuning delta .*\.f16 is missing\. .*--ignore-delta/);
    expect(existsSync(out)).toBe(false);
    const c = await puppeteerProject({ motion, identity: { project: identity }, bundle, basis, out, options, ignoreDelta: true });
    expect((await openProject(c.dir)).doc.tune).toBeNull();
  }, 120_000);
});

