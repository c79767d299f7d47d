import type { Command } from 'commander';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ensureSeededModel } from '../../core/model/defaults';
import { Generator } from '../../core/model/generator';
import { broadcastW } from '../../core/model/stylegan2';
import { toRgb8 } from '../../core/render/image';
import { Runtime } from '../../core/runtime';
import { Rng } from '../../core/util/random';
import { createVideoWriter } from '../../core/video';
import { defaultModelDir, repoRoot } from '../paths';
import { printJson, progress } from '../errors';
import { int } from '../options';

/** Spherical interpolation between two z vectors, which keeps |z| typical along the path. */
function slerp(a: Float32Array, b: Float32Array, t: number): Float32Array {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! ** 2;
    nb += b[i]! ** 2;
  }
  const omega = Math.acos(Math.min(1, Math.max(-1, dot / Math.sqrt(na * nb))));
  const so = Math.sin(omega);
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) {
    out[i] = so < 1e-6 ? a[i]! + t * (b[i]! - a[i]!) : (Math.sin((1 - t) * omega) / so) * a[i]! + (Math.sin(t * omega) / so) * b[i]!;
  }
  return out;
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('render a latent-walk video from the seeded model and print where it went')
    .option('--out <dir>', 'output folder', join(repoRoot, 'demo-output'))
    .option('--frames <n>', 'number of frames', '72')
    .option('--seed <n>', 'seed of the walk', '1')
    .option('--json', 'print one JSON object on stdout')
    .action(async (o) => {
      const t0 = performance.now();
      const rt = await Runtime.create({ device: program.opts().device });
      const bundle = await ensureSeededModel(defaultModelDir(), rt, progress);
      const gen = new Generator(bundle, rt);
      const a = gen.net.arch;
      const frames = int(o.frames, '--frames', 2);
      const rng = new Rng(int(o.seed, '--seed'));
      const keys = [rng.normals(a.zDim), rng.normals(a.zDim), rng.normals(a.zDim)];
      keys.push(keys[0]!);
      const outDir = resolve(o.out);
      mkdirSync(outDir, { recursive: true });
      const path = join(outDir, 'latent-walk.mp4');
      const res = a.resolution;
      const writer = await createVideoWriter({ path, width: res, height: res, fps: 24, crf: 12 });
      const batch = 4;
      try {
        for (let f0 = 0; f0 < frames; f0 += batch) {
          const n = Math.min(batch, frames - f0);
          const z = new Float32Array(batch * a.zDim);
          for (let k = 0; k < n; k++) {
            const u = ((f0 + k) / frames) * (keys.length - 1);
            const seg = Math.min(Math.floor(u), keys.length - 2);
            z.set(slerp(keys[seg]!, keys[seg + 1]!, u - seg), k * a.zDim);
          }
          const w = await gen.mapping(z, batch);
          const img = await gen.render(broadcastW(w, batch, gen.net.numWs, a.wDim), batch);
          for (let k = 0; k < n; k++) await writer.write(toRgb8(img, k, res, res));
          progress(`rendered ${Math.min(f0 + n, frames)}/${frames} frames`);
        }
        await writer.close();
      } catch (e) {
        await writer.abort();
        throw e;
      }
      const seconds = (performance.now() - t0) / 1000;
      const summary = { video: path, frames, resolution: res, model: bundle.manifest.name, modelId: bundle.manifest.id, device: rt.device, seconds };
      if (o.json) printJson(summary);
      else progress(`wrote ${path} (${frames} frames, ${res}x${res}, model ${bundle.manifest.name} ${bundle.manifest.id}, ${rt.device}, ${seconds.toFixed(1)} s)`);
    });
}
