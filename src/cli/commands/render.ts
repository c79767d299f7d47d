import type { Command } from 'commander';
import { resolve } from 'node:path';
import { loadBasis } from '../../core/model/basis';
import { exportVideo } from '../../core/render/render';
import { projectRenderer } from '../../core/tune';
import { Runtime } from '../../core/runtime';
import { openWithModel, parseRange } from '../project-arg';
import { printJson, progress } from '../errors';
import { int } from '../options';

export function registerRender(program: Command): void {
  program
    .command('render <project>')
    .description('render an encoding to video: the aligned crop, or pasted back into the source frames, with the source audio')
    .requiredOption('--out <video>', 'video to write (.mp4, .mov, .mkv)')
    .option('--size <n>', 'render size (a power of two up to the model resolution)')
    .option('--paste-back', 'paste the face back into the full source frames')
    .option('--no-audio', 'leave the source audio out')
    .option('--frames <a:b>', 'encoded frames a to b-1 only')
    .option('--crf <n>', 'x264 quality (0 = lossless .. 51)', '18')
    .option('--model <dir>', 'model bundle (default: found by id under the models folder)')
    .option('--ignore-delta', 'render with the untuned generator, leaving out the fine-tuning delta (also when it is missing or damaged)')
    .option('--json', 'print one JSON object on stdout')
    .action(async (dir: string, o) => {
      const rt = await Runtime.create({ device: program.opts().device });
      const { project, bundle } = await openWithModel(dir, o.model);
      const { renderer, delta, ignored } = await projectRenderer(project, bundle, loadBasis(bundle), rt, { ignoreDelta: Boolean(o.ignoreDelta) });
      if (ignored) progress(`rendering untuned: ${ignored}`);
      const t0 = performance.now();
      const r = await exportVideo({
        project,
        renderer,
        out: resolve(o.out),
        size: o.size !== undefined ? int(o.size, '--size', 16) : undefined,
        pasteBack: Boolean(o.pasteBack),
        audio: o.audio,
        crf: int(o.crf, '--crf', 0),
        frames: o.frames ? parseRange(o.frames, '--frames') : undefined,
        onProgress: (d, n) => progress(`rendered ${d}/${n}`)
      });
      const seconds = (performance.now() - t0) / 1000;
      const summary = { ...r, tuned: delta !== null, seconds, framesPerSecond: r.frames / seconds };
      if (o.json) printJson(summary);
      else progress(`wrote ${r.path}: ${r.frames} frames ${r.width}x${r.height}${r.audio ? ' with audio' : ''} (${summary.framesPerSecond.toFixed(1)} fps)`);
    });
}
