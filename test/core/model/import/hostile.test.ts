// Hostile and broken files are refused without running anything from them: each case names what
// it refused, leaves no sentinel behind and writes no bundle.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointError, importCheckpoint, readStateDict, readTorchFile } from '../../../../src/core/model/import';
import { mapAdaPickle, plain } from '../../../../src/core/model/import/ada';
import { PersistentObject } from '../../../../src/core/model/import/torch';
import { repoRoot, tempDir } from '../../../helpers';

const fixtures = join(repoRoot, 'test', 'fixtures', 'import');
// The sentinel the python-written fixtures (hostile-os-system.pt, ada-32.pkl's module source) would create if run.
const FIXTURE_SENTINEL = '/tmp/stylecast-import-fixture-sentinel';

const bin = (...parts: (string | number[] | Uint8Array)[]): Uint8Array =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p instanceof Uint8Array ? p : Uint8Array.from(p)))));
const u32 = (n: number): number[] => [n & 255, (n >> 8) & 255, (n >> 16) & 255, (n >>> 24) & 255];
const binunicode = (s: string): Uint8Array => bin('X', u32(Buffer.byteLength(s)), Buffer.from(s, 'utf8'));

async function refused(file: string, pattern: RegExp): Promise<string> {
  const out = join(tempDir('hostile-out'), 'model');
  const err = await importCheckpoint(file, out).then(
    () => null,
    (e: unknown) => e
  );
  expect(err).toBeInstanceOf(CheckpointError);
  expect((err as Error).message).toMatch(pattern);
  expect(existsSync(out)).toBe(false);
  return (err as Error).message;
}

describe('hostile pickles are refused and nothing runs', () => {
  it('os.system through GLOBAL (posix.system, protocol 2)', async () => {
    const dir = tempDir('hostile');
    const sentinel = join(dir, 'SENTINEL');
    const file = join(dir, 'evil.pkl');
    writeFileSync(file, bin([0x80, 2], 'cposix\nsystem\n', binunicode(`touch ${sentinel}`), [0x85], 'R.'));
    const msg = await refused(file, /refusing global "posix\.system"/);
    expect(msg).toContain('nothing from it was run');
    expect(existsSync(sentinel)).toBe(false);
  });

  it('builtins.eval through STACK_GLOBAL (protocol 4)', async () => {
    const dir = tempDir('hostile');
    const sentinel = join(dir, 'SENTINEL');
    const file = join(dir, 'evil.pkl');
    const code = `__import__('os').system('touch ${sentinel}')`;
    writeFileSync(file, bin([0x80, 4, 0x8c, 8], 'builtins', [0x8c, 4], 'eval', [0x93], binunicode(code), [0x85], 'R.'));
    await refused(file, /refusing global "builtins\.eval"/);
    expect(existsSync(sentinel)).toBe(false);
  });

  it('subprocess.Popen inside an otherwise valid state dict', async () => {
    const dir = tempDir('hostile');
    const sentinel = join(dir, 'SENTINEL');
    const file = join(dir, 'evil.pth');
    // {'weight': subprocess.Popen(['touch', sentinel])}
    writeFileSync(file, bin([0x80, 2], '}', binunicode('weight'), 'csubprocess\nPopen\n(', binunicode('touch'), binunicode(sentinel), 'l', [0x85], 'Rs.'));
    await refused(file, /refusing global "subprocess\.Popen"/);
    await expect(readStateDict(file)).rejects.toThrow(/subprocess\.Popen/);
    expect(existsSync(sentinel)).toBe(false);
  });

  it('a torch zip whose data.pkl calls os.system (written by torch.save)', async () => {
    expect(existsSync(FIXTURE_SENTINEL)).toBe(false);
    await refused(join(fixtures, 'hostile-os-system.pt'), /refusing global "posix\.system"/);
    await expect(readTorchFile(join(fixtures, 'hostile-os-system.pt'))).rejects.toThrow(/posix\.system/);
    expect(existsSync(FIXTURE_SENTINEL)).toBe(false);
  });

  it('allowed type names cannot be called, and extension-registry opcodes are refused', async () => {
    const dir = tempDir('hostile');
    const a = join(dir, 'call-type.pkl');
    writeFileSync(a, bin([0x80, 2], 'ctorch\nFloatStorage\n)R.'));
    await expect(readTorchFile(a)).rejects.toThrow(/"torch\.FloatStorage" may only be used as a type/);
    const b = join(dir, 'ext.pkl');
    writeFileSync(b, bin([0x80, 2, 0x82, 1], ')R.'));
    await expect(readTorchFile(b)).rejects.toThrow(/extension codes/);
  });

  it("the class source an NVlabs pickle carries stays text: importing ada-32.pkl runs none of it", async () => {
    const root = (await readTorchFile(join(fixtures, 'ada-32.pkl'))) as Map<string, unknown>;
    const g = root.get('G_ema') as { className: string; moduleSrc: string };
    expect(g.className).toBe('Generator');
    expect(g.moduleSrc).toContain(FIXTURE_SENTINEL); // the code that would create it is there...
    expect(existsSync(FIXTURE_SENTINEL)).toBe(false); // ...and never ran
  });
});

describe('files built to exhaust memory or time are refused', () => {
  // A legacy torch.save stream: magic number, format version 1001, system info, then `obj`.
  const legacy = (obj: Uint8Array) => bin([0x80, 2, 0x8a, 0x0a], Buffer.from('6cfc9c46f9206aa85019', 'hex'), '.', [0x80, 2, 0x4d, 0xe9, 0x03], '.', [0x80, 2], '}.', obj);
  // torch.storage._load_from_bytes(inner), as a pickle.
  const loadFromBytes = (inner: Uint8Array) => bin([0x80, 2], 'ctorch.storage\n_load_from_bytes\n', 'B', u32(inner.length), inner, [0x85], 'R.');

  it('one pickled buffer behind thousands of numpy arrays (a TensorFlow pickle holds its variables as arrays)', async () => {
    const dir = tempDir('hostile');
    const file = join(dir, 'arrays.pkl');
    // 1 MB of float32 (262,144 elements) memoised once, then rebuilt as 2,000 arrays: 4.2 GB as
    // float64 from a 1.1 MB file. Refused once the arrays pass 8 bytes an element times the file.
    const n = 262144;
    const raw = new Uint8Array(n * 4);
    const array = (first: boolean) =>
      bin(
        'cnumpy.core.multiarray\n_reconstruct\n', 'cnumpy\nndarray\n', 'K', [0], [0x85], 'C', [1], 'b', [0x87], 'R',
        '(', 'K', [1], 'J', u32(n), [0x85], 'cnumpy\ndtype\n', 'X', u32(2), 'f4', [0x89, 0x88, 0x87], 'R', [0x89],
        first ? bin('B', u32(raw.length), raw, 'q', [1]) : bin('h', [1]), 't', 'b'
      );
    const parts = [bin([0x80, 3], ']', '('), array(true)];
    for (let i = 1; i < 2000; i++) parts.push(array(false));
    parts.push(bin('e', '.'));
    const bomb = bin(...parts);
    writeFileSync(file, bomb);
    await refused(file, /numpy arrays would take more memory than a file of its size can hold/);
    // The same inside a legacy torch.save stream, and inside a stream embedded in a plain pickle.
    const legacyFile = join(dir, 'arrays.pt');
    writeFileSync(legacyFile, legacy(bomb));
    await refused(legacyFile, /numpy arrays would take more memory than a file of its size can hold/);
    const embedded = join(dir, 'embedded.pkl');
    writeFileSync(embedded, loadFromBytes(legacy(bomb)));
    await refused(embedded, /numpy arrays would take more memory than a file of its size can hold/);
  });

  it('storages nested inside saved storages deeper than any real checkpoint', async () => {
    const dir = tempDir('hostile');
    const file = join(dir, 'nested.pkl');
    // Each level's bytes are copied: a thousand levels of a 10 MB file would be 10 GB.
    let inner: Uint8Array = legacy(bin([0x80, 2], 'N.'));
    for (let level = 0; level < 3; level++) inner = legacy(loadFromBytes(inner));
    writeFileSync(file, loadFromBytes(inner));
    await refused(file, /storages nested more than 2 deep/);
  });

  it('init kwargs that hold themselves are copied in bounded time', () => {
    const kwargs = new Map<string, unknown>([['resolution', 1024]]);
    const list: unknown[] = [];
    for (let i = 0; i < 64; i++) list.push(list);
    kwargs.set('list', list);
    for (let i = 0; i < 62; i++) kwargs.set(`k${i}`, kwargs);
    const t0 = performance.now();
    const out = plain(kwargs) as Record<string, unknown>;
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(out.k0).toBeNull(); // the map met again
    expect(out.resolution).toBe(1024);
    expect((out.list as unknown[]).every((x) => x === null)).toBe(true);
  });
});

describe('broken files are refused with a clear reason', () => {
  it('a truncated zip (end cut off) and a zip cut inside the storages', async () => {
    const dir = tempDir('broken');
    const whole = readFileSync(join(fixtures, 'rosinality-32.pt'));
    const half = join(dir, 'half.pt');
    writeFileSync(half, whole.subarray(0, whole.length >> 1));
    await refused(half, /not a complete zip archive .*truncated/);
    // Keep the directory but drop bytes before it: entries point past the data that is there.
    const cut = Buffer.concat([whole.subarray(0, 4), whole.subarray(4 + 20000)]);
    const cutFile = join(dir, 'cut.pt');
    writeFileSync(cutFile, cut);
    await refused(cutFile, /central directory lies outside the file \(the file is truncated\)/);
  });

  it('a truncated pickle', async () => {
    const dir = tempDir('broken');
    const whole = readFileSync(join(fixtures, 'ada-32.pkl'));
    const file = join(dir, 'short.pkl');
    writeFileSync(file, whole.subarray(0, whole.length - 5000));
    await refused(file, /ends early|truncated/);
  });

  it('a tensor with the wrong shape', async () => {
    await refused(join(fixtures, 'rosinality-16-badshape.pt'), /"to_rgbs\.0\.conv\.weight" has shape \[1,3,5,1,1\], expected \[1,3,6,1,1\]/);
  });

  it('an unknown architecture: the ADA "orig" variant, and a state dict of something else', async () => {
    await refused(join(fixtures, 'ada-16-orig.pkl'), /architecture "orig"; only the "skip"/);
    const file = join(tempDir('broken'), 'other.pkl');
    writeFileSync(file, bin([0x80, 2], '}', binunicode('foo'), 'K', [1], 's.'));
    await refused(file, /not a StyleGAN2 checkpoint/);
  });

  it('will not overwrite a folder that is not a model bundle', async () => {
    const dir = tempDir('broken');
    const out = join(dir, 'precious');
    mkdirSync(out);
    writeFileSync(join(out, 'notes.txt'), 'keep me');
    copyFileSync(join(fixtures, 'rosinality-32.pt'), join(dir, 'g.pt'));
    await expect(importCheckpoint(join(dir, 'g.pt'), out)).rejects.toThrow(/not a model bundle folder/);
    expect(readFileSync(join(out, 'notes.txt'), 'utf8')).toBe('keep me');
  });
});

describe('cancellation', () => {
  it('an aborted import throws the typed cancellation error and writes no bundle', async () => {
    const out = join(tempDir('abort'), 'model');
    const ac = new AbortController();
    ac.abort();
    const err = await importCheckpoint(join(fixtures, 'rosinality-32.pt'), out, { signal: ac.signal }).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('CANCELLED');
    expect(existsSync(out)).toBe(false);
  });
});

describe('readStateDict', () => {
  it('reads a plain torch state dict by dotted names with shapes and float32 data', async () => {
    const sd = await readStateDict(join(fixtures, 'rosinality-32.pt'));
    const w = sd.get('g_ema.style.1.weight')!;
    expect(w.shape).toEqual([16, 16]);
    expect(w.data.length).toBe(256);
    // EqualLinear stores randn / lr_mul: values of order 100
    const rms = Math.sqrt(w.data.reduce((s, v) => s + v * v, 0) / w.data.length);
    expect(rms).toBeGreaterThan(50);
    expect(rms).toBeLessThan(200);
    expect(sd.get('latent_avg')!.shape).toEqual([16]);
    expect(sd.get('g_ema.noises.noise_0')!.shape).toEqual([1, 1, 4, 4]);
  });
});

describe('StyleGAN3 network pickles', () => {
  it('are named and refused: their classes share StyleGAN2-ADA names, their synthesis does not', async () => {
    const po = (cls: string, state: [string, unknown][]) => new PersistentObject(cls, new Map(state), '', 0);
    // The module tree of stylegan3's networks_stylegan3.Generator (stylegan3-t/-r), as persistence pickles it.
    const layers = new Map<string, unknown>([['input', po('SynthesisInput', [])], ['L0_36_512', po('SynthesisLayer', [])], ['L1_36_512', po('SynthesisLayer', [])]]);
    const G = po('Generator', [
      ['c_dim', 0],
      ['_modules', new Map<string, unknown>([['mapping', po('MappingNetwork', [['z_dim', 512], ['w_dim', 512], ['num_layers', 2]])], ['synthesis', po('SynthesisNetwork', [['_modules', layers]])]])]
    ]);
    expect(() => mapAdaPickle(new Map([['G_ema', G]]), 'stylegan3-t-ffhq-1024x1024.pkl')).toThrow(/a StyleGAN3 generator \(alias-free, stylegan3-t or -r\)/);
  });
});
