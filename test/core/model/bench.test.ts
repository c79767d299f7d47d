// `stylecast bench`'s measuring core on a small seeded network: real sessions, real runs.
import { describe, expect, it } from 'vitest';
import { makeArchitecture } from '../../../src/core/model/architecture';
import { benchModel, configFNet, synthesisGraphs } from '../../../src/core/model/bench';
import { ModelBundle } from '../../../src/core/model/bundle';
import { seededTensors } from '../../../src/core/model/create';
import { StyleGan2 } from '../../../src/core/model/stylegan2';
import { Runtime } from '../../../src/core/runtime';

const arch = makeArchitecture({ resolution: 32, channelBase: 256, channelMax: 32, zDim: 32, wDim: 32, mappingLayers: 2 });
const bundle: ModelBundle = {
  dir: '(memory)',
  manifest: { format: 'stylecast-model', version: 1, id: 'bench-32', name: 'bench-32', architecture: arch, weights: { file: '', sha256: '', floats: 0 }, tensors: [] },
  tensors: seededTensors(arch, 3)
};

describe('bench', () => {
  it('times batch 1 and 2 interleaved and derives per-frame, CPU and batch-1 ratios from the same runs', async () => {
    const rt = await Runtime.create({ device: 'cpu' });
    const rows = await benchModel(rt, 'bench-32', new StyleGan2(bundle), [1, 2], 3);
    await rt.release();
    expect(rows.map((r) => [r.model, r.resolution, r.batch, r.runs])).toEqual([
      ['bench-32', 32, 1, 3],
      ['bench-32', 32, 2, 3]
    ]);
    for (const r of rows) {
      expect(r.forwardMs).toBeGreaterThan(0);
      expect(r.vjpMs).toBeGreaterThan(0);
      expect(r.forwardMsPerFrame).toBeCloseTo(r.forwardMs / r.batch, 9);
      expect(r.vjpMsPerFrame).toBeCloseTo(r.vjpMs / r.batch, 9);
      expect(r.vjpOverForward).toBeCloseTo(r.vjpMs / r.forwardMs, 9);
      expect(r.forwardCpuMsPerFrame).toBeGreaterThan(0);
      expect(r.vjpCpuMsPerFrame).toBeGreaterThan(0);
    }
    expect(rows[0]!.forwardVsBatch1).toBe(1);
    expect(rows[1]!.forwardVsBatch1).toBeCloseTo(rows[1]!.forwardMsPerFrame / rows[0]!.forwardMsPerFrame, 9);
    expect(rows[1]!.vjpVsBatch1).toBeCloseTo(rows[1]!.vjpMsPerFrame / rows[0]!.vjpMsPerFrame, 9);
  }, 120_000);

  it('times what it says: the forward graph renders the image, the VJP graph answers d/ds', () => {
    const net = new StyleGan2(bundle);
    const g = synthesisGraphs(net, 2);
    expect([g.forward.inputNames, g.forward.outputNames]).toEqual([['s'], ['image']]);
    expect([[...g.vjp.inputNames].sort(), g.vjp.outputNames]).toEqual([['cotangent', 's'], ['ds']]);
  });

  it('builds config-f with the true channel counts', () => {
    const net = configFNet(256);
    expect(net.arch.resolution).toBe(256);
    expect([4, 8, 16, 32, 64, 128, 256].map((r) => net.arch.channels[r])).toEqual([512, 512, 512, 512, 512, 256, 128]);
    expect(net.arch.mappingLayers).toBe(8);
    expect(net.numWs).toBe(14);
  });
});
