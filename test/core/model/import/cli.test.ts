// `stylecast import` and `stylecast generate` end to end on the ADA fixture: the --raw image equals
// the python reference for z (with truncation) and for the same w given as one w and as W+.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, tempDir } from '../../../helpers';

const fixtures = join(repoRoot, 'test', 'fixtures', 'import');
const tmp = tempDir('import-cli');

function cli(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'stylecast.mjs'), '--device', 'cpu', ...args], { cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      done({ status, stdout, stderr });
    });
  });
}

const f32 = (file: string): Float32Array => {
  const b = readFileSync(file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};
const maxAbsDiff = (a: Float32Array, b: Float32Array): number => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

describe('stylecast import / generate', () => {
  const model = join(tmp, 'models', 'ada32');
  const ref = JSON.parse(readFileSync(join(fixtures, 'ada-32.ref.json'), 'utf8')) as { z: number[]; w: number[]; truncation: number };
  const want = f32(join(fixtures, 'ada-32.ref.f32'));

  it('imports and reports what it found as one JSON object', async () => {
    const r = await cli('import', join(fixtures, 'ada-32.pkl'), '--out', model, '--json');
    expect(r.status, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout);
    expect(rep).toMatchObject({ format: 'stylegan2-ada-pickle', resolution: 32, numWs: 8, mappingLayers: 2, convClamp: 1, fp16Resolutions: [16, 32], wAvg: 'file', path: model });
    expect(existsSync(join(model, 'manifest.json'))).toBe(true);
  }, 120_000);

  it('generate --z with --truncation writes the reference image (PNG and raw float32 NCHW)', async () => {
    writeFileSync(join(tmp, 'z.json'), JSON.stringify(ref.z));
    const r = await cli('generate', '--model', model, '--z', 'z.json', '--truncation', String(ref.truncation), '--out', 'z.png', '--raw', 'z.f32', '--json');
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ shape: [1, 3, 32, 32], truncation: ref.truncation });
    const img = f32(join(tmp, 'z.f32'));
    expect(img.length).toBe(3 * 32 * 32);
    expect(maxAbsDiff(img, want)).toBeLessThan(1e-3);
    const png = readFileSync(join(tmp, 'z.png'));
    expect(png.subarray(1, 4).toString()).toBe('PNG');
  }, 120_000);

  it('generate --w takes one w (broadcast) or W+ (numWs x wDim) and refuses other lengths', async () => {
    writeFileSync(join(tmp, 'w.json'), JSON.stringify(ref.w));
    writeFileSync(join(tmp, 'wplus.json'), JSON.stringify(Array.from({ length: 8 }, () => ref.w)));
    const a = await cli('generate', '--model', model, '--w', 'w.json', '--out', 'w.png', '--raw', 'w.f32');
    expect(a.status, a.stderr).toBe(0);
    expect(maxAbsDiff(f32(join(tmp, 'w.f32')), want)).toBeLessThan(1e-3);
    const b = await cli('generate', '--model', model, '--w', 'wplus.json', '--out', 'wp.png', '--raw', 'wp.f32');
    expect(b.status, b.stderr).toBe(0);
    expect(maxAbsDiff(f32(join(tmp, 'wp.f32')), want)).toBeLessThan(1e-3);
    writeFileSync(join(tmp, 'bad.json'), JSON.stringify([1, 2, 3]));
    const c = await cli('generate', '--model', model, '--w', 'bad.json', '--out', 'bad.png');
    expect(c.status).toBe(2);
    expect(c.stderr).toMatch(/has 3 numbers; the model needs 16 \(one w\) or 128 \(W\+, 8 x 16\)/);
    expect(existsSync(join(tmp, 'bad.png'))).toBe(false);
  }, 180_000);

  it('import of a hostile file fails with the refused global and writes nothing', async () => {
    const r = await cli('import', join(fixtures, 'hostile-os-system.pt'), '--out', join(tmp, 'models', 'evil'));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/refusing global "posix\.system"/);
    expect(existsSync(join(tmp, 'models', 'evil'))).toBe(false);
  }, 120_000);
});
