import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, renameSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeArchitecture, numWs, styleDim, styleLayers } from '../../../src/core/model/architecture';
import { loadBundle, writeBundle } from '../../../src/core/model/bundle';
import { seededTensors } from '../../../src/core/model/create';
import { CONFIG_F } from '../../../src/core/model/architecture';
import { tempDir } from '../../helpers';

const tmp = tempDir('bundle');

const arch = makeArchitecture({ resolution: 16, channelBase: 128, channelMax: 8, zDim: 16, wDim: 16, mappingLayers: 2 });

function fresh(name: string): string {
  const dir = join(tmp, name);
  writeBundle(dir, name, arch, seededTensors(arch, 4));
  return dir;
}

describe('architecture', () => {
  it('config-f at 1024 has 18 ws and 9088 StyleSpace channels, with the official ws order', () => {
    const a = CONFIG_F(1024);
    expect(numWs(a)).toBe(18);
    expect(styleDim(a)).toBe(9088);
    expect(a.channels).toEqual({ 4: 512, 8: 512, 16: 512, 32: 512, 64: 512, 128: 256, 256: 128, 512: 64, 1024: 32 });
    const l = styleLayers(a);
    expect(l.map((x) => x.wIndex).slice(0, 6)).toEqual([0, 1, 1, 2, 3, 3]);
    expect(l.at(-1)).toMatchObject({ name: 'synthesis.b1024.torgb', wIndex: 17 });
    expect(numWs(CONFIG_F(256))).toBe(14);
  });
  it('rejects resolutions outside 16..1024 or not powers of two', () => {
    expect(() => makeArchitecture({ resolution: 48 })).toThrow(/power of two/);
    expect(() => makeArchitecture({ resolution: 2048 })).toThrow(/16 to 1024/);
  });
});

describe('model bundles', () => {
  it('round-trips tensors exactly and derives a stable id', () => {
    const dir = fresh('ok');
    const b = loadBundle(dir);
    const t = seededTensors(arch, 4);
    for (const [name, data] of t) expect(b.tensors.get(name)).toEqual(data);
    const again = join(tmp, 'again');
    writeBundle(again, 'ok', arch, t);
    expect(loadBundle(again).manifest.id).toBe(b.manifest.id);
  });

  it('refuses a missing folder, a truncated or altered weights file, bad JSON, wrong shapes and a newer version', () => {
    expect(() => loadBundle(join(tmp, 'none'))).toThrow(/manifest.json is missing/);

    const trunc = fresh('trunc');
    truncateSync(join(trunc, 'weights.bin'), 100);
    expect(() => loadBundle(trunc)).toThrow(/corrupt or truncated/);

    const flipped = fresh('flipped');
    const w = readFileSync(join(flipped, 'weights.bin'));
    w[10] ^= 0xff;
    writeFileSync(join(flipped, 'weights.bin'), w);
    expect(() => loadBundle(flipped)).toThrow(/checksum/);

    const badJson = fresh('badjson');
    writeFileSync(join(badJson, 'manifest.json'), '{ nope');
    expect(() => loadBundle(badJson)).toThrow(/not valid JSON/);

    const shape = fresh('shape');
    const m = JSON.parse(readFileSync(join(shape, 'manifest.json'), 'utf8'));
    m.tensors[0].shape = [3, 3];
    writeFileSync(join(shape, 'manifest.json'), JSON.stringify(m));
    expect(() => loadBundle(shape)).toThrow(/mapping.fc0.weight" has shape \[3,3\]/);

    const newer = fresh('newer');
    const m2 = JSON.parse(readFileSync(join(newer, 'manifest.json'), 'utf8'));
    m2.version = 99;
    writeFileSync(join(newer, 'manifest.json'), JSON.stringify(m2));
    expect(() => loadBundle(newer)).toThrow(/newer than this app supports/);
  });

  it('reads only its own plain files: a weights name that leaves the folder, a link and a pipe are refused unread', () => {
    const withManifest = (name: string, edit: (m: { weights: { file: string } }) => void) => {
      const dir = fresh(name);
      const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
      edit(m);
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));
      return dir;
    };
    // A shared model folder naming /dev/zero: read whole, it would hang the app and exhaust its memory.
    expect(() => loadBundle(withManifest('escape', (m) => (m.weights.file = '../../../../../../dev/zero')))).toThrow(/"\.\.\/.*dev\/zero" is not a plain file name inside the folder/);
    expect(() => loadBundle(withManifest('absolute', (m) => (m.weights.file = '/etc/passwd')))).toThrow(/not a plain file name/);
    // weights.bin a link to a file outside, with the right size and checksum even: refused.
    const linked = fresh('linked');
    const outside = join(tmp, 'outside-weights.bin');
    renameSync(join(linked, 'weights.bin'), outside);
    symlinkSync(outside, join(linked, 'weights.bin'));
    expect(() => loadBundle(linked)).toThrow(/weights\.bin is a link/);
    // A pipe under the name: refused without blocking on its open.
    const piped = fresh('piped');
    rmSync(join(piped, 'weights.bin'));
    expect(spawnSync('mkfifo', [join(piped, 'weights.bin')]).status).toBe(0);
    expect(() => loadBundle(piped)).toThrow(/weights\.bin is not a regular file/);
  });

  it('rewrites a bundle in place through hidden temporary folders, leaving none behind', () => {
    const parent = join(tmp, 'rewrite');
    const dir = join(parent, 'm');
    writeBundle(dir, 'm', arch, seededTensors(arch, 4));
    const second = seededTensors(arch, 5);
    writeBundle(dir, 'm', arch, second);
    const b = loadBundle(dir);
    for (const [name, data] of second) expect(b.tensors.get(name)).toEqual(data);
    expect(readdirSync(parent)).toEqual(['m']);
    expect(readdirSync(dir).sort()).toEqual(['manifest.json', 'weights.bin']);
  });

  it('refuses to write a bundle with a missing or mis-sized tensor', () => {
    const t = seededTensors(arch, 1);
    t.delete('mapping.w_avg');
    expect(() => writeBundle(join(tmp, 'x'), 'x', arch, t)).toThrow(/mapping.w_avg" is missing/);
    const t2 = seededTensors(arch, 1);
    t2.set('mapping.w_avg', new Float32Array(3));
    expect(() => writeBundle(join(tmp, 'y'), 'y', arch, t2)).toThrow(/has 3 values/);
  });
});
