// Generator fine-tuning (issue 11) on a tiny seeded generator and 8 real frames of lp_d11:
// the float16 delta format and its budget, the factors' gradient against finite
// differences, tuning end to end (PSNR up, the re-render measures what tuning reported),
// the locality term, cancel and resume, damaged deltas, bad input, puppeteering.
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ParamDecoder } from '../../../src/core/encode/decoder';
import { runCheck } from '../../../src/core/graph/gradcheck';
import { evaluateProject } from '../../../src/core/metrics/evaluate';
import { summarise } from '../../../src/core/metrics/summary';
import { CONFIG_F } from '../../../src/core/model/architecture';
import type { EditBasis } from '../../../src/core/model/basis';
import type { ModelBundle } from '../../../src/core/model/bundle';
import { StyleGan2 } from '../../../src/core/model/stylegan2';
import { openProject } from '../../../src/core/project';
import { FrameRenderer } from '../../../src/core/render/render';
import { puppeteerProject } from '../../../src/core/render/puppeteer';
import { Runtime } from '../../../src/core/runtime';
import {
  DEFAULT_RANK,
  TuneError,
  applyDelta,
  checkBudget,
  decodeHalf,
  encodeHalf,
  fromHalf,
  loadDelta,
  measureLocality,
  planDelta,
  projectRenderer,
  runTune,
  splitFrames,
  synthesisBytes,
  toHalf,
  type TuneResult,
  type TuneSettings
} from '../../../src/core/tune';
import { deltaOfLayers, synthesisGraph } from '../../../src/core/tune/graph';
import { isCancelled } from '../../../src/core/util/cancel';
import { Rng } from '../../../src/core/util/random';
import { hasSharedData, tempDir } from '../../helpers';
import { Graph } from '../../../src/core/graph/graph';
import { serialize } from '../../../src/core/graph/serialize';
import { tinyArch, tinyModel, tinyProject } from './fixture';

const tmp = tempDir('tune');

describe('the delta format', () => {
  it('float16: exact for representable values, rounds to nearest even, flushes and saturates', () => {
    expect(toHalf(1)).toBe(0x3c00);
    expect(toHalf(-2)).toBe(0xc000);
    expect(toHalf(65504)).toBe(0x7bff);
    expect(toHalf(70000)).toBe(0x7c00);
    expect(toHalf(0.1)).toBe(0x2e66);
    expect(toHalf(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(toHalf(2 ** -26)).toBe(0);
    expect(toHalf(1 + 2 ** -11)).toBe(0x3c00); // a tie rounds to the even mantissa
    expect(toHalf(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(fromHalf(0x3555)).toBeCloseTo(1 / 3, 3);
    const v = new Rng(1).normals(2000, 0.3);
    const back = decodeHalf(encodeHalf(v));
    for (let i = 0; i < v.length; i++) expect(Math.abs(back[i]! - v[i]!)).toBeLessThanOrEqual(Math.abs(v[i]!) * 2 ** -11 + 2 ** -25);
  });

  it('a rank-8 delta fits 5% of the synthesis weights at 64 and at 1024; too high a rank names one that fits', () => {
    const seeded = { ...tinyArch, resolution: 64, channels: { 4: 128, 8: 128, 16: 128, 32: 64, 64: 32 }, zDim: 512, wDim: 512, mappingLayers: 8 };
    for (const arch of [seeded, CONFIG_F(1024)]) {
      const layout = planDelta(arch, DEFAULT_RANK);
      expect(2 * layout.size).toBeLessThanOrEqual(0.05 * synthesisBytes(arch));
      expect(() => checkBudget(arch, layout)).not.toThrow();
    }
    // config-f 1024: synthesis weights are about 114 MB as float32; the rank-8 delta about 1 MB.
    expect(synthesisBytes(CONFIG_F(1024))).toBeGreaterThan(100e6);
    expect(2 * planDelta(CONFIG_F(1024), 8).size).toBeLessThan(1.2e6);
    expect(() => checkBudget(tinyArch, planDelta(tinyArch, 8))).toThrow(/use --rank 2 or less/);
    expect(() => planDelta(tinyArch, 0)).toThrow(/rank must be a whole number of at least 1/);
  });

  it('every fourth frame is held out; --frames spreads the tuned ones over the rest', () => {
    expect(splitFrames(8)).toEqual({ tuned: [0, 1, 2, 4, 5, 6], heldOut: [3, 7] });
    expect(splitFrames(32, 3).tuned).toEqual([0, 16, 30]);
  });
});

describe.skipIf(!hasSharedData)('tuning a tiny generator on real frames (needs ../shared/data)', () => {
  let rt: Runtime;
  let bundle: ModelBundle;
  let basis: EditBasis;
  let first: TuneResult;
  const steps = 30;
  // The tiny project starts from w_avg, far from its frames, so the fit pulls far harder than
  // on an encoded project; the locality test therefore weights the term 1 (the default 0.2
  // is measured on seeded-64 and real clips in the README).
  const settings: Partial<TuneSettings> = { steps, rank: 2, lr: 0.003, localityWeight: 1 };

  beforeAll(async () => {
    rt = await Runtime.create({ device: 'cpu' });
    ({ bundle, basis } = await tinyModel(join(tmp, 'model'), rt));
  }, 120_000);

  it('the gradient with respect to the low-rank factors matches finite differences through the whole network', async () => {
    const net = new StyleGan2(bundle);
    const layout = planDelta(tinyArch, 2);
    const r = await runCheck(rt, {
      name: 'd/d delta factors',
      build(g, rng) {
        const sData = rng.normals(net.styleDim, 0.3);
        for (let i = 0; i < sData.length; i++) sData[i]! += 1;
        const v = g.input('delta', [layout.size]);
        const out = net.synthesis(g, g.constant(sData, [1, net.styleDim]), { delta: deltaOfLayers(layout, v) });
        return { wrt: [{ value: v, data: rng.normals(layout.size, 0.1) }], out };
      }
    });
    expect(r.relError).toBeLessThan(1e-2);
  }, 120_000);

  it('the merged weights (W + B.A) render what the in-graph delta renders', async () => {
    const net = new StyleGan2(bundle);
    const layout = planDelta(tinyArch, 2);
    const values = new Rng(5).normals(layout.size, 0.1);
    const s = new Rng(6).normals(2 * net.styleDim, 0.3).map((x) => x + 1);
    const g = new Graph();
    const v = g.input('delta', [layout.size]);
    const si = g.input('s', [2, net.styleDim]);
    const inGraph = serialize(g, [{ name: 'image', value: net.synthesis(g, si, { delta: deltaOfLayers(layout, v) }) }]);
    const a = (await rt.run(inGraph, { delta: { data: values, dims: [layout.size] }, s: { data: s, dims: [2, net.styleDim] } })).image!.data;
    const merged = new StyleGan2(applyDelta(bundle, { layout, values }));
    const b = (await rt.run(synthesisGraph(merged, 2), { s: { data: s, dims: [2, net.styleDim] } })).image!.data;
    const plain = (await rt.run(synthesisGraph(net, 2), { s: { data: s, dims: [2, net.styleDim] } })).image!.data;
    let diff = 0;
    let moved = 0;
    for (let i = 0; i < a.length; i++) {
      diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
      moved = Math.max(moved, Math.abs(a[i]! - plain[i]!));
    }
    expect(diff).toBeLessThan(1e-4);
    expect(moved).toBeGreaterThan(0.05);
  }, 120_000);

  it('an untuned project renders bit for bit as before: same graph bytes as before tuning existed, same pixels', async () => {
    const p = await tinyProject(join(tmp, 'plain.stylecast'), bundle, basis);
    // The render graph's sha256 before issue 11 (decoder and synthesis builder at 03e837c).
    expect(new ParamDecoder(new StyleGan2(bundle), basis).renderGraph(2).hash).toBe('6fdcc5f05fee21b2952248e7010e053c5091b7b9cf0074197a40d85b2ad8dc3d');
    const { renderer, delta, ignored } = await projectRenderer(p, bundle, basis, rt);
    expect([delta, ignored]).toEqual([null, null]);
    const a = await renderer.render(p.wid, p.params, 32);
    const b = await new FrameRenderer(bundle, basis, rt).render(p.wid, p.params, 32);
    expect(a.map((x) => Buffer.from(x).toString('hex'))).toEqual(b.map((x) => Buffer.from(x).toString('hex')));
  }, 120_000);

  it('raises PSNR on tuned and held-out frames, stores a float16 delta, and the re-render measures what tuning reported', async () => {
    const p = await tinyProject(join(tmp, 'a.stylecast'), bundle, basis);
    const progress: number[] = [];
    first = await runTune({ project: p, bundle, basis, rt, perceptual: null, settings, onProgress: (e) => e.step !== undefined && progress.push(e.step) });
    const r = first.report;
    console.log(`tiny tune: ${JSON.stringify(r)}`);
    expect(Object.keys(r)).toEqual(['frames', 'psnr', 'lpips', 'locality', 'deltaBytes', 'synthesisBytes', 'seconds']);
    expect(r.frames).toEqual({ tuned: 6, heldOut: 2 });
    expect(progress.at(-1)).toBe(steps);
    expect(r.psnr.after.tuned).toBeGreaterThan(r.psnr.before.tuned + 1);
    expect(r.psnr.after.heldOut).toBeGreaterThan(r.psnr.before.heldOut + 1);
    expect(r.deltaBytes).toBe(2 * planDelta(tinyArch, 2).size);
    expect(r.deltaBytes).toBeLessThanOrEqual(0.05 * r.synthesisBytes);
    expect(r.lpips).toBeNull();

    const q = await openProject(p.dir);
    expect(q.doc.tune).toMatchObject({ dtype: 'float16-le', rank: 2, bytes: r.deltaBytes });
    expect(readFileSync(join(q.dir, q.doc.tune!.file)).byteLength).toBe(r.deltaBytes);
    expect(existsSync(join(q.dir, 'tune-resume.bin'))).toBe(false);
    const { renderer, delta } = await projectRenderer(q, bundle, basis, rt);
    expect(delta).not.toBeNull();
    const ev = await evaluateProject({ project: q, renderer, perceptual: null });
    const med = (idx: number[]) => summarise(idx.map((i) => ev.perFrame.psnr[i]!)).median;
    expect(med([3, 7])).toBe(r.psnr.after.heldOut);
    expect(med([0, 1, 2, 4, 5, 6])).toBe(r.psnr.after.tuned);
  }, 300_000);

  it('without the locality term, renders of random latents near w_ID change at least twice as much', async () => {
    const p = await tinyProject(join(tmp, 'noloc.stylecast'), bundle, basis);
    const free = await runTune({ project: p, bundle, basis, rt, perceptual: null, settings: { ...settings, localityWeight: 0 } });
    console.log(`locality: ${first.report.locality.toFixed(2)} with the term, ${free.report.locality.toFixed(2)} without`);
    expect(free.report.locality).toBeGreaterThanOrEqual(2 * first.report.locality);
    // measureLocality is what the report says.
    expect(await measureLocality(bundle, first.delta, rt, p.wid, { localityAlpha: 0.5, seed: 11 })).toBe(first.report.locality);
  }, 300_000);

  it('cancel keeps a checkpoint; the next run resumes from it and ends where an uninterrupted run ends', async () => {
    const p = await tinyProject(join(tmp, 'resume.stylecast'), bundle, basis);
    const ac = new AbortController();
    const err = await runTune({ project: p, bundle, basis, rt, perceptual: null, settings, signal: ac.signal, onProgress: (e) => e.step === 12 && ac.abort() }).catch((e) => e);
    expect(isCancelled(err)).toBe(true);
    expect(existsSync(join(p.dir, 'tune-resume.bin'))).toBe(true);
    expect((await openProject(p.dir)).doc.tune).toBeNull();
    const again = await runTune({ project: p, bundle, basis, rt, perceptual: null, settings });
    expect(again.resumedFromStep).toBe(12);
    let diff = 0;
    for (let i = 0; i < again.delta.values.length; i++) diff = Math.max(diff, Math.abs(again.delta.values[i]! - first.delta.values[i]!));
    expect(diff).toBeLessThan(1e-3);
    expect(Math.abs(again.report.psnr.after.tuned - first.report.psnr.after.tuned)).toBeLessThan(0.05);
  }, 300_000);

  it('a damaged or missing delta is a clear error; ignoring it renders untuned', async () => {
    const dir = join(tmp, 'damaged.stylecast');
    cpSync(join(tmp, 'a.stylecast'), dir, { recursive: true });
    const p = await openProject(dir);
    const file = join(dir, p.doc.tune!.file);
    const bytes = readFileSync(file);
    bytes[10]! ^= 0xff;
    writeFileSync(file, bytes);
    await expect(projectRenderer(p, bundle, basis, rt)).rejects.toThrow(/delta .*damaged.*--ignore-delta/);
    const ignored = await projectRenderer(p, bundle, basis, rt, { ignoreDelta: true });
    expect(ignored.delta).toBeNull();
    expect(ignored.ignored).toMatch(/damaged/);
    const untuned = await new FrameRenderer(bundle, basis, rt).render(p.wid, p.params, 32);
    expect(await ignored.renderer.render(p.wid, p.params, 32)).toEqual(untuned);
    rmSync(file);
    const e = await loadDelta(p, bundle).catch((x) => x);
    expect(e).toBeInstanceOf(TuneError);
    expect(e.code).toBe('DELTA_MISSING');
    expect(e.message).toMatch(/is missing/);
    // A shared project whose delta is a link, even to the right bytes, or a file of another size: refused, not read.
    const elsewhere = join(tmp, 'delta-elsewhere.f16');
    writeFileSync(elsewhere, readFileSync(join(tmp, 'a.stylecast', p.doc.tune!.file)));
    symlinkSync(elsewhere, file);
    const linked = await loadDelta(p, bundle).catch((x) => x);
    expect(linked.code).toBe('DELTA_CORRUPT');
    expect(linked.message).toMatch(/is a symbolic link/);
    rmSync(file);
    writeFileSync(file, Buffer.alloc(p.doc.tune!.bytes + 2));
    await expect(loadDelta(p, bundle)).rejects.toThrow(new RegExp(`damaged \\(${p.doc.tune!.bytes + 2} bytes, project.json says ${p.doc.tune!.bytes}\\)`));
  }, 120_000);

  it('puppeteering with a tuned identity carries its delta into the driven project', async () => {
    const b = await openProject(join(tmp, 'a.stylecast'));
    const a = await tinyProject(join(tmp, 'motion.stylecast'), bundle, basis);
    const c = await puppeteerProject({ motion: a, identity: { project: b }, bundle, basis, out: join(tmp, 'c.stylecast'), options: { mode: 'relative', only: null, strength: 1 } });
    const d = await loadDelta(await openProject(c.dir), bundle);
    expect(d!.values).toEqual((await loadDelta(b, bundle))!.values);
  }, 120_000);

  it('bad input: one-line errors and no files written', async () => {
    const listing = (d: string) => readdirSync(d).sort();
    const p = await tinyProject(join(tmp, 'bad.stylecast'), bundle, basis);
    const fails = async (s: Partial<TuneSettings>, re: RegExp, project = p) => {
      const before = listing(project.dir);
      const e = await runTune({ project, bundle, basis, rt, perceptual: null, settings: s }).catch((x) => x);
      expect(e).toBeInstanceOf(TuneError);
      expect(e.message).toMatch(re);
      expect(e.message).not.toMatch(/\n/);
      expect(listing(project.dir)).toEqual(before);
    };
    await fails({ rank: 0 }, /--rank must be a whole number of at least 1 \(got 0\)/);
    await fails({ rank: 8 }, /use --rank 2 or less/);
    await fails({ frames: 7 }, /--frames must be 1\.\.6/);
    const empty = await tinyProject(join(tmp, 'empty.stylecast'), bundle, basis, 8, 0);
    await fails({}, /has 0 encoded frames; tuning needs at least 4.*encode the video first/, empty);
    // Written by another process since it was opened (an encode that held it): this copy is not saved back.
    const stale = await tinyProject(join(tmp, 'stale.stylecast'), bundle, basis);
    const file = join(stale.dir, 'project.json');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/"modified": "[^"]*"/, '"modified": "2030-01-01T00:00:00.000Z"'));
    await fails({}, /was changed by another process since it was opened: run the fine-tune again/, stale);
  }, 120_000);

  it('an unwritable project folder (a read-only mount) is refused before any work', async () => {
    const mnt = join(tmp, 'ro');
    mkdirSync(mnt);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mnt], { stdio: 'ignore' });
    } catch {
      console.log('skipped: cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN)');
      return;
    }
    try {
      const p = await tinyProject(join(mnt, 'ro.stylecast'), bundle, basis);
      execFileSync('mount', ['-o', 'remount,ro', mnt]);
      const before = readdirSync(p.dir).sort();
      const e = await runTune({ project: p, bundle, basis, rt, perceptual: null, settings }).catch((x) => x);
      expect(e).toBeInstanceOf(TuneError);
      expect(e.code).toBe('NOT_WRITABLE');
      expect(e.message).toMatch(/cannot write in .*ro\.stylecast \(EROFS\)/);
      expect(readdirSync(p.dir).sort()).toEqual(before);
    } finally {
      execFileSync('umount', [mnt]);
    }
  }, 120_000);
});
