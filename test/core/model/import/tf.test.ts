// The TensorFlow pickle reader's refusals: each a clear message, read from the fixture's own objects
// with one thing changed (the render itself is checked in render.test.ts).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mapTfPickle } from '../../../../src/core/model/import/tf';
import { DataObject, openTorchFile } from '../../../../src/core/model/import/torch';
import { repoRoot } from '../../../helpers';

const fixture = join(repoRoot, 'test', 'fixtures', 'import', 'tf-32.pkl');

async function networks(): Promise<DataObject[]> {
  const f = await openTorchFile(fixture);
  await f.close();
  return f.root as DataObject[];
}

const gs = (nets: DataObject[]) => nets[2]!;
const varOf = (nets: DataObject[], scope: string, name: string) => ((nets[2]!.attrs.get('components') as Map<string, DataObject>).get(scope)!.attrs.get('variables') as [string, { shape: number[]; dtype: string }][]).find(([k]) => k === name)![1];
const comp = (net: DataObject, name: string) => (net.attrs.get('components') as Map<string, DataObject>).get(name)!;

describe('TensorFlow StyleGAN2 pickles', () => {
  it('reads Gs, not G, and names its architecture from the variables', async () => {
    const nets = await networks();
    expect(nets.map((n) => n.attrs.get('name'))).toEqual(['G', 'D', 'Gs']);
    const m = mapTfPickle(nets, 'tf-32.pkl');
    expect(m.arch).toEqual({ resolution: 32, zDim: 16, wDim: 16, mappingLayers: 2, mappingLrMul: 0.01, channels: { 4: 8, 8: 8, 16: 8, 32: 4 }, imgChannels: 3, convClamp: null });
    // The modulation bias carries the network's +1; Gs's first mapping bias, not G's (G's is 1 higher).
    const tfBias = (net: DataObject, scope: string, name: string) => (comp(net, scope).attrs.get('variables') as [string, { data: Float64Array }][]).find(([n]) => n === name)![1].data;
    const ours = m.tensors.get('synthesis.b8.conv1.affine.bias') as { data: Float32Array };
    expect(ours.data[0]).toBeCloseTo(tfBias(gs(nets), 'synthesis', '8x8/Conv1/mod_bias')[0]! + 1, 6);
    const fc0 = m.tensors.get('mapping.fc0.bias') as { data: Float32Array };
    expect(fc0.data[0]).toBeCloseTo(tfBias(gs(nets), 'mapping', 'Dense0/bias')[0]!, 3);
    expect(fc0.data[0]).not.toBeCloseTo(tfBias(nets[0]!, 'mapping', 'Dense0/bias')[0]!, 3);
    // A conv weight [kh, kw, in, out] becomes [out, in, kh, kw].
    const w = m.tensors.get('synthesis.b4.conv1.weight') as { shape: number[] };
    expect(w.shape).toEqual([8, 8, 3, 3]);
  });

  it("reads stylegan2-ada's TensorFlow pickles (G_synthesis under G_main), which share the variable names", async () => {
    const nets = await networks();
    comp(gs(nets), 'synthesis').attrs.set('build_func_name', 'G_synthesis');
    expect(mapTfPickle(nets, 'tf-32.pkl').arch.resolution).toBe(32);
  });

  it('refuses, before converting anything, a generator larger than its file could hold', async () => {
    // Memoised arrays can stand for many names; 8 bytes an element of the file bounds what is made.
    const nets = await networks();
    expect(() => mapTfPickle(nets, 'tf-32.pkl', 10_000)).toThrow(/its generator would take 32860 bytes, more than a file of its size can hold/);
  });

  it.each([
    ['StyleGAN1 (G_style)', (n: DataObject[]) => gs(n).attrs.set('build_func_name', 'G_style'), /not StyleGAN2's G_main/],
    ['another synthesis network', (n: DataObject[]) => comp(gs(n), 'synthesis').attrs.set('build_func_name', 'G_synthesis_stylegan_revised'), /only StyleGAN2's \(G_synthesis_stylegan2, or stylegan2-ada's G_synthesis\)/],
    ['a variable of another shape', (n: DataObject[]) => varOf(n, 'synthesis', '8x8/Conv1/mod_weight').shape.reverse(), /synthesis\.b8\.conv1\.affine\.weight: has shape \[8,16\], which in our layout is \[16,8\], not the \[8,16\] the architecture needs/],
    ['a variable of integers', (n: DataObject[]) => (varOf(n, 'synthesis', '8x8/Conv1/bias').dtype = '<i4'), /holds <i4 values, not floats/],
    ['the resnet architecture', (n: DataObject[]) => (gs(n).attrs.get('static_kwargs') as Map<string, unknown>).set('architecture', 'resnet'), /architecture "resnet"/],
    ['a conditional model', (n: DataObject[]) => (gs(n).attrs.get('static_kwargs') as Map<string, unknown>).set('label_size', 10), /conditional generators/],
    ['another resample kernel', (n: DataObject[]) => (gs(n).attrs.get('static_kwargs') as Map<string, unknown>).set('resample_kernel', [1, 1]), /resample kernel/],
    ['a resolution its variables do not reach', (n: DataObject[]) => (gs(n).attrs.get('static_kwargs') as Map<string, unknown>).set('resolution', 1024), /resolution 1024 but its variables end at 32x32/],
    ['a missing variable', (n: DataObject[]) => comp(gs(n), 'synthesis').attrs.set('variables', (comp(gs(n), 'synthesis').attrs.get('variables') as [string, unknown][]).filter(([k]) => k !== '16x16/Conv0_up/mod_bias')), /synthesis\/16x16\/Conv0_up\/mod_bias is missing/],
    ['an old pickle version', (n: DataObject[]) => gs(n).attrs.set('version', 3), /version 3/],
  ])('refuses %s', async (_what, change, message) => {
    const nets = await networks();
    change(nets);
    expect(() => mapTfPickle(nets, 'tf-32.pkl')).toThrow(message);
  });
});
