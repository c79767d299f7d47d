import type { Command } from 'commander';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ParamDecoder } from '../../core/encode/decoder';
import { makeTruth } from '../../core/encode/synth';
import { loadBasis, paramNames, PARAM_COUNT } from '../../core/model/basis';
import { Generator } from '../../core/model/generator';
import { toRgb8 } from '../../core/render/image';
import { Runtime } from '../../core/runtime';
import { createVideoWriter } from '../../core/video';
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
      const writer = await createVideoWriter({ path: out, width: res, height: res, fps, lossless: true });
      const batch = 8;
      try {
        for (let t = 0; t < frames; t += batch) {
          const n = Math.min(batch, frames - t);
          const p = new Float32Array(batch * PARAM_COUNT);
          p.set(truth.params.subarray(t * PARAM_COUNT, (t + n) * PARAM_COUNT));
          const img = (await rt.run(dec.renderGraph(batch), {
            wid: { data: truth.wid, dims: [1, gen.net.numWs, gen.net.arch.wDim] },
            params: { data: p, dims: [batch, PARAM_COUNT] }
          })).image!.data;
          for (let k = 0; k < n; k++) await writer.write(toRgb8(img, k, res, res));
          progress(`synth ${t + n}/${frames}`);
        }
        await writer.close();
      } catch (e) {
        await writer.abort();
        throw e;
      }
      const doc = {
        kind: 'stylecast-synth-truth',
        version: 1,
        seed: truth.seed,
        modelId: bundle.manifest.id,
        model: bundle.dir,
        fps,
        frames,
        numWs: gen.net.numWs,
        wDim: gen.net.arch.wDim,
        paramNames: paramNames(basis),
        wid: Array.from(truth.wid),
        params: Array.from({ length: frames }, (_, t) => Array.from(truth.params.subarray(t * PARAM_COUNT, (t + 1) * PARAM_COUNT)))
      };
      writeFileSync(`${truthPath}.tmp`, JSON.stringify(doc));
      renameSync(`${truthPath}.tmp`, truthPath);
      const summary = { video: out, truth: truthPath, frames, resolution: res, fps, modelId: bundle.manifest.id };
      if (o.json) printJson(summary);
      else progress(`wrote ${out} and ${truthPath}`);
    });
}
