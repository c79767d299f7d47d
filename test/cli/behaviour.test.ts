// The CLI as Node CLIs behave: results on stdout, logs on stderr, one JSON object with
// --json, --version, exit codes 0/1/2 (commander's own errors included), lazy start-up,
// one import path, and output locations checked before any work.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createProject } from '../../src/core/project';
import { frameTimeSec, probeVideo, resolveFfmpeg } from '../../src/core/video';
import { clip, hasSharedData, repoRoot, tempDir } from '../helpers';
import { runCli } from './run-cli';

const tmp = tempDir('cli-behaviour');
const models = join(tmp, 'models');
const model = join(tmp, 'tiny-32');
const project = join(tmp, 'p.stylecast');
const hook = join(tmp, 'ort-hook.cjs');
const fixtures = join(repoRoot, 'test', 'fixtures', 'perceptual');

const cli = (...args: string[]) => runCli({ cwd: tmp, env: { STYLECAST_MODELS_DIR: models } }, ...args);

let created = '';
beforeAll(async () => {
  const m = await cli('--device', 'cpu', 'model', 'create', '--out', model, '--resolution', '32', '--channel-base', '256', '--channel-max', '16');
  expect(m.status, m.stderr).toBe(0);
  created = m.stdout;
  const video = join(tmp, 'source.mp4');
  writeFileSync(video, 'a stand-in source: info reads the project only');
  await createProject(project, {
    source: { path: video, width: 64, height: 64, fps: 25, fpsRational: '25/1', frameCount: 12, durationSec: 0.48, hasAudio: false },
    model: { id: '0123456789abcdef', name: 'seeded-64', resolution: 64 },
    encoding: { wDim: 512, paramNames: ['yaw', 'pitch', 'roll', ...Array.from({ length: 32 }, (_, i) => `a${i}`)], encodedThrough: 0 }
  });
  // Reports, at exit, whether onnxruntime-node was loaded (it is loaded through require).
  writeFileSync(hook, `process.on('exit', () => { if (Object.keys(require.cache).some((k) => k.includes('onnxruntime-node'))) process.stderr.write('ORT-LOADED\\n'); });`);
});

describe('stylecast exit codes and streams', () => {
  it('--version prints the package version and exits 0', async () => {
    const r = await cli('--version');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version);
  });

  it('no command prints help on stderr and exits 2; --help prints it on stdout and exits 0', async () => {
    const none = await cli();
    expect(none.status).toBe(2);
    expect(none.stdout).toBe('');
    expect(none.stderr).toMatch(/Usage: stylecast \[options\] \[command\]/);
    const group = await cli('models');
    expect(group.status).toBe(2);
    expect(group.stderr).toMatch(/Usage: stylecast models/);
    const help = await cli('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/encode \[options\] <video>/);
  });

  it("commander's own errors and our usage errors exit 2; a failure exits 1", async () => {
    for (const args of [['frobnicate'], ['info'], ['info', project, '--bogus'], ['encode', 'x.mp4'], ['encode', 'x.mp4', '--out', join(tmp, 'y.stylecast'), '--frames', '5:2']]) {
      const r = await cli(...args);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stdout).toBe('');
    }
    const missing = await cli('info', join(tmp, 'nothing.stylecast'));
    expect(missing.status).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/^stylecast: error: .*nothing\.stylecast/);
  });

  it('info prints text on stdout, or exactly one JSON object with --json, and nothing on stderr', async () => {
    const text = await cli('info', project);
    expect(text.status, text.stderr).toBe(0);
    expect(text.stderr).toBe('');
    expect(text.stdout).toContain(project);
    expect(text.stdout).toMatch(/model +seeded-64 \(id 0123456789abcdef, 64x64\)/);
    expect(text.stdout).toMatch(/frames +0:12, 0 of 12 encoded/);
    expect(text.stdout).toMatch(/size +140 bytes per frame/);
    const json = await cli('info', project, '--json');
    expect(json.status).toBe(0);
    const o = JSON.parse(json.stdout);
    expect([o.project, o.frames, o.bytesPerFrame.perFrameParams]).toEqual([project, { start: 0, count: 12 }, 140]);
  });

  it('model create says on stdout what it wrote; model info prints text unless --json', async () => {
    const text = await cli('model', 'info', model);
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/resolution +32x32/);
    expect(text.stdout).toMatch(/edit basis +not calibrated/);
    const o = JSON.parse((await cli('model', 'info', model, '--json')).stdout);
    expect([o.resolution, o.calibrated, o.channels[32]]).toEqual([32, false, 8]);
    expect(text.stdout).toContain(`parameters     ${o.parameters}`);
    expect(created).toBe(`wrote ${model}: id ${o.id}, ${o.parameters} parameters, W+ ${o.numWs}x512, StyleSpace ${o.styleDim} channels\n`);
  });
});

describe('one import path', () => {
  it('perceptual import, models import of the pair and import --vgg/--lpips write the same bundle; perceptual info reads it', async () => {
    const vgg = join(fixtures, 'vgg16-tiny.pth');
    const heads = join(fixtures, 'lpips-heads-tiny.pth');
    const a = await cli('perceptual', 'import', '--vgg', vgg, '--lpips', heads, '--out', join(tmp, 'pa'), '--json');
    expect(a.status, a.stderr).toBe(0);
    const b = await cli('models', 'import', heads, vgg, '--out', join(tmp, 'pb'), '--json');
    expect(b.status, b.stderr).toBe(0);
    const c = await cli('import', '--vgg', vgg, '--lpips', heads, '--out', join(tmp, 'pc'));
    expect(c.status, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/^wrote the perceptual bundle .*pc: id [0-9a-f]+, VGG16 layer widths /);
    const [ra, rb] = [JSON.parse(a.stdout), JSON.parse(b.stdout)];
    expect(ra.kind).toBe('perceptual');
    expect(rb.id).toBe(ra.id);
    expect(c.stdout).toContain(`id ${ra.id}`);
    const info = await cli('perceptual', 'info', join(tmp, 'pa'));
    expect(info.status, info.stderr).toBe(0);
    expect(info.stdout).toContain(`id ${ra.id}`);
    expect(info.stdout).toMatch(/imported from +vgg16-tiny\.pth and lpips-heads-tiny\.pth/);
    expect(JSON.parse((await cli('perceptual', 'info', join(tmp, 'pa'), '--json')).stdout).tapChannels).toEqual(ra.tapChannels);
    const odd = await cli('models', 'import', vgg, vgg, '--out', join(tmp, 'pd'));
    expect(odd.status).toBe(2);
    expect(odd.stderr).toMatch(/one holds VGG16 weights and the other LPIPS heads/);
  });
});

describe('start-up', () => {
  it('--help and info load no onnxruntime; a command that runs a network does', async () => {
    for (const args of [['--help'], ['info', project], ['model', 'info', model]]) {
      const r = await runCli({ cwd: tmp, nodeArgs: ['--require', hook] }, ...args);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).not.toContain('ORT-LOADED');
    }
    const gen = await runCli({ cwd: tmp, nodeArgs: ['--require', hook] }, 'generate', '--model', model, '--w', join(tmp, 'nothing.json'), '--out', join(tmp, 'g.png'));
    expect(gen.status).toBe(2); // the missing --w file is found after the engine is loaded
    expect(gen.stderr).toContain('ORT-LOADED');
  });
});

describe('output locations are checked before any work', () => {
  it('an output under /proc is a one-line usage error, fast, for every writing command', async () => {
    const cases = [
      ['encode', join(tmp, 'source.mp4'), '--out', '/proc/nonexistent/x.stylecast'],
      ['render', project, '--out', '/proc/nonexistent/x.mp4'],
      ['synth', '--frames', '2', '--out', '/proc/nonexistent/x.mp4', '--truth', join(tmp, 't.json')],
      ['align', join(tmp, 'source.mp4'), '--out', '/proc/nonexistent/a'],
      ['conform', join(tmp, 'source.mp4'), '--out', '/proc/nonexistent/x.mp4'],
      ['model', 'create', '--out', '/proc/nonexistent/m'],
      ['generate', '--model', model, '--w', 'w.json', '--out', '/proc/nonexistent/g.png'],
      ['demo', '--out', '/proc/nonexistent/demo']
    ];
    for (const args of cases) {
      const r = await cli(...args);
      expect(r.status, `${args[0]}: ${r.stderr}`).toBe(2);
      expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^stylecast: error: .*\/proc\/nonexistent.*cannot write there/)]);
      // Start-up under tsx on a shared 2-core machine is most of this; the old behaviour aligned every frame, then hung.
      expect(r.ms).toBeLessThan(10_000);
    }
  }, 120_000);

  it('a file where a folder is needed is named', async () => {
    writeFileSync(join(tmp, 'plain'), 'x');
    const r = await cli('model', 'create', '--out', join(tmp, 'plain', 'm'));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/plain is a file, not a folder/);
  });
});

describe.skipIf(!hasSharedData)('align over a range of a real clip (needs ../shared/data; skipped without it)', () => {
  it("writes that range's crops with the source's sound from the range's first frame", async () => {
    const source = clip('lp_d11.mp4');
    const out = join(tmp, 'aligned-range');
    const r = await cli('--device', 'cpu', 'align', source, '--frames', '50:62', '--size', '64', '--out', out);
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(join(out, 'aligned.mp4'))).toBe(true);
    const ff = resolveFfmpeg().path;
    const pcm = (path: string): Int16Array => {
      const b = spawnSync(ff, ['-v', 'error', '-i', path, '-vn', '-ac', '1', '-ar', '16000', '-f', 's16le', 'pipe:1'], { maxBuffer: 1 << 26 }).stdout;
      return new Int16Array(b.buffer, b.byteOffset, b.byteLength >> 1);
    };
    const ours = pcm(join(out, 'aligned.mp4'));
    const theirs = pcm(source);
    const info = await probeVideo(source);
    const at = info.videoStartSec + frameTimeSec(50, info.fpsRational, info.fps); // 2 s: speech there
    // Where in the source's sound the first 0.3 s of ours fits best, searched over 0 to 3 s.
    const n = 4800;
    const corr = (lag: number): number => {
      let [ab, aa, bb] = [0, 0, 0];
      for (let i = 0; i < n; i++) {
        const [x, y] = [ours[i]!, theirs[lag + i]!];
        [ab, aa, bb] = [ab + x * y, aa + x * x, bb + y * y];
      }
      return ab / Math.sqrt(aa * bb);
    };
    let [best, bestCorr] = [0, -1];
    for (let lag = 0; lag < 48_000; lag++) {
      const c = corr(lag);
      if (c > bestCorr) [best, bestCorr] = [lag, c];
    }
    expect(bestCorr).toBeGreaterThan(0.9);
    expect(Math.abs(best / 16_000 - at)).toBeLessThan(0.003);
  }, 120_000);
});

describe.skipIf(!hasSharedData)('conform (needs ../shared/data; skipped without it)', () => {
  it('writes a constant-rate copy of a variable-rate clip, and refuses a bad rate or container as usage errors', async () => {
    const out = join(tmp, 'vr30.mkv');
    const r = await cli('conform', clip('vr_face1.mp4'), '--out', out, '--json');
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    // Matroska keeps the source's first-frame time (33 ms): 182 frames from there to 6.1 s.
    expect(j).toMatchObject({ path: out, fpsRational: '30/1', frameCount: 182, audio: 'copied', source: { fpsRational: '1350/61', frameCount: 135, variableFrameRate: false } });
    const made = await probeVideo(out);
    expect([made.variableFrameRate, made.frameCount, made.videoStartSec]).toEqual([false, 182, 0.033]);
    const bad = await cli('conform', clip('vr_face1.mp4'), '--out', join(tmp, 'x.mp4'), '--fps', '30/0');
    expect([bad.status, bad.stderr.trim()]).toEqual([2, 'stylecast: error: --fps 30/0: give a rate up to 240 such as 30, 29.97 or 30000/1001']);
    const avi = await cli('conform', clip('vr_face1.mp4'), '--out', join(tmp, 'x.avi'));
    expect(avi.status).toBe(2);
    expect(avi.stderr).toMatch(/--out .*x\.avi: the copy is written as \.mp4, \.m4v, \.mov, \.mkv/);
    expect(existsSync(join(tmp, 'x.mp4')) || existsSync(join(tmp, 'x.avi'))).toBe(false);
  }, 120_000);
});
