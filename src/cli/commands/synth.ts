import type { Command } from 'commander';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { UsageError, printJson, result } from '../errors';
import { int, num } from '../options';
import { checkOutputFile } from '../output';
import { stderrProgress } from '../progress';
import { commandSignal } from '../signals';

export function registerSynth(program: Command): void {
  program
    .command('synth')
    .description('render a lossless clip from a known identity latent and smooth random parameters, with the truth in a JSON file')
    .option('--model <dir>', 'model bundle (default: the seeded model)')
    .requiredOption('--frames <n>', 'number of frames')
    .requiredOption('--out <clip>', 'video to write (.mp4 or .mkv, lossless RGB)')
    .requiredOption('--truth <json>', 'where to write the ground truth')
    .option('--seed <n>', 'random seed', '1')
    .option('--fps <n>', 'frame rate', '25')
    .option('--json', 'print one JSON object on stdout')
    .action(async (o) => {
      const frames = int(o.frames, '--frames', 1);
      const fps = num(o.fps, '--fps');
      if (!(fps > 0)) throw new UsageError('--fps must be positive');
      const seed = int(o.seed, '--seed');
      const out = checkOutputFile(o.out);
      const truthPath = checkOutputFile(o.truth, '--truth');
      const [{ ParamDecoder }, { makeTruth, truthDocument, writeSynthClip }, { loadBasis, paramNames }, { Generator }, { Runtime }, { throwIfAborted }, { ensureCalibrated, modelFromArg }] = await Promise.all([
        import('../../core/encode/decoder'),
        import('../../core/encode/synth'),
        import('../../core/model/basis'),
        import('../../core/model/generator'),
        import('../../core/runtime'),
        import('../../core/util/cancel'),
        import('../model-arg')
      ]);
      const rt = await Runtime.create({ device: program.opts().device });
      const bundle = await modelFromArg(o.model, rt);
      await ensureCalibrated(bundle, rt, commandSignal);
      const gen = new Generator(bundle, rt);
      const basis = loadBasis(bundle);
      const dec = new ParamDecoder(gen.net, basis);
      const truth = await makeTruth(gen, { seed, frames });
      mkdirSync(dirname(out), { recursive: true });
      mkdirSync(dirname(truthPath), { recursive: true });
      await writeSynthClip(dec, rt, truth, out, fps, (d, n) => {
        throwIfAborted(commandSignal);
        stderrProgress.update({ stage: 'synth', fraction: d / n, done: d, total: n, unit: 'frame' });
      });
      stderrProgress.end();
      const doc = truthDocument(truth, {
        modelId: bundle.manifest.id,
        model: bundle.dir,
        fps,
        numWs: gen.net.numWs,
        wDim: gen.net.arch.wDim,
        paramNames: paramNames(basis)
      });
      writeFileSync(`${truthPath}.tmp`, JSON.stringify(doc));
      renameSync(`${truthPath}.tmp`, truthPath);
      const summary = { video: out, truth: truthPath, frames, resolution: dec.res, fps, modelId: bundle.manifest.id };
      if (o.json) printJson(summary);
      else result(`wrote ${out} (${frames} frames, ${dec.res}x${dec.res} at ${fps} fps) and its truth ${truthPath}`);
    });
}
