import type { Command } from 'commander';
import { resolve } from 'node:path';
import { bytesPerFrame, openProject } from '../../core/project';
import { printJson } from '../errors';

export function registerInfo(program: Command): void {
  program
    .command('info <project>')
    .description('describe an encoding: source, model, frames and bytes per frame')
    .action(async (dir: string) => {
      const p = await openProject(resolve(dir));
      const d = p.doc;
      printJson({
        project: p.dir,
        source: { path: d.source.path, width: d.source.width, height: d.source.height, fps: d.source.fps, frames: d.source.frameCount, audio: d.source.hasAudio },
        model: d.model,
        frames: d.encoding.frames,
        encodedThrough: d.encoding.encodedThrough,
        identityFrame: d.encoding.identityFrame,
        params: d.encoding.paramNames,
        bytesPerFrame: bytesPerFrame(p)
      });
    });
}
