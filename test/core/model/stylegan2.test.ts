import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gradients } from '../../../src/core/graph/autodiff';
import { TOLERANCE, UNTILTED_TOLERANCE, runCheck } from '../../../src/core/graph/gradcheck';
import { Graph } from '../../../src/core/graph/graph';
import { serialize } from '../../../src/core/graph/serialize';
import { makeArchitecture } from '../../../src/core/model/architecture';
import { loadBundle } from '../../../src/core/model/bundle';
import { modelChecks } from '../../../src/core/model/checks';
import { createSeededModel } from '../../../src/core/model/create';
import { Generator } from '../../../src/core/model/generator';
import { broadcastW, truncate } from '../../../src/core/model/stylegan2';
import { Runtime } from '../../../src/core/runtime';
import { Rng } from '../../../src/core/util/random';
import { tempDir } from '../../helpers';

const tmp = tempDir('sg2');
const rt = await Runtime.create({ device: 'cpu' });
const arch = makeArchitecture({ resolution: 32, channelBase: 512, channelMax: 32, zDim: 64, wDim: 64, mappingLayers: 4 });
await createSeededModel(join(tmp, 'm'), arch, 7, rt);
const bundle = loadBundle(join(tmp, 'm'));
const gen = new Generator(bundle, rt);

describe('StyleGAN2 generator', () => {
  it('input-scaling and grouped modulated conv agree to 1e-4 on the same weights', async () => {
    const B = 3;
    const rng = new Rng(1);
    const wplus = rng.normals(B * gen.net.numWs * arch.wDim);
    const s = await gen.styles(wplus, B);
    const g = new Graph();
    const sIn = g.input('s', [B, gen.net.styleDim]);
    const grouped = serialize(g, [{ name: 'img', value: gen.net.synthesis(g, sIn, { form: 'grouped' }) }]);
    const a = await gen.synthesis(s, B);
    const b = (await rt.run(grouped, { s: { data: s, dims: [B, gen.net.styleDim] } })).img!.data;
    let maxDiff = 0;
    let sq = 0;
    for (let i = 0; i < a.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(a[i]! - b[i]!));
      sq += a[i]! ** 2;
    }
    expect(Math.sqrt(sq / a.length)).toBeGreaterThan(0.05); // a real image, not zeros
    expect(maxDiff).toBeLessThan(1e-4);
  });

  it('renders deterministically, batches consistently, and different latents give different images', async () => {
    const rng = new Rng(2);
    const w = await gen.mapping(rng.normals(2 * arch.zDim), 2);
    const wp = broadcastW(w, 2, gen.net.numWs, arch.wDim);
    const img2 = await gen.render(wp, 2);
    const img1 = await gen.render(wp.subarray(0, gen.net.numWs * arch.wDim), 1);
    const per = 3 * 32 * 32;
    let d01 = 0;
    let dBatch = 0;
    for (let i = 0; i < per; i++) {
      d01 += Math.abs(img2[i]! - img2[per + i]!);
      dBatch = Math.max(dBatch, Math.abs(img2[i]! - img1[i]!));
    }
    expect(dBatch).toBeLessThan(1e-4);
    expect(d01 / per).toBeGreaterThan(0.01);
    const again = await gen.render(wp, 2);
    expect(again).toEqual(img2);
  });

  it('w_avg is the mean of mapped latents, and truncation pulls towards it', async () => {
    const rng = new Rng(3);
    const n = 512;
    const w = await gen.mapping(rng.normals(n * arch.zDim), n);
    const mean = new Float64Array(arch.wDim);
    for (let i = 0; i < w.length; i++) mean[i % arch.wDim]! += w[i]! / n;
    let err = 0;
    let scale = 0;
    gen.net.wAvg.forEach((v, i) => {
      err += (v - mean[i]!) ** 2;
      scale += v * v;
    });
    expect(Math.sqrt(err / scale)).toBeLessThan(0.1);
    const t = truncate(w.subarray(0, arch.wDim), gen.net.wAvg, 0);
    expect(t).toEqual(gen.net.wAvg);
  });

  it('whole-network gradients (W+, StyleSpace, one conv weight, z) match finite differences', async () => {
    for (const c of modelChecks(bundle)) {
      expect(c.untilted, c.name).toBe(2);
      const r = await runCheck(rt, { ...c, step: 1e-4 }, 5);
      expect(r.relError, c.name).toBeLessThan(TOLERANCE);
      expect(r.untilted!.relError, c.name).toBeLessThan(UNTILTED_TOLERANCE);
    }
  });

  it('running frames one at a time from some resolution on gives the batched results, forward and VJP', async () => {
    const B = 3;
    const rng = new Rng(4);
    const s = await gen.styles(rng.normals(B * gen.net.numWs * arch.wDim), B);
    const ct = rng.normals(B * 3 * 32 * 32);
    const run = async (splitFrom: number): Promise<{ img: Float32Array; ds: Float32Array; nodes: number }> => {
      const g = new Graph();
      const sIn = g.input('s', [B, gen.net.styleDim]);
      const img = gen.net.synthesis(g, sIn, { splitFrom });
      const ctIn = g.input('ct', img.shape);
      const [ds] = gradients(g, g.sumAll(g.mul(img, ctIn)), [sIn]);
      const m = serialize(g, [{ name: 'img', value: img }, { name: 'ds', value: ds! }]);
      const out = await rt.run(m, { s: { data: s, dims: [B, gen.net.styleDim] }, ct: { data: ct, dims: [B, 3, 32, 32] } });
      return { img: out.img!.data, ds: out.ds!.data, nodes: g.nodes.length };
    };
    const batched = await run(Infinity);
    const split8 = await run(8);
    const split32 = await run(32);
    expect(split8.nodes).toBeGreaterThan(split32.nodes); // more of the network runs per frame
    expect(split32.nodes).toBeGreaterThan(batched.nodes);
    const rms = (a: Float32Array): number => Math.sqrt(a.reduce((p, v) => p + v * v, 0) / a.length);
    expect(rms(batched.img)).toBeGreaterThan(0.05);
    expect(rms(batched.ds)).toBeGreaterThan(1e-3);
    for (const other of [split8, split32]) {
      let di = 0;
      let dg = 0;
      batched.img.forEach((v, i) => (di = Math.max(di, Math.abs(v - other.img[i]!))));
      batched.ds.forEach((v, i) => (dg = Math.max(dg, Math.abs(v - other.ds[i]!))));
      expect(di).toBeLessThan(1e-5);
      expect(dg / rms(batched.ds)).toBeLessThan(1e-5);
    }
    // The default splits only where a batch's activations outgrow the cache.
    expect(gen.net.splitResolution(1)).toBe(Infinity);
    expect(gen.net.splitResolution(B)).toBe(Infinity); // 32 channels at 32x32: 384 KiB
  });

  it('refuses latents of the wrong shape', () => {
    const g = new Graph();
    expect(() => gen.net.styles(g, g.input('w', [1, 3, arch.wDim]))).toThrow(/W\+ must be \[B, 8, 64\]/);
    expect(() => gen.net.synthesis(g, g.input('s', [1, 5]))).toThrow(/styles must be/);
  });
});
