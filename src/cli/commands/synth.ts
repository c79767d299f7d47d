import type { Command } from 'commander';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ParamDecoder } from '../../core/encode/decoder';
import { makeTruth, truthDocument, writeSynthClip } from '../../core/encode/synth';
import { loadBasis, paramNames } from '../../core/model/basis';
import { Generator } from '../../core/model/generator';
import { Runtime } from '../../core/runtime';
import { ensureCalibrated, modelFromArg } from '../model-arg';
import { UsageError, printJson, progress } from '../errors';
import { int, num } from '../options';

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
      const rt = await Runtime.create({ device: program.opts().device });
      const bundle = await modelFromArg(o.model, rt);
      await ensureCalibrated(bundle, rt);
      const gen = new Generator(bundle, rt);
      const basis = loadBasis(bundle);
      const dec = new ParamDecoder(gen.net, basis);
      const truth = await makeTruth(gen, { seed: int(o.seed, '--seed'), frames });
      const res = dec.res;
      const out = resolve(o.out);
      const truthPath = resolve(o.truth);
      mkdirSync(dirname(truthPath), { recursive: true });
      await writeSynthClip(dec, rt, truth, out, fps, (d, n) => progress(`synth ${d}/${n}`));
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
      const summary = { video: out, truth: truthPath, frames, resolution: res, fps, modelId: bundle.manifest.id };
      if (o.json) printJson(summary);
      else progress(`wrote ${out} and ${truthPath}`);
    });
}
