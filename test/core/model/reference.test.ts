// Our ONNX StyleGAN2 graph against an independent float64 reference written from the
// official StyleGAN2-ADA code (test/reference/stylegan2-reference.ts).
import { describe, expect, it } from 'vitest';
import { Graph } from '../../../src/core/graph/graph';
import { serialize } from '../../../src/core/graph/serialize';
import { Architecture, makeArchitecture, numWs } from '../../../src/core/model/architecture';
import { ModelBundle } from '../../../src/core/model/bundle';
import { inMemoryBundle, seededTensors } from '../../../src/core/model/create';
import { Generator } from '../../../src/core/model/generator';
import { Runtime } from '../../../src/core/runtime';
import { Rng } from '../../../src/core/util/random';
import { maxAbsDiff } from '../../helpers';
import { ReferenceTrace, conv2dResample, modulatedConv2d, referenceMapping, referenceSynthesis, setupFilter, upsample2d } from '../../reference/stylegan2-reference';

const rt = await Runtime.create({ device: 'cpu' });
const B = 2;
// Channels shrink with resolution (4: 32, 8: 32, 16: 16, 32: 8), so up-convs have in != out.
const base = makeArchitecture({ resolution: 32, channelBase: 256, channelMax: 32, zDim: 32, wDim: 32, mappingLayers: 2 });
const tensors = seededTensors(base, 11);
tensors.set('mapping.w_avg', new Rng(12).normals(base.wDim));

const bundleFor = (arch: Architecture): ModelBundle => inMemoryBundle(arch, tensors, `ref-${arch.convClamp}`, `ref-${arch.convClamp}`, '(memory)');

function std(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m += a[i]! / a.length;
  let v = 0;
  for (let i = 0; i < a.length; i++) v += (a[i]! - m) ** 2 / a.length;
  return Math.sqrt(v);
}

/** W+ whose every row is a different mapped w (per sample and per layer). */
async function distinctWPlus(gen: Generator, seed: number): Promise<Float32Array> {
  const n = numWs(base);
  const z = new Rng(seed).normals(B * n * base.zDim);
  return gen.mapping(z, B * n); // [B*n, wDim] is laid out exactly as [B, n, wDim]
}

describe('StyleGAN2 graph vs the official-code float64 reference', () => {
  const gen = new Generator(bundleFor(base), rt);

  it('mapping network agrees', async () => {
    const z = new Rng(21).normals(B * base.zDim);
    const ours = await gen.mapping(z, B);
    const ref = referenceMapping(tensors, base, z, B);
    const { maxDiff, scale } = maxAbsDiff(ours, ref);
    console.log(`mapping: max |diff| ${maxDiff.toExponential(3)}, max |w| ${scale.toFixed(3)}`);
    expect(std(ref)).toBeGreaterThan(0.05);
    expect(maxDiff).toBeLessThanOrEqual(1e-3 * Math.max(1, scale));
  });

  for (const convClamp of [null, 0.5]) {
    it(`rendered images agree with distinct W+ rows (conv_clamp ${convClamp})`, async () => {
      const arch = { ...base, convClamp };
      const g = convClamp === null ? gen : new Generator(bundleFor(arch), rt);
      const wplus = await distinctWPlus(gen, 31);
      const n = numWs(base);
      // The rows really differ (not a broadcast w).
      let rowDiff = 0;
      for (let j = 0; j < base.wDim; j++) rowDiff += Math.abs(wplus[j]! - wplus[base.wDim + j]!);
      expect(rowDiff / base.wDim).toBeGreaterThan(0.01);

      const ours = await g.render(wplus, B);
      const trace: ReferenceTrace = { clamped: 0, clampTotal: 0 };
      const ref = referenceSynthesis(tensors, arch, wplus, B, { trace });
      const { maxDiff, scale } = maxAbsDiff(ours, ref);
      console.log(`render (clamp ${convClamp}): max |diff| ${maxDiff.toExponential(3)}, max |img| ${scale.toFixed(3)}, std ${std(ref).toFixed(3)}, clamped ${trace.clamped}/${trace.clampTotal}`);
      expect(ours.length).toBe(B * 3 * 32 * 32);
      expect(std(ref)).toBeGreaterThan(0.05);
      expect(std(ours)).toBeGreaterThan(0.05);
      expect(maxDiff).toBeLessThanOrEqual(1e-3 * Math.max(1, scale));
      if (convClamp !== null) {
        expect(trace.clamped / trace.clampTotal).toBeGreaterThan(0.01); // clamping really happens (about 4% here)
        const unclamped = referenceSynthesis(tensors, base, wplus, B);
        expect(maxAbsDiff(new Float32Array(unclamped), ref).maxDiff).toBeGreaterThan(0.05);
      }
      // W+ rows are used per layer: the same w broadcast to every row renders something else.
      // The builder's fused grouped form (the official formulation) agrees too.
      const gg = new Graph();
      const grouped = serialize(gg, [{ name: 'img', value: g.net.render(gg, gg.input('wplus', [B, n, base.wDim]), { form: 'grouped' }) }]);
      const oursGrouped = (await rt.run(grouped, { wplus: { data: wplus, dims: [B, n, base.wDim] } })).img!.data;
      const dg = maxAbsDiff(oursGrouped, ref);
      console.log(`render grouped form (clamp ${convClamp}): max |diff| ${dg.maxDiff.toExponential(3)}`);
      expect(dg.maxDiff).toBeLessThanOrEqual(1e-3 * Math.max(1, scale));
      const bcast = new Float32Array(wplus.length);
      for (let b = 0; b < B; b++) for (let j = 0; j < n; j++) bcast.set(wplus.subarray(b * n * base.wDim, (b * n + 1) * base.wDim), (b * n + j) * base.wDim);
      expect(maxAbsDiff(new Float32Array(referenceSynthesis(tensors, arch, bcast, B)), ref).maxDiff).toBeGreaterThan(0.01);
    });
  }
});

describe('reference self-consistency (official fast paths vs generic paths)', () => {
  const rng = new Rng(5);
  const t = (shape: number[]) => ({ data: Float64Array.from(rng.normals(shape.reduce((a, b) => a * b, 1))), shape });
  const f = setupFilter([1, 3, 3, 1]);
  const maxAbsDiff = (a: Float64Array, b: Float64Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

  it('conv2d_resample transposed-conv up path equals upfirdn2d(up=2) + conv, for both weight flips and groups', () => {
    const x = t([1, 6, 5, 5]);
    const w = t([4, 3, 3, 3]);
    for (const flipWeight of [true, false]) {
      const fast = conv2dResample(x, w, { f, up: 2, padding: 1, groups: 2, flipWeight });
      const slow = conv2dResample(x, w, { f, up: 2, padding: 1, groups: 2, flipWeight, generic: true });
      expect(fast.shape).toEqual([1, 4, 10, 10]);
      expect(maxAbsDiff(fast.data, slow.data)).toBeLessThan(1e-12);
    }
  });

  it('fused and non-fused modulated_conv2d agree', () => {
    const x = t([2, 3, 4, 4]);
    const w = t([5, 3, 3, 3]);
    const s = t([2, 3]);
    const noise = t([8, 8]);
    const a = modulatedConv2d(x, w, s, { up: 2, padding: 1, resampleFilter: f, flipWeight: false, noise });
    const b = modulatedConv2d(x, w, s, { up: 2, padding: 1, resampleFilter: f, flipWeight: false, noise, fusedModconv: false });
    expect(maxAbsDiff(a.data, b.data)).toBeLessThan(1e-12);
  });

  it('upsample2d keeps a constant image constant away from the border', () => {
    const x = { data: new Float64Array(2 * 6 * 6).fill(1.5), shape: [1, 2, 6, 6] };
    const y = upsample2d(x, f);
    expect(y.shape).toEqual([1, 2, 12, 12]);
    for (let c = 0; c < 2; c++) for (let i = 2; i < 10; i++) for (let j = 2; j < 10; j++) expect(y.data[(c * 12 + i) * 12 + j]).toBeCloseTo(1.5, 12);
  });
});
