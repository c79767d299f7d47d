import type { Command } from 'commander';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Project } from '../../core/project';
import { printJson, result } from '../errors';

export function registerInfo(program: Command): void {
  program
    .command('info <project>')
    .description('describe an encoding: source, model, frames, bytes per frame, and whether it is fine-tuned (delta size)')
    .option('--json', 'print one JSON object on stdout')
    .action(async (dir: string, o) => {
      const [{ bytesPerFrame, openProject }, { alignProgressFrames }] = await Promise.all([import('../../core/project'), import('../../core/encode/align-progress')]);
      const p = await openProject(resolve(dir));
      const d = p.doc;
      // An encode stopped before its identity leaves its face alignment so far beside the project.
      const aligned = d.encoding.identityFrame === null ? await alignProgressFrames(p.dir) : null;
      const bpf = bytesPerFrame(p);
      const summary = {
        project: p.dir,
        source: { path: d.source.path, width: d.source.width, height: d.source.height, fps: d.source.fps, frames: d.source.frameCount, audio: d.source.hasAudio },
        model: d.model,
        frames: d.encoding.frames,
        encodedThrough: d.encoding.encodedThrough,
        identityFrame: d.encoding.identityFrame,
        ...(aligned !== null ? { alignedFrames: aligned } : {}),
        params: d.encoding.paramNames,
        bytesPerFrame: bpf,
        tune: tuneInfo(p)
      };
      if (o.json) return printJson(summary);
      const f = d.encoding.frames;
      result(
        p.dir,
        `  source         ${d.source.path} (${d.source.width}x${d.source.height}, ${d.source.fps} fps, ${d.source.frameCount} frames${d.source.hasAudio ? ', audio' : ''})`,
        `  model          ${d.model.name} (id ${d.model.id}, ${d.model.resolution}x${d.model.resolution})`,
        `  frames         ${f.start}:${f.start + f.count}, ${d.encoding.encodedThrough} of ${f.count} encoded${d.encoding.encodedThrough < f.count ? ' (run the same encode again to resume)' : ''}`,
        ...(aligned !== null ? [`  aligned        ${aligned} of ${f.count} frames (the encode resumes the face alignment there)`] : []),
        `  identity from  ${d.encoding.identityFrame === null ? 'not chosen yet' : `encoded frame ${d.encoding.identityFrame}`}`,
        `  parameters     ${d.encoding.paramNames.length} per frame: ${d.encoding.paramNames.join(', ')}`,
        `  size           ${bpf.perFrameParams} bytes per frame (${bpf.perFrameTotal.toFixed(1)} with the crop transform and the identity's share)`,
        `  fine-tuned     ${summary.tune.tuned ? `yes: rank ${summary.tune.rank}, delta ${summary.tune.deltaBytes} bytes (${summary.tune.file}, ${summary.tune.state})` : 'no'}`
      );
    });
}

/** The fine-tuning state: untuned, or the delta's size and whether its file is intact (hashed here: info loads no engine). */
function tuneInfo(p: Project): { tuned: false } | { tuned: true; deltaBytes: number; rank: number; file: string; state: 'ok' | 'missing' | 'damaged'; report?: unknown } {
  const t = p.doc.tune;
  if (!t) return { tuned: false };
  let state: 'ok' | 'missing' | 'damaged' = 'ok';
  try {
    const bytes = readFileSync(join(p.dir, t.file));
    if (bytes.byteLength !== t.bytes || createHash('sha256').update(bytes).digest('hex') !== t.sha256) state = 'damaged';
  } catch {
    state = 'missing';
  }
  return { tuned: true, deltaBytes: t.bytes, rank: t.rank, file: t.file, state, ...(t.report !== undefined ? { report: t.report } : {}) };
}
