import type { Command } from 'commander';
import { resolve } from 'node:path';
import { UsageError, printJson, result } from '../errors';
import { checkOutputFile } from '../output';
import { stderrProgress } from '../progress';
import { commandSignal } from '../signals';

export function registerConform(program: Command): void {
  program
    .command('conform <video>')
    .description('write a constant-rate copy of a video (each frame the source frame nearest its time, the sound as it was), for encoding a variable-frame-rate recording in sync')
    .requiredOption('--out <file>', 'the copy (.mp4, .m4v, .mov or .mkv); never the source itself')
    .option('--fps <rate>', "the copy's rate, e.g. 30 or 30000/1001 (default: the source's nominal rate when it is a camera's, else a standard rate at least its average; see the README)")
    .option('--json', 'print one JSON object on stdout')
    .action(async (videoArg: string, o) => {
      const { CONFORM_EXTENSIONS, conformVideo, parseRate, probeVideo } = await import('../../core/video');
      const video = resolve(videoArg);
      const out = checkOutputFile(o.out);
      if (!CONFORM_EXTENSIONS.some((e) => out.toLowerCase().endsWith(e))) throw new UsageError(`--out ${out}: the copy is written as ${CONFORM_EXTENSIONS.join(', ')}`);
      if (o.fps !== undefined && !parseRate(String(o.fps))) throw new UsageError(`--fps ${o.fps}: give a rate up to 240 such as 30, 29.97 or 30000/1001`);
      const info = await probeVideo(video);
      const t0 = performance.now();
      const r = await conformVideo({
        input: video,
        out,
        fps: o.fps,
        info,
        signal: commandSignal,
        onProgress: (f) => stderrProgress.update({ stage: 'conform', fraction: f })
      });
      stderrProgress.end();
      const summary = { ...r, seconds: (performance.now() - t0) / 1000 };
      if (o.json) printJson(summary);
      else {
        const was = `${info.frameCount} frames at ${info.fps.toFixed(3)} per second on average${info.variableFrameRate ? ` (variable; nominal ${info.nominalFpsRational ?? 'unknown'})` : ' (already constant)'}`;
        result(
          `wrote ${r.path}`,
          `  source   ${was}`,
          `  copy     ${r.frameCount} frames at ${r.fpsRational} per second, ${r.durationSec.toFixed(3)} s`,
          `  sound    ${r.audio === 'none' ? 'none in the source' : r.audio === 'copied' ? 'copied as it was' : 're-encoded to AAC (the container cannot hold the source codec)'}`
        );
      }
    });
}
