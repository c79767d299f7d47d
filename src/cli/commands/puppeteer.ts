import type { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { PuppetMode, RegionLock } from '../../core/render/puppeteer';
import { UsageError, printJson, progress, result } from '../errors';
import { int, num } from '../options';
import { checkOutputDir } from '../output';

export function registerPuppeteer(program: Command): void {
  program
    .command('puppeteer')
    .description("drive one face with another's motion: identity from a project or a portrait, motion from a project")
    .requiredOption('--motion <project>', 'the driving encoding (A.stylecast)')
    .requiredOption('--identity <project|image>', 'the face to drive: an encoding (B.stylecast) or a portrait image')
    .option('--mode <mode>', 'relative (motion measured from the driving neutral frame) or absolute', 'relative')
    .option('--only <region>', 'transfer only pose, expression, mouth or eyes')
    .option('--strength <k>', 'motion strength multiplier', '1')
    .option('--neutral-frame <n>', "the driving video's neutral frame (default: its identity frame)")
    .requiredOption('--out <project>', 'the driven encoding to write (C.stylecast)')
    .option('--model <dir>', 'model bundle (default: found by id under the models folder)')
    .option('--ignore-delta', "leave out the identity project's fine-tuning delta (also when it is missing or damaged)")
    .option('--json', 'print one JSON object on stdout')
    .action(async (o) => {
      const mode = o.mode as PuppetMode;
      if (mode !== 'relative' && mode !== 'absolute') throw new UsageError(`--mode must be relative or absolute, got "${o.mode}"`);
      const only = (o.only ?? null) as RegionLock | null;
      if (only !== null && !['pose', 'expression', 'mouth', 'eyes'].includes(only)) throw new UsageError(`--only must be pose, expression, mouth or eyes, got "${o.only}"`);
      const out = resolve(o.out);
      if (existsSync(out)) throw new UsageError(`${out} already exists: choose a new output folder`);
      checkOutputDir(out);
      const strength = num(o.strength, '--strength');
      const neutralFrame = o.neutralFrame !== undefined ? int(o.neutralFrame, '--neutral-frame', 0) : undefined;
      const [{ loadBasis }, { openProject }, { identityFromPortrait, puppeteerProject }, { Runtime }, { openWithModel }] = await Promise.all([
        import('../../core/model/basis'),
        import('../../core/project'),
        import('../../core/render/puppeteer'),
        import('../../core/runtime'),
        import('../project-arg')
      ]);
      const rt = await Runtime.create({ device: program.opts().device });
      const { project: motion, bundle } = await openWithModel(o.motion, o.model);
      const basis = loadBasis(bundle);
      const idPath = resolve(o.identity);
      if (!existsSync(idPath)) throw new UsageError(`${idPath} does not exist`);
      let identity;
      if (statSync(idPath).isDirectory()) {
        identity = { project: await openProject(idPath) };
      } else {
        progress(`inverting the portrait ${idPath}`);
        const nets = await (await import('../../core/face/nets')).FaceNets.load(rt);
        identity = { wid: await identityFromPortrait(idPath, bundle, basis, rt, nets), label: idPath };
      }
      const p = await puppeteerProject({
        motion,
        identity,
        bundle,
        basis,
        out,
        ignoreDelta: Boolean(o.ignoreDelta),
        options: { mode, only, strength, neutralFrame }
      });
      const summary = { project: p.dir, frames: p.doc.encoding.encodedThrough, tuned: p.doc.tune !== null, mode, only, strength: Number(o.strength), motion: motion.dir, identity: idPath };
      if (o.json) printJson(summary);
      else result(`wrote ${p.dir}: ${summary.frames} frames; render it with "stylecast render ${p.dir} --out video.mp4"`);
    });
}
