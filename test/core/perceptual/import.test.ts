// Importing LPIPS-VGG: the key spellings found in the wild are accepted, and anything that
// is not a VGG16 + matching LPIPS heads is refused with a message naming the file and tensor.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readStateDict } from '../../../src/core/model/import';
import { importPerceptual } from '../../../src/core/perceptual/import';
import { StateDict, lpipsFromStateDicts } from '../../../src/core/perceptual/statedict';
import { repoRoot, tempDir } from '../../helpers';

const fx = join(repoRoot, 'test', 'fixtures', 'perceptual');
const where = { vgg: 'vgg.pth', lpips: 'heads.pth' };
let vgg: StateDict;
let heads: StateDict;
const tmp = tempDir('lpips-import');

beforeAll(async () => {
  vgg = await readStateDict(join(fx, 'vgg16-tiny.pth'));
  heads = await readStateDict(join(fx, 'lpips-heads-tiny.pth'));
});

const renamed = (sd: StateDict, f: (k: string) => string | null): StateDict =>
  new Map([...sd].flatMap(([k, v]) => {
    const n = f(k);
    return n === null ? [] : [[n, v] as const];
  }));

describe('LPIPS-VGG import from state dicts', () => {
  it('reads the torchvision layout and ignores the classifier', () => {
    expect(vgg.has('classifier.0.weight')).toBe(true);
    const w = lpipsFromStateDicts(vgg, heads, where);
    expect(w.convs.map((c) => c.shape[0])).toEqual([4, 4, 6, 6, 8, 8, 8, 10, 10, 10, 12, 12, 12]);
    expect(w.convs[2]!.weight).toBe(vgg.get('features.5.weight')!.data);
    expect(w.lins[3]).toBe(heads.get('lin3.model.1.weight')!.data);
  });

  it('accepts the other spellings of the heads and a whole LPIPS state dict as the trunk', () => {
    for (const f of [(k: string) => k.replace('.model.1', ''), (k: string) => k.replace('.model.1', '.model.0'), (k: string) => k.replace(/^lin(\d)/, 'lins.$1'), (k: string) => `module.${k}`]) {
      const w = lpipsFromStateDicts(vgg, renamed(heads, f), where);
      expect(w.lins[4]).toBe(heads.get('lin4.model.1.weight')!.data);
    }
    // lpips.LPIPS().state_dict(): net.slice{s}.{features index}.weight
    const stage = (i: number) => (i < 4 ? 1 : i < 9 ? 2 : i < 16 ? 3 : i < 23 ? 4 : 5);
    const lp = renamed(vgg, (k) => {
      const m = /^features\.(\d+)\.(weight|bias)$/.exec(k);
      return m ? `net.slice${stage(Number(m[1]))}.${m[1]}.${m[2]}` : null;
    });
    const w = lpipsFromStateDicts(lp, heads, where);
    expect(w.convs[12]!.weight).toBe(vgg.get('features.28.weight')!.data);
  });

  it('refuses a missing conv, a wrong shape, heads of the wrong width or sign, and swapped files', () => {
    const without = renamed(vgg, (k) => (k === 'features.19.bias' ? null : k));
    expect(() => lpipsFromStateDicts(without, heads, where)).toThrow(/vgg\.pth: VGG16 conv features\.19 is missing its bias/);

    const bad = new Map(vgg);
    const t = vgg.get('features.10.weight')!;
    bad.set('features.10.weight', { shape: [8, 6, 1, 9], data: t.data });
    expect(() => lpipsFromStateDicts(bad, heads, where)).toThrow(/features\.10\.weight has shape \[8,6,1,9\], VGG16 needs \[C_out, 6, 3, 3\]/);

    const chain = new Map(vgg);
    chain.set('features.12.weight', { shape: [8, 7, 3, 3], data: new Float32Array(8 * 7 * 9) });
    expect(() => lpipsFromStateDicts(chain, heads, where)).toThrow(/features\.12\.weight has shape \[8,7,3,3\]/);

    const wide = new Map(heads);
    wide.set('lin2.model.1.weight', { shape: [1, 9, 1, 1], data: new Float32Array(9) });
    expect(() => lpipsFromStateDicts(vgg, wide, where)).toThrow(/heads\.pth: lin2\.model\.1\.weight has shape \[1,9,1,1\], expected \[1, 8, 1, 1\]/);

    const neg = new Map(heads);
    neg.set('lin0.model.1.weight', { shape: [1, 4, 1, 1], data: Float32Array.from([0.1, -0.2, 0.1, 0.1]) });
    expect(() => lpipsFromStateDicts(vgg, neg, where)).toThrow(/lin0\.model\.1\.weight has a negative or non-finite weight \(-0\.2/);

    const noHead = renamed(heads, (k) => (k.startsWith('lin4') ? null : k));
    expect(() => lpipsFromStateDicts(vgg, noHead, where)).toThrow(/heads\.pth: LPIPS head lin4 is missing/);

    expect(() => lpipsFromStateDicts(heads, vgg, where)).toThrow(/vgg\.pth: no VGG16 weights .* this looks like the LPIPS heads file/);

    const bn = new Map(vgg);
    bn.delete('features.0.weight');
    bn.set('features.1.running_mean', { shape: [4], data: new Float32Array(4) });
    expect(() => lpipsFromStateDicts(bn, heads, where)).toThrow(/looks like VGG16-BN/);
  });

  it('imports from the .pth files and writes nothing when a file is refused', async () => {
    const out = join(tmp, 'bad');
    await expect(importPerceptual({ vgg: join(fx, 'lpips-heads-tiny.pth'), lpips: join(fx, 'vgg16-tiny.pth'), out })).rejects.toThrow(/no VGG16 weights/);
    expect(existsSync(out)).toBe(false);
    await expect(importPerceptual({ vgg: join(fx, 'image0.u8'), lpips: join(fx, 'lpips-heads-tiny.pth'), out })).rejects.toThrow();
    expect(existsSync(out)).toBe(false);
    const good = join(tmp, 'good');
    const r = await importPerceptual({ vgg: join(fx, 'vgg16-tiny.pth'), lpips: join(fx, 'lpips-heads-tiny.pth'), out: good });
    expect(r.tapChannels).toEqual([4, 6, 8, 10, 12]);
    expect(r.vgg.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(existsSync(join(good, 'weights.bin'))).toBe(true);
  });
});
