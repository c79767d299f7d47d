// Each fixture written by scripts/fixtures/stylegan2_fixtures.py (python3-torch, genuine formats)
// imports and renders what the script's own torch forward rendered, to 1e-3.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadBundle } from '../../../../src/core/model/bundle';
import { Generator } from '../../../../src/core/model/generator';
import { broadcastW, truncate } from '../../../../src/core/model/stylegan2';
import { importCheckpoint } from '../../../../src/core/model/import';
import { Runtime } from '../../../../src/core/runtime';
import { repoRoot, tempDir } from '../../../helpers';

const fixtures = join(repoRoot, 'test', 'fixtures', 'import');

interface Ref {
  shape: number[];
  z: number[];
  truncation: number;
  w_avg?: number[];
  w?: number[];
}

function reference(name: string): { ref: Ref; img: Float32Array } {
  const ref = JSON.parse(readFileSync(join(fixtures, `${name}.ref.json`), 'utf8')) as Ref;
  const b = readFileSync(join(fixtures, `${name}.ref.f32`));
  return { ref, img: new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)) };
}

const maxAbsDiff = (a: Float32Array, b: Float32Array): number => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
const maxAbs = (a: Float32Array): number => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

async function renderFromZ(dir: string, rt: Runtime, z: number[], psi: number): Promise<{ img: Float32Array; w: Float32Array; gen: Generator }> {
  const bundle = loadBundle(dir);
  const gen = new Generator(bundle, rt);
  const a = bundle.manifest.architecture;
  const w = truncate(await gen.mapping(Float32Array.from(z), 1), gen.net.wAvg, psi);
  const img = await gen.render(broadcastW(w, 1, gen.net.numWs, a.wDim), 1);
  return { img, w, gen };
}

describe('imported checkpoints render like the reference implementation', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await Runtime.create({ device: 'cpu' });
  });

  it('rosinality .pt (torch zip, g_ema + latent_avg, 32x32) matches its reference to 1e-3', async () => {
    const out = join(tempDir('import'), 'ros32');
    const report = await importCheckpoint(join(fixtures, 'rosinality-32.pt'), out, { runtime: rt });
    expect(report).toMatchObject({ format: 'rosinality', container: 'torch-zip', resolution: 32, numWs: 8, zDim: 16, wDim: 16, mappingLayers: 3, convClamp: null, wAvg: 'file' });
    expect(report.channels).toEqual({ 4: 8, 8: 8, 16: 8, 32: 4 });
    const { ref, img: want } = reference('rosinality-32');
    const { img } = await renderFromZ(out, rt, ref.z, ref.truncation);
    expect(img.length).toBe(ref.shape.reduce((a, b) => a * b, 1));
    const d = maxAbsDiff(img, want);
    console.log(`rosinality-32: max |diff| ${d.toExponential(2)} over image max ${maxAbs(want).toFixed(3)}`);
    expect(maxAbs(want)).toBeGreaterThan(0.1);
    expect(d).toBeLessThan(1e-3);
  });

  it('rosinality train checkpoint (legacy torch.save, g/g_ema/args, no latent_avg) matches and estimates w_avg', async () => {
    const out = join(tempDir('import'), 'ros16');
    const report = await importCheckpoint(join(fixtures, 'rosinality-16-train.pt'), out, { runtime: rt });
    expect(report).toMatchObject({ format: 'rosinality', container: 'torch-legacy', resolution: 16, numWs: 6, wAvg: 'estimated' });
    expect(report.channels).toEqual({ 4: 8, 8: 6, 16: 4 });
    const { ref, img: want } = reference('rosinality-16-train');
    const { img, gen } = await renderFromZ(out, rt, ref.z, 1);
    expect(maxAbsDiff(img, want)).toBeLessThan(1e-3);
    // 4096 samples against the script's 100000: agreement to sampling error
    const wAvg = gen.net.wAvg;
    const err = Math.max(...ref.w_avg!.map((v, i) => Math.abs(v - wAvg[i]!)));
    const spread = Math.max(...ref.w_avg!.map(Math.abs));
    console.log(`estimated w_avg: max |err| ${err.toFixed(3)} (|w_avg| up to ${spread.toFixed(3)})`);
    expect(err).toBeLessThan(0.1 * Math.max(1, spread));
  });

  it('NVlabs ADA pickle (persistent objects, conv_clamp, fp16 blocks) matches its reference to 1e-3, and the clamp matters', async () => {
    const out = join(tempDir('import'), 'ada32');
    const report = await importCheckpoint(join(fixtures, 'ada-32.pkl'), out, { runtime: rt });
    expect(report).toMatchObject({ format: 'stylegan2-ada-pickle', container: 'pickle', resolution: 32, numWs: 8, mappingLayers: 2, convClamp: 1, fp16Resolutions: [16, 32], wAvg: 'file' });
    const { ref, img: want } = reference('ada-32');
    const { img, w, gen } = await renderFromZ(out, rt, ref.z, ref.truncation);
    // truncated w against the script's G.mapping(z, truncation_psi) output
    expect(maxAbsDiff(w, Float32Array.from(ref.w!))).toBeLessThan(1e-4);
    const d = maxAbsDiff(img, want);
    console.log(`ada-32: max |diff| ${d.toExponential(2)} over image max ${maxAbs(want).toFixed(3)}`);
    expect(d).toBeLessThan(1e-3);
    // Without the clamp the render departs from the reference: the fixture exercises conv_clamp.
    const b = gen.bundle;
    const unclamped = new Generator({ ...b, manifest: { ...b.manifest, id: 'unclamped', architecture: { ...b.manifest.architecture, convClamp: null } } }, rt);
    const img2 = await unclamped.render(broadcastW(w, 1, gen.net.numWs, 16), 1);
    expect(maxAbsDiff(img2, want)).toBeGreaterThan(0.05);
  });

  it('TensorFlow StyleGAN2 pickle ((G, D, Gs) Networks, numpy variables in TF layout) matches its TF-semantics reference to 1e-3', async () => {
    const out = join(tempDir('import'), 'tf32');
    const report = await importCheckpoint(join(fixtures, 'tf-32.pkl'), out, { runtime: rt });
    expect(report).toMatchObject({ format: 'stylegan2-tf-pickle', container: 'pickle', resolution: 32, numWs: 8, zDim: 16, wDim: 16, mappingLayers: 2, mappingLrMul: 0.01, convClamp: null, wAvg: 'file' });
    expect(report.channels).toEqual({ 4: 8, 8: 8, 16: 8, 32: 4 });
    const { ref, img: want } = reference('tf-32');
    const { img, w, gen } = await renderFromZ(out, rt, ref.z, ref.truncation);
    // Gs, not G: the fixture's G has another first mapping bias, which would move w.
    expect(maxAbsDiff(w, Float32Array.from(ref.w!))).toBeLessThan(1e-4);
    const d = maxAbsDiff(img, want);
    console.log(`tf-32: max |diff| ${d.toExponential(2)} over image max ${maxAbs(want).toFixed(3)}`);
    expect(maxAbs(want)).toBeGreaterThan(0.1);
    expect(d).toBeLessThan(1e-3 * Math.max(1, maxAbs(want)));
    // The up-convolutions' kernels must be flipped (legacy.py's [::-1, ::-1]): unflipped, the image departs.
    const b = gen.bundle;
    const tensors = new Map(b.tensors);
    for (const [name, t] of b.tensors) {
      if (!/\.conv0\.weight$/.test(name)) continue;
      const flipped = new Float32Array(t.length);
      for (let i = 0; i < t.length; i += 9) for (let k = 0; k < 9; k++) flipped[i + k] = t[i + 8 - k]!;
      tensors.set(name, flipped);
    }
    const unflipped = new Generator({ ...b, tensors, manifest: { ...b.manifest, id: 'unflipped' } }, rt);
    expect(maxAbsDiff(await unflipped.render(broadcastW(w, 1, gen.net.numWs, 16), 1), want)).toBeGreaterThan(0.05);
  });
});
