// LPIPS-VGG on our graph builder against an independent torch implementation
// (scripts/fixtures/lpips_fixture.py): a VGG16-shaped network with few channels, imported
// from real torch.save files through the same code as the official weights.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { gradients } from '../../../src/core/graph/autodiff';
import { runCheck } from '../../../src/core/graph/gradcheck';
import { Graph } from '../../../src/core/graph/graph';
import { serialize } from '../../../src/core/graph/serialize';
import { PerceptualBundle, loadPerceptualBundle } from '../../../src/core/perceptual/bundle';
import { perceptualChecks } from '../../../src/core/perceptual/checks';
import { findPerceptualBundle, perceptualCandidates } from '../../../src/core/perceptual/find';
import { importPerceptual } from '../../../src/core/perceptual/import';
import { LpipsVgg, lpipsInputSide, upsampleBilinear2 } from '../../../src/core/perceptual/lpips';
import { seededLpipsWeights } from '../../../src/core/perceptual/seeded';
import { lpipsDistances } from '../../../src/core/perceptual/metric';
import { Runtime } from '../../../src/core/runtime';
import { repoRoot, tempDir } from '../../helpers';

const fx = join(repoRoot, 'test', 'fixtures', 'perceptual');
const ref = JSON.parse(readFileSync(join(fx, 'reference.json'), 'utf8')) as {
  widths: number[];
  lpips: { value: number; perLayer: number[] };
  lpipsUpsampled: { value: number };
};
const image = (k: number) => Float32Array.from(readFileSync(join(fx, `image${k}.u8`)), (v) => v / 127.5 - 1);
const crop32 = (x: Float32Array) => {
  const o = new Float32Array(3 * 32 * 32);
  for (let c = 0; c < 3; c++) for (let y = 0; y < 32; y++) for (let i = 0; i < 32; i++) o[c * 1024 + y * 32 + i] = x[c * 4096 + y * 64 + i]!;
  return o;
};
const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

const tmp = tempDir('lpips');
let rt: Runtime;
let bundle: PerceptualBundle;

beforeAll(async () => {
  rt = await Runtime.create({ device: 'cpu' });
  await importPerceptual({ vgg: join(fx, 'vgg16-tiny.pth'), lpips: join(fx, 'lpips-heads-tiny.pth'), out: join(tmp, 'models', 'perceptual', 'lpips-vgg') });
  bundle = loadPerceptualBundle(join(tmp, 'models', 'perceptual', 'lpips-vgg'));
});

describe('LPIPS-VGG graph against the torch reference', () => {
  it('reads the channel widths from the tensors', () => {
    expect(bundle.net.widths).toEqual(ref.widths);
    expect(bundle.manifest.convChannels).toEqual([4, 4, 6, 6, 8, 8, 8, 10, 10, 10, 12, 12, 12]);
  });

  it('gives the reference distance (total and per layer) to 1e-4 and its gradient to 1e-3', async () => {
    const g = new Graph();
    const a = g.input('a', [1, 3, 64, 64]);
    const b = g.input('b', [1, 3, 64, 64]);
    const { total, perLayer } = bundle.net.distance(g, a, b, true);
    const [grad] = gradients(g, g.sumAll(total), [a]);
    const m = serialize(g, [{ name: 'd', value: total }, ...perLayer.map((v, i) => ({ name: `l${i}`, value: v })), { name: 'grad', value: grad! }]);
    const out = await rt.run(m, { a: { data: image(0), dims: [1, 3, 64, 64] }, b: { data: image(1), dims: [1, 3, 64, 64] } });
    const d = out.d!.data[0]!;
    console.log(`LPIPS fixture: ours ${d.toFixed(7)}, torch ${ref.lpips.value.toFixed(7)} (rel ${rel(d, ref.lpips.value).toExponential(1)})`);
    expect(rel(d, ref.lpips.value)).toBeLessThan(1e-4);
    ref.lpips.perLayer.forEach((v, i) => expect(rel(out[`l${i}`]!.data[0]!, v)).toBeLessThan(1e-4));

    const gref = new Float32Array(readFileSync(join(fx, 'grad0.f32')).buffer.slice(0));
    const gd = out.grad!.data;
    expect(gd.length).toBe(gref.length);
    let num = 0;
    let den = 0;
    let worst = 0;
    let scale = 0;
    for (let i = 0; i < gd.length; i++) {
      num += (gd[i]! - gref[i]!) ** 2;
      den += gref[i]! ** 2;
      worst = Math.max(worst, Math.abs(gd[i]! - gref[i]!));
      scale = Math.max(scale, Math.abs(gref[i]!));
    }
    console.log(`LPIPS gradient: relative L2 error ${Math.sqrt(num / den).toExponential(2)}, max abs error ${(worst / scale).toExponential(2)} of the largest component`);
    expect(Math.sqrt(num / den)).toBeLessThan(1e-3);
    expect(worst / scale).toBeLessThan(1e-3);
  });

  it('upsamples small crops bilinearly as torch does (32x32 crops -> 64) and matches the reference', async () => {
    const d = await lpipsDistances(rt, bundle.net, crop32(image(0)), crop32(image(1)), 1, 32, 32);
    expect(rel(d[0]!, ref.lpipsUpsampled.value)).toBeLessThan(1e-4);
    expect(lpipsInputSide(32)).toBe(64);
    expect(lpipsInputSide(16)).toBe(64);
    expect(lpipsInputSide(128)).toBe(128);
    expect(lpipsInputSide(1024)).toBe(256);
    expect(lpipsInputSide(512)).toBe(256);
  });

  it('bilinear x2 keeps a constant image constant and interpolates 1:3 between neighbours', async () => {
    const g = new Graph();
    const x = g.input('x', [1, 1, 2, 2]);
    const m = serialize(g, [{ name: 'y', value: upsampleBilinear2(g, x) }]);
    const y = (await rt.run(m, { x: { data: Float32Array.from([0, 4, 8, 12]), dims: [1, 1, 2, 2] } })).y!.data;
    // torch: F.interpolate([[0, 4], [8, 12]], scale_factor=2, bilinear, align_corners=False)
    expect(Array.from(y)).toEqual([0, 1, 3, 4, 2, 3, 5, 6, 6, 7, 9, 10, 8, 9, 11, 12]);
  });

  it('is per pair in a batch: zero for identical images, symmetric, and the reference for the fixture pair', async () => {
    const a0 = image(0);
    const a1 = image(1);
    const plane = a0.length;
    const A = new Float32Array(3 * plane);
    const B = new Float32Array(3 * plane);
    A.set(a0, 0); B.set(a1, 0);
    A.set(a1, plane); B.set(a0, plane);
    A.set(a0, 2 * plane); B.set(a0, 2 * plane);
    const d = await lpipsDistances(rt, bundle.net, A, B, 3, 64, 64);
    expect(rel(d[0]!, ref.lpips.value)).toBeLessThan(1e-4);
    expect(rel(d[1]!, ref.lpips.value)).toBeLessThan(1e-4);
    expect(Math.abs(d[2]!)).toBeLessThan(1e-9);
  });

  it('passes the finite-difference check through the whole network (seeded VGG16-shaped nets, three seeds each)', async () => {
    // The fixture network's own gradient is compared with torch autograd above; these check
    // the same graph code at other widths against central differences run through ORT.
    for (const widths of [[4, 5, 6, 6, 7], [8, 12, 16, 16, 16]]) {
      const [c] = perceptualChecks(new LpipsVgg(seededLpipsWeights(widths, 11), `seeded-${widths.join('-')}`));
      for (const seed of [1, 2, 3]) {
        const r = await runCheck(rt, c!, seed);
        expect(r.relError).toBeLessThan(1e-2);
        expect(Math.abs(r.analytic)).toBeGreaterThan(1e-3);
      }
    }
  });
});

describe('perceptual bundle', () => {
  it('stores exactly the imported tensors and records the source files', () => {
    const m = bundle.manifest;
    expect(m.format).toBe('stylecast-perceptual');
    expect(m.tensors.map((t) => t.name)).toContain('features.28.weight');
    expect(m.tensors.map((t) => t.name)).toContain('lin4.weight');
    expect((m.source as { vgg: { file: string } }).vgg.file).toBe('vgg16-tiny.pth');
    const last = bundle.net.weights.convs[12]!;
    expect(last.shape).toEqual([12, 12, 3, 3]);
  });

  it('refuses a corrupted weights file', () => {
    const dir = join(tmp, 'corrupt');
    cpSync(join(tmp, 'models', 'perceptual', 'lpips-vgg'), dir, { recursive: true });
    const w = join(dir, 'weights.bin');
    const bytes = readFileSync(w);
    bytes[100] ^= 0xff;
    writeFileSync(w, bytes);
    expect(() => loadPerceptualBundle(dir)).toThrow(/does not match its checksum/);
  });

  it('is found inside the model folder first, then beside it as perceptual/lpips-vgg, else not at all', () => {
    const model = join(tmp, 'models', 'seeded-64');
    expect(perceptualCandidates(model)).toEqual([join(model, 'perceptual'), join(tmp, 'models', 'perceptual', 'lpips-vgg')]);
    expect(findPerceptualBundle(model)?.manifest.id).toBe(bundle.manifest.id);
    expect(findPerceptualBundle(join(tmp, 'elsewhere', 'm'))).toBeNull();
  });
});
