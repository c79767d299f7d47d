import type { Command } from 'commander';
import { printJson, result } from '../errors';
import { int, parseRange } from '../options';
import { checkOutputFile } from '../output';
import { stderrProgress } from '../progress';
import { commandSignal } from '../signals';

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
      const out = checkOutputFile(o.out);
      const size = o.size !== undefined ? int(o.size, '--size', 16) : undefined;
      const crf = int(o.crf, '--crf', 0);
      const frames = o.frames ? parseRange(o.frames, '--frames') : undefined;
      const [{ loadBasis }, { exportVideo }, { projectRenderer }, { Runtime }, { openWithModel }, { progress }] = await Promise.all([
        import('../../core/model/basis'),
        import('../../core/render/render'),
        import('../../core/tune'),
        import('../../core/runtime'),
        import('../project-arg'),
        import('../errors')
      ]);
      const { project, bundle } = await openWithModel(dir, o.model);
      const rt = await Runtime.create({ device: program.opts().device });
      const { renderer, delta, ignored } = await projectRenderer(project, bundle, loadBasis(bundle), rt, { ignoreDelta: Boolean(o.ignoreDelta) });
      if (ignored) progress(`rendering untuned: ${ignored}`);
      const t0 = performance.now();
      const r = await exportVideo({
        project,
        renderer,
        out,
        size,
        pasteBack: Boolean(o.pasteBack),
        audio: o.audio,
        crf,
        frames,
        signal: commandSignal,
        onProgress: (d, n) => stderrProgress.update({ stage: 'render', fraction: d / n, done: d, total: n, unit: 'frame' })
      });
      stderrProgress.end();
      const seconds = (performance.now() - t0) / 1000;
      const summary = { ...r, tuned: delta !== null, seconds, framesPerSecond: r.frames / seconds };
      if (o.json) printJson(summary);
      else result(`wrote ${r.path}: ${r.frames} frames ${r.width}x${r.height}${r.audio ? ' with audio' : ''} (${summary.framesPerSecond.toFixed(1)} fps)`);
    });
}
