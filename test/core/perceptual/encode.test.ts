// The encoder with LPIPS-VGG (METHOD.md: perceptual + lambda * pixel): with a perceptual
// bundle beside the model, the inversion, joint and per-frame losses are LPIPS + 10 * MSE
// instead of the MS-SSIM proxy, a few optimiser steps reduce LPIPS, the encode job records
// which weights it used, and the evaluation reports LPIPS. Fixture weights (tiny VGG16-shaped).
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ParamDecoder } from '../../../src/core/encode/decoder';
import { runEncodeJob } from '../../../src/core/encode/job';
import { faceWeightMap } from '../../../src/core/encode/losses';
import { Evaluator, invertFrames } from '../../../src/core/encode/optimize';
import { DEFAULT_LOSS, qualitySchedule } from '../../../src/core/encode/schedule';
import { makeTruth, writeSynthClip } from '../../../src/core/encode/synth';
import { evaluateProject } from '../../../src/core/metrics/evaluate';
import { EditBasis, loadBasis } from '../../../src/core/model/basis';
import { ModelBundle } from '../../../src/core/model/bundle';
import { Generator } from '../../../src/core/model/generator';
import { PerceptualBundle } from '../../../src/core/perceptual/bundle';
import { findPerceptualBundle } from '../../../src/core/perceptual/find';
import { importPerceptual } from '../../../src/core/perceptual/import';
import { lpipsDistances } from '../../../src/core/perceptual/metric';
import { openProject } from '../../../src/core/project';
import { FrameRenderer } from '../../../src/core/render/render';
import { Runtime } from '../../../src/core/runtime';
import { calibratedSeededModel, repoRoot, smallSchedule, tempDir } from '../../helpers';

const fx = join(repoRoot, 'test', 'fixtures', 'perceptual');
const tmp = tempDir('lpips-encode');
let rt: Runtime;
let bundle: ModelBundle;
let basis: EditBasis;
let perceptual: PerceptualBundle;
let gen: Generator;

beforeAll(async () => {
  rt = await Runtime.create({ device: 'cpu' });
  bundle = await calibratedSeededModel(join(tmp, 'models', 'seeded-64'), rt);
  basis = loadBasis(bundle);
  gen = new Generator(bundle, rt);
  await importPerceptual({ vgg: join(fx, 'vgg16-tiny.pth'), lpips: join(fx, 'lpips-heads-tiny.pth'), out: join(tmp, 'models', 'perceptual', 'lpips-vgg') });
  perceptual = findPerceptualBundle(bundle.dir)!;
}, 600_000);

function weightedMse(x: Float32Array, y: Float32Array, res: number): number {
  const w = faceWeightMap(res);
  let s = 0;
  for (let i = 0; i < x.length; i++) s += (x[i]! - y[i]!) ** 2 * w[i % (res * res)]!;
  return s / x.length;
}

describe('encoder with LPIPS-VGG', () => {
  it('finds the bundle beside the model', () => {
    expect(perceptual).not.toBeNull();
    expect(perceptual.dir).toBe(join(tmp, 'models', 'perceptual', 'lpips-vgg'));
  });

  it('inverts with LPIPS + 10 * pixel: the graph loss is that sum, and 20 steps reduce LPIPS', async () => {
    const res = bundle.manifest.architecture.resolution;
    const truth = await makeTruth(gen, { seed: 3, frames: 1 });
    const target = await gen.render(truth.wid, 1);
    const dec = new ParamDecoder(gen.net, basis, perceptual.net);
    const L = dec.numWs;
    const D = dec.wDim;
    const start = new Float32Array(L * D).map((_, i) => gen.net.wAvg[i % D]!);
    // The loss sees the render clamped to -1..1.
    const startImg = (await gen.render(start, 1)).map((v) => Math.max(-1, Math.min(1, v)));
    const lp0 = (await lpipsDistances(rt, perceptual.net, startImg, target, 1, res, res))[0]!;
    const graphLoss = (await rt.run(dec.inversionGraph(1, DEFAULT_LOSS), { wplus: { data: start, dims: [1, L, D] }, target: { data: target, dims: [1, 3, res, res] } })).loss!.data[0]!;
    const expected = lp0 + DEFAULT_LOSS.pixel * weightedMse(startImg, target, res);
    expect(Math.abs(graphLoss - expected) / expected).toBeLessThan(1e-4);
    // Without the perceptual weights the same decoder settings build the MS-SSIM graph.
    const plain = new ParamDecoder(gen.net, basis);
    expect(plain.inversionGraph(1, DEFAULT_LOSS).hash).not.toBe(dec.inversionGraph(1, DEFAULT_LOSS).hash);

    const invert = qualitySchedule('normal').stages.find((st) => st.id === 'invert')!;
    invert.stop = { maxEvaluations: 21 };
    invert.optimiser = { kind: 'adam', wLr: 0.05 };
    const losses: number[] = [];
    const inv = await invertFrames(new Evaluator(dec, rt, DEFAULT_LOSS), [invert], target, 1, (_, p) => losses.push(p.loss));
    const endImg = (await gen.render(inv.wplus, 1)).map((v) => Math.max(-1, Math.min(1, v)));
    const lp1 = (await lpipsDistances(rt, perceptual.net, endImg, target, 1, res, res))[0]!;
    console.log(`LPIPS inversion (seeded-64, fixture VGG): loss ${losses[0]!.toFixed(4)} -> ${inv.losses[0]!.toFixed(4)}, LPIPS ${lp0.toFixed(4)} -> ${lp1.toFixed(4)} in 20 steps`);
    expect(inv.losses[0]!).toBeLessThan(0.8 * losses[0]!);
    expect(lp1).toBeLessThan(lp0);
  }, 300_000);

  it('encode job uses the bundle and records it; eval reports LPIPS per frame', async () => {
    const truth = await makeTruth(gen, { seed: 4, frames: 4 });
    const video = join(tmp, 'clip.mp4');
    await writeSynthClip(new ParamDecoder(gen.net, basis), rt, truth, video, 25);
    const schedule = smallSchedule({ invert: 10, refine: 0, params: 4 }, { candidates: 1 });
    const dir = join(tmp, 'p.stylecast');
    const r = await runEncodeJob({ video, bundle, basis, rt, projectDir: dir, align: 'none', schedule });
    expect(r.framesEncoded).toBe(4);
    const project = await openProject(dir);
    expect((project.doc.encoding.settings as { perceptual?: { id: string } }).perceptual?.id).toBe(perceptual.manifest.id);
    const report = await evaluateProject({ project, renderer: new FrameRenderer(bundle, basis, rt) });
    expect(report.lpips).not.toBeNull();
    expect(report.perFrame.lpips).toHaveLength(4);
    for (const v of report.perFrame.lpips!) expect(v).toBeGreaterThan(0);
    const none = await evaluateProject({ project, renderer: new FrameRenderer(bundle, basis, rt), perceptual: null });
    expect(none.lpips).toBeNull();
    expect(none.psnr.median).toBeCloseTo(report.psnr.median, 10);

    // perceptual: null keeps the MS-SSIM proxy and records nothing.
    const dir2 = join(tmp, 'q.stylecast');
    await runEncodeJob({ video, bundle, basis, rt, projectDir: dir2, align: 'none', schedule, perceptual: null });
    expect('perceptual' in (await openProject(dir2)).doc.encoding.settings).toBe(false);
  }, 600_000);
});
