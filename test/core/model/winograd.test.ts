// Winograd F(4x4, 3x3), the editor's moving preview: the graph against the direct ONNX Conv on
// random data, and a preview render against the independent float64 reference synthesis.
import { describe, expect, it } from 'vitest';
import { ParamDecoder } from '../../../src/core/encode/decoder';
import { maxLevelDiff, standInBasis } from '../../../src/core/encode/step-bench';
import { Graph } from '../../../src/core/graph/graph';
import { serialize } from '../../../src/core/graph/serialize';
import { makeArchitecture, numWs } from '../../../src/core/model/architecture';
import { PARAM_COUNT } from '../../../src/core/model/basis';
import { inMemoryBundle, seededTensors } from '../../../src/core/model/create';
import { StyleGan2 } from '../../../src/core/model/stylegan2';
import { winogradConv3x3, winogradPays, winogradWeights } from '../../../src/core/model/winograd';
import { Runtime } from '../../../src/core/runtime';
import { Rng } from '../../../src/core/util/random';
import { referenceSynthesis } from '../../reference/stylegan2-reference';
import { maxAbsDiff } from '../../helpers';

describe('Winograd F(4x4, 3x3) convolution', () => {
  it('equals the direct zero-padded 3x3 convolution, batch and channels included', async () => {
    const rt = await Runtime.create({ device: 'cpu' });
    const rng = new Rng(11);
    for (const [b, ci, co, h] of [
      [2, 6, 5, 12],
      [1, 3, 7, 4],
      [3, 16, 8, 16]
    ] as const) {
      const w = Float32Array.from(rng.normals(co * ci * 9, 0.3));
      const x = Float32Array.from(rng.normals(b * ci * h * h, 1));
      const g = new Graph();
      const xv = g.input('x', [b, ci, h, h]);
      const direct = g.conv(xv, g.weight('w', w, [co, ci, 3, 3]), { pads: [1, 1, 1, 1] });
      const wino = winogradConv3x3(g, xv, g.weight('u', winogradWeights(w, co, ci), [36, co, ci]));
      expect(wino.shape).toEqual([b, co, h, h]);
      const out = await rt.run(serialize(g, [{ name: 'direct', value: direct }, { name: 'wino', value: wino }]), { x: { data: x, dims: [b, ci, h, h] } });
      const { maxDiff: worst, scale } = maxAbsDiff(out.wino!.data, out.direct!.data);
      expect(scale).toBeGreaterThan(1);
      expect(worst / scale, `${b}x${ci}->${co} at ${h}`).toBeLessThan(2e-5);
    }
    // A single tap lands where the correlation puts it: output (r, c) reads input (r+dy-1, c+dx-1).
    const w = new Float32Array(9);
    w[0] = 1; // top-left tap
    const g = new Graph();
    const xv = g.input('x', [1, 1, 8, 8]);
    const y = winogradConv3x3(g, xv, g.weight('u', winogradWeights(w, 1, 1), [36, 1, 1]));
    const x = new Float32Array(64).map((_, i) => i);
    const out = (await rt.run(serialize(g, [{ name: 'y', value: y }]), { x: { data: x, dims: [1, 1, 8, 8] } })).y!.data;
    expect(out[0]).toBeCloseTo(0, 5); // reads the zero padding
    expect(out[9]).toBeCloseTo(0, 4); // (1,1) reads (0,0) = 0
    expect(out[8 * 5 + 6]).toBeCloseTo(8 * 4 + 5, 3); // (5,6) reads (4,5)
  });

  it('refuses shapes it cannot tile, and pays only on wide layers of 16 px or more', () => {
    expect(() => winogradWeights(new Float32Array(10), 1, 1)).toThrow('expected 1x1x3x3 weights');
    const g = new Graph();
    const x = g.input('x', [1, 2, 6, 6]);
    expect(() => winogradConv3x3(g, x, g.weight('u', new Float32Array(36 * 2), [36, 1, 2]))).toThrow('multiple of 4');
    expect([winogradPays(512, 64), winogradPays(128, 16), winogradPays(512, 8), winogradPays(64, 256)]).toEqual([true, true, false, false]);
  });
});

describe("the editor's moving preview", () => {
  it('renders the skip image of the reference synthesis at 16 and 32 px through Winograd convs', async () => {
    // 128 channels at 16 and 32 px: wide enough that the preview takes the Winograd path.
    const arch = makeArchitecture({ resolution: 64, channelBase: 4096, channelMax: 128, zDim: 32, wDim: 32, mappingLayers: 2 });
    expect(arch.channels[32]).toBe(128);
    const tensors = seededTensors(arch, 9);
    const net = new StyleGan2(inMemoryBundle(arch, tensors, 'wino'));
    const rt = await Runtime.create({ device: 'cpu' });
    const L = numWs(arch);
    const wplus = new Rng(4).normals(L * arch.wDim, 0.7);
    const skips = new Map<number, Float64Array>();
    referenceSynthesis(tensors, arch, wplus, 1, { skipImages: skips });
    for (const r of [16, 32]) {
      const g = new Graph();
      const w = g.input('wplus', [1, L, arch.wDim]);
      const model = serialize(g, [{ name: 'image', value: net.render(g, w, { maxResolution: r, winograd: true }) }]);
      expect(Buffer.from(model.bytes).includes('.winograd')).toBe(true);
      const img = (await rt.run(model, { wplus: { data: wplus, dims: [1, L, arch.wDim] } })).image!;
      expect(img.dims).toEqual([1, 3, r, r]);
      const { maxDiff: worst, scale } = maxAbsDiff(img.data, skips.get(r)!);
      expect(scale).toBeGreaterThan(0.05);
      expect(worst / scale).toBeLessThan(1e-4);
    }
  });

  it('differs from the exact render by at most one 8-bit level, and only the preview graph uses Winograd', async () => {
    const arch = makeArchitecture({ resolution: 64, channelBase: 4096, channelMax: 128, zDim: 32, wDim: 32, mappingLayers: 2 });
    const net = new StyleGan2(inMemoryBundle(arch, seededTensors(arch, 21), 'wino2'));
    const dec = new ParamDecoder(net, standInBasis(net));
    const rt = await Runtime.create({ device: 'cpu' });
    const wid = new Float32Array(dec.numWs * dec.wDim).map((_, i) => net.wAvg[i % dec.wDim]!);
    const params = Float32Array.from(new Rng(8).normals(2 * PARAM_COUNT, 1));
    const feeds = { wid: { data: wid, dims: [1, dec.numWs, dec.wDim] }, params: { data: params, dims: [2, PARAM_COUNT] } };
    const preview = dec.renderGraph(2, 32, { preview: true });
    const exact = dec.renderGraph(2, 32);
    expect(Buffer.from(preview.bytes).includes('.winograd')).toBe(true);
    expect(Buffer.from(exact.bytes).includes('.winograd')).toBe(false);
    expect(Buffer.from(dec.renderGraph(2, 64).bytes).includes('.winograd')).toBe(false);
    const a = (await rt.run(preview, feeds)).image!.data as Float32Array;
    const b = (await rt.run(exact, feeds)).image!.data as Float32Array;
    expect(a.length).toBe(2 * 3 * 32 * 32);
    const { maxDiff: worst } = maxAbsDiff(a, b);
    expect(worst).toBeGreaterThan(0); // a different computation...
    expect(worst).toBeLessThan(1e-4); // ...of the same image
    expect(maxLevelDiff(a, b, 32)).toBeLessThanOrEqual(1);
    expect(maxLevelDiff(a, new Float32Array(a.length), 32)).toBeGreaterThan(10); // the measure sees a real difference
  });
});
