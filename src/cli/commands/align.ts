import type { Command } from 'commander';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { printJson, result } from '../errors';
import { int, num, parseRange } from '../options';
import { checkOutputDir } from '../output';
import { stderrProgress } from '../progress';
import { commandSignal } from '../signals';

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
      const dir = checkOutputDir(o.out);
      const size = int(o.size, '--size', 16);
      const range = o.frames ? parseRange(o.frames, '--frames') : undefined;
      const sigmaFrames = num(o.smoothing, '--smoothing', 0);
      const [{ FaceNets }, { alignVideo }, { warpToCrop }, { Runtime }, { createVideoWriter, decodeFrames, frameTimeSec, probeVideo }] = await Promise.all([
        import('../../core/face/nets'),
        import('../../core/face/pipeline'),
        import('../../core/face/warp'),
        import('../../core/runtime'),
        import('../../core/video')
      ]);
      const signal = commandSignal;
      const info = await probeVideo(video);
      const rt = await Runtime.create({ device: program.opts().device });
      const nets = await FaceNets.load(rt);
      const t0 = performance.now();
      const r = await alignVideo({
        path: video,
        nets,
        size,
        info,
        frames: range,
        smoothing: { sigmaFrames },
        signal,
        onProgress: (d, n) => stderrProgress.update({ stage: 'align', fraction: d / n, done: d, total: n, unit: 'frame' })
      });
      const seconds = (performance.now() - t0) / 1000;
      mkdirSync(dir, { recursive: true });
      let aligned: string | null = null;
      if (o.video) {
        aligned = join(dir, 'aligned.mp4');
        const writer = await createVideoWriter({ path: aligned, width: size, height: size, fps: info.fpsRational || info.fps, audioFrom: info.hasAudio ? video : undefined, audioStartSec: info.videoStartSec + frameTimeSec(r.start, info.fpsRational, info.fps) });
        try {
          for await (const f of decodeFrames(video, { start: r.start, count: r.frames.length, info, signal })) {
            await writer.write(warpToCrop(f.data, f.width, f.height, r.affines[f.index - r.start]!, size));
            stderrProgress.update({ stage: 'write', fraction: (f.index - r.start + 1) / r.frames.length, done: f.index - r.start + 1, total: r.frames.length, unit: 'frame' });
          }
          await writer.close();
        } catch (e) {
          await writer.abort();
          throw e;
        }
      }
      stderrProgress.end();
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
      else {
        result(
          `aligned ${summary.frames} frames of ${video}`,
          `  face found     ${(r.faceFoundFraction * 100).toFixed(1)}% of frames`,
          `  jitter         ${r.jitterPx.smoothed.toFixed(3)} px smoothed, ${r.jitterPx.raw.toFixed(3)} px per-frame`,
          `  alignment      ${jsonPath}`,
          ...(aligned ? [`  aligned video  ${aligned}`] : [])
        );
      }
    });
}
