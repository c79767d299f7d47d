import type { Command } from 'commander';
import { resolve } from 'node:path';
import { printJson, result } from '../errors';

export function registerInfo(program: Command): void {
  program
    .command('info <project>')
    .description('describe an encoding: source, model, frames and bytes per frame')
    .option('--json', 'print one JSON object on stdout')
    .action(async (dir: string, o) => {
      const { bytesPerFrame, openProject } = await import('../../core/project');
      const p = await openProject(resolve(dir));
      const d = p.doc;
      const bpf = bytesPerFrame(p);
      const summary = {
        project: p.dir,
        source: { path: d.source.path, width: d.source.width, height: d.source.height, fps: d.source.fps, frames: d.source.frameCount, audio: d.source.hasAudio },
        model: d.model,
        frames: d.encoding.frames,
        encodedThrough: d.encoding.encodedThrough,
        identityFrame: d.encoding.identityFrame,
        params: d.encoding.paramNames,
        bytesPerFrame: bpf
      };
      if (o.json) return printJson(summary);
      const f = d.encoding.frames;
      result(
        p.dir,
        `  source         ${d.source.path} (${d.source.width}x${d.source.height}, ${d.source.fps} fps, ${d.source.frameCount} frames${d.source.hasAudio ? ', audio' : ''})`,
        `  model          ${d.model.name} (id ${d.model.id}, ${d.model.resolution}x${d.model.resolution})`,
        `  frames         ${f.start}:${f.start + f.count}, ${d.encoding.encodedThrough} of ${f.count} encoded${d.encoding.encodedThrough < f.count ? ' (run the same encode again to resume)' : ''}`,
        `  identity from  ${d.encoding.identityFrame === null ? 'not chosen yet' : `encoded frame ${d.encoding.identityFrame}`}`,
        `  parameters     ${d.encoding.paramNames.length} per frame: ${d.encoding.paramNames.join(', ')}`,
        `  size           ${bpf.perFrameParams} bytes per frame (${bpf.perFrameTotal.toFixed(1)} with the crop transform and the identity's share)`
      );
    });
}
