import type { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { PuppetMode, RegionLock } from '../../core/render/puppeteer';
import type { PortraitTuneReport } from '../../core/tune/portrait';
import { UsageError, printJson, progress, result } from '../errors';
import { int, num } from '../options';
import { checkOutputDir } from '../output';
import { describePortraitTune, tunePortraitWithProgress } from './tune';

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
    .option('--tune', 'fine-tune the generator on the portrait (a portrait identity only) and store the delta in the driven project')
    .option('--tune-steps <n>', 'optimiser steps of --tune (default 300)')
    .option('--tune-rank <r>', 'rank of --tune\'s delta (default: the largest up to 8 within 5% of the synthesis weights)')
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
      if (!o.tune && (o.tuneSteps !== undefined || o.tuneRank !== undefined)) throw new UsageError(`${o.tuneSteps !== undefined ? '--tune-steps' : '--tune-rank'} only applies with --tune`);
      const tuneSettings = {
        ...(o.tuneSteps !== undefined ? { steps: int(o.tuneSteps, '--tune-steps', 1) } : {}),
        ...(o.tuneRank !== undefined ? { rank: int(o.tuneRank, '--tune-rank', 1) } : {})
      };
      const idPath = resolve(o.identity);
      if (!existsSync(idPath)) throw new UsageError(`${idPath} does not exist`);
      const idIsProject = statSync(idPath).isDirectory();
      if (o.tune && idIsProject) {
        throw new UsageError(`--tune tunes on a portrait image, and ${idPath} is a project: a project identity brings its own delta (tune it with "stylecast tune ${idPath}")`);
      }
      if (o.tune && o.ignoreDelta) throw new UsageError('--ignore-delta applies to a project identity, --tune to a portrait: use one of them');
      const [{ loadBasis }, { openProject }, { invertPortrait, puppeteerProject }, { Runtime }, { openWithModel }] = await Promise.all([
        import('../../core/model/basis'),
        import('../../core/project'),
        import('../../core/render/puppeteer'),
        import('../../core/runtime'),
        import('../project-arg')
      ]);
      const rt = await Runtime.create({ device: program.opts().device });
      const { project: motion, bundle } = await openWithModel(o.motion, o.model);
      const basis = loadBasis(bundle);
      let identity;
      let tuned: PortraitTuneReport | null = null;
      if (idIsProject) {
        identity = { project: await openProject(idPath) };
      } else {
        progress(`inverting the portrait ${idPath}`);
        const nets = await (await import('../../core/face/nets')).FaceNets.load(rt);
        if (o.tune) (await import('../../core/tune')).portraitTuneSettings(bundle, tuneSettings); // a bad rank fails before the inversion
        const { wid, crop } = await invertPortrait(idPath, bundle, basis, rt, nets);
        identity = { wid, label: idPath, ...(o.tune ? { tuned: await tunePortraitWithProgress({ crop, wid, label: idPath, bundle, basis, rt, settings: tuneSettings }) } : {}) };
        tuned = identity.tuned?.report ?? null;
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
      const summary = { project: p.dir, frames: p.doc.encoding.encodedThrough, tuned: p.doc.tune !== null, mode, only, strength: Number(o.strength), motion: motion.dir, identity: idPath, ...(tuned ? { tune: tuned } : {}) };
      if (o.json) printJson(summary);
      else result(`wrote ${p.dir}: ${summary.frames} frames${tuned ? `, ${describePortraitTune(tuned)}` : ''}; render it with "stylecast render ${p.dir} --out video.mp4"`);
    });
}
