// `stylecast bench`'s measuring core on a small seeded network: real sessions, real runs.
import { describe, expect, it } from 'vitest';
import { makeArchitecture } from '../../../src/core/model/architecture';
import { benchModel, benchRows, configFNet, median, synthesisGraphs } from '../../../src/core/model/bench';
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
  it('derives per-frame, CPU and batch-1 fields as worked out by hand', () => {
    // batch 1: forward 10 ms (cpu 18), vjp 30 ms (cpu 50); batch 4: forward 28 ms (cpu 60), vjp 72 ms (cpu 160).
    const rows = benchRows('m', 64, [1, 4], [{ wallMs: 10, cpuMs: 18 }, { wallMs: 28, cpuMs: 60 }], [{ wallMs: 30, cpuMs: 50 }, { wallMs: 72, cpuMs: 160 }], 5);
    expect(rows[1]).toEqual({
      model: 'm', resolution: 64, batch: 4, runs: 5,
      forwardMs: 28, vjpMs: 72,
      forwardMsPerFrame: 7, vjpMsPerFrame: 18,
      vjpOverForward: 72 / 28, // 2.571428...
      forwardCpuMsPerFrame: 15, vjpCpuMsPerFrame: 40,
      forwardVsBatch1: 0.7, vjpVsBatch1: 0.6
    });
    expect(rows[1]!.vjpOverForward).toBeCloseTo(2.5714285714, 9);
    expect([rows[0]!.forwardVsBatch1, rows[0]!.vjpVsBatch1, rows[0]!.vjpOverForward]).toEqual([1, 1, 3]);
    // Without batch 1 there is nothing to compare with.
    expect(benchRows('m', 64, [2], [{ wallMs: 8, cpuMs: 8 }], [{ wallMs: 20, cpuMs: 20 }], 1)[0]!.forwardVsBatch1).toBeNull();
    expect([median([5, 1, 3]), median([4, 1, 3, 2]), median([7])]).toEqual([3, 2.5, 7]);
  });

  it('times batch 1 and 2 interleaved on real runs', async () => {
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
      expect(r.forwardCpuMsPerFrame).toBeGreaterThan(0);
      expect(r.vjpCpuMsPerFrame).toBeGreaterThan(0);
    }
    expect(rows[0]!.forwardVsBatch1).toBe(1);
    expect(rows[1]!.forwardVsBatch1).toBeGreaterThan(0);
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
