import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { bytesPerFrame, openProject, type Project } from '../../core/project';
import { sha256Hex } from '../../core/tune';
import { printJson } from '../errors';

export function registerInfo(program: Command): void {
  program
    .command('info <project>')
    .description('describe an encoding: source, model, frames, bytes per frame, and whether it is fine-tuned (delta size)')
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
        bytesPerFrame: bytesPerFrame(p),
        tune: tuneInfo(p)
      });
    });
}

/** The fine-tuning state: untuned, or the delta's size and whether its file is intact. */
function tuneInfo(p: Project): { tuned: false } | { tuned: true; deltaBytes: number; rank: number; file: string; state: 'ok' | 'missing' | 'damaged'; report?: unknown } {
  const t = p.doc.tune;
  if (!t) return { tuned: false };
  let state: 'ok' | 'missing' | 'damaged' = 'ok';
  try {
    const bytes = readFileSync(join(p.dir, t.file));
    if (bytes.byteLength !== t.bytes || sha256Hex(bytes) !== t.sha256) state = 'damaged';
  } catch {
    state = 'missing';
  }
  return { tuned: true, deltaBytes: t.bytes, rank: t.rank, file: t.file, state, ...(t.report !== undefined ? { report: t.report } : {}) };
}
