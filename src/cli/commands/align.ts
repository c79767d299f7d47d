import type { Command } from 'commander';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FaceNets } from '../../core/face/nets';
import { alignVideo } from '../../core/face/pipeline';
import { warpToCrop } from '../../core/face/warp';
import { Runtime } from '../../core/runtime';
import { createVideoWriter, decodeFrames, probeVideo } from '../../core/video';
import { parseRange } from '../project-arg';
import { printJson, progress } from '../errors';
import { int, num } from '../options';

export function registerAlign(program: Command): void {
  program
    .command('align <video>')
    .description('detect the face and 68 landmarks on every frame, compute smoothed FFHQ crops, and write the aligned crop video and the alignment data')
    .requiredOption('--out <dir>', 'output folder (aligned.mp4, alignment.json)')
    .option('--size <n>', 'crop size', '256')
    .option('--smoothing <frames>', 'smoothing strength in frames (0 = off)', '10')
    .option('--frames <a:b>', 'frames a to b-1 only')
    .option('--no-video', 'skip writing the aligned crop video')
    .option('--json', 'print one JSON object on stdout')
    .action(async (videoArg: string, o) => {
      const video = resolve(videoArg);
      const size = int(o.size, '--size', 16);
      const info = await probeVideo(video);
      const rt = await Runtime.create({ device: program.opts().device });
      const nets = await FaceNets.load(rt);
      const range = o.frames ? parseRange(o.frames, '--frames') : undefined;
      const t0 = performance.now();
      let last = -1;
      const r = await alignVideo({
        path: video,
        nets,
        size,
        info,
        frames: range,
        smoothing: { sigmaFrames: num(o.smoothing, '--smoothing') },
        onProgress: (d, n) => {
          const pct = Math.floor((d / n) * 10);
          if (pct !== last) progress(`aligned ${d}/${n}`);
          last = pct;
        }
      });
      const seconds = (performance.now() - t0) / 1000;
      const dir = resolve(o.out);
      mkdirSync(dir, { recursive: true });
      let aligned: string | null = null;
      if (o.video) {
        aligned = join(dir, 'aligned.mp4');
        const writer = await createVideoWriter({ path: aligned, width: size, height: size, fps: info.fpsRational || info.fps, audioFrom: info.hasAudio ? video : undefined });
        try {
          for await (const f of decodeFrames(video, { start: r.start, count: r.frames.length, info })) {
            await writer.write(warpToCrop(f.data, f.width, f.height, r.affines[f.index - r.start]!, size));
          }
          await writer.close();
        } catch (e) {
          await writer.abort();
          throw e;
        }
      }
      const data = {
        video,
        size,
        start: r.start,
        frames: r.frames.map((f) => ({ index: f.index, box: f.box, landmarks: f.landmarks ? Array.from(f.landmarks) : null })),
        affines: r.affines,
        hintedFrames: r.hintedFrames,
        faceFoundFraction: r.faceFoundFraction,
        jitterPx: r.jitterPx
      };
      const jsonPath = join(dir, 'alignment.json');
      writeFileSync(`${jsonPath}.tmp`, JSON.stringify(data));
      renameSync(`${jsonPath}.tmp`, jsonPath);
      const summary = {
        frames: r.frames.length,
        faceFoundFraction: r.faceFoundFraction,
        jitterPx: r.jitterPx.smoothed,
        jitterPxUnsmoothed: r.jitterPx.raw,
        secondsPerFrame: seconds / r.frames.length,
        alignment: jsonPath,
        aligned
      };
      if (o.json) printJson(summary);
      else progress(`aligned ${summary.frames} frames: face found in ${(r.faceFoundFraction * 100).toFixed(1)}%, jitter ${r.jitterPx.smoothed.toFixed(3)} px smoothed vs ${r.jitterPx.raw.toFixed(3)} px per-frame; ${jsonPath}`);
    });
}
