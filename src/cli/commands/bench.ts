import type { Command } from 'commander';
import type { BenchRow } from '../../core/model/bench';
import type { PreviewTiming } from '../../core/encode/step-bench';
import type { StyleGan2 } from '../../core/model/stylegan2';
import type { Runtime } from '../../core/runtime';
import { resolve } from 'node:path';
import { defaultModelDir, modelsDir } from '../paths';
import { UsageError, printJson, progress } from '../errors';
import { int } from '../options';
import { registerBenchStartup, startupSection } from './bench-startup';

/** The engine, loaded when a bench command runs (start-up stays light: see index.ts). */
async function engine() {
  const [bench, defaults, sg, runtime, modelArg] = await Promise.all([
    import('../../core/model/bench'),
    import('../../core/model/defaults'),
    import('../../core/model/stylegan2'),
    import('../../core/runtime'),
    import('../model-arg')
  ]);
  return { ...bench, ...defaults, StyleGan2: sg.StyleGan2, Runtime: runtime.Runtime, ...modelArg };
}

export function registerBench(program: Command): void {
  const bench = program
    .command('bench')
    .description('time forward and VJP (d/dStyleSpace) passes: config-f at 256 and 1024, and the seeded model, at batch 1 and 4')
    .option('--json', 'print one JSON object on stdout')
    .option('--runs <n>', 'timed runs per row after two warm-ups (median reported; batch sizes alternate; at most 5 at 1024)', '7')
    .option('--quick', 'only config-f 256 and the seeded model')
    .action(async (o) => {
      const { Runtime, ensureSeededModel, StyleGan2, configFNet, benchModel, machineDescription } = await engine();
      const rt = await Runtime.create({ device: program.opts().device });
      const runs = int(o.runs, '--runs', 1);
      const seeded = await ensureSeededModel(defaultModelDir(), rt, progress);
      const plan: { name: string; net: () => StyleGan2; runs: number }[] = [
        { name: seeded.manifest.name, net: () => new StyleGan2(seeded), runs: runs * 3 },
        { name: 'config-f', net: () => configFNet(256), runs }
      ];
      if (!o.quick) plan.push({ name: 'config-f', net: () => configFNet(1024), runs: Math.min(runs, 5) });
      const results: BenchRow[] = [];
      for (const p of plan) {
        const net = p.net();
        progress(`bench ${p.name} ${net.arch.resolution}x${net.arch.resolution}, batch 1 and 4 interleaved...`);
        for (const row of await benchModel(rt, p.name, net, [1, 4], p.runs)) {
          const vs = row.batch === 1 || row.forwardVsBatch1 === null ? '' : `; per frame vs batch 1: forward ${row.forwardVsBatch1.toFixed(3)}, vjp ${row.vjpVsBatch1!.toFixed(3)}`;
          progress(
            `  batch ${row.batch}: forward ${row.forwardMsPerFrame.toFixed(1)} ms/frame (cpu ${row.forwardCpuMsPerFrame.toFixed(0)}), vjp ${row.vjpMsPerFrame.toFixed(1)} ms/frame (cpu ${row.vjpCpuMsPerFrame.toFixed(0)}; ${row.vjpOverForward.toFixed(2)}x forward)${vs}`
          );
          results.push(row);
        }
      }
      // The encoder at 1024 on this machine: one step's memory (in its own process) and the editor's preview.
      let encoderStep: { resolution: number; batch: number; peakRssMB: number; stepMs: number } | null = null;
      let preview: { model: string; resolution: number; sizes: PreviewTiming[] } | null = null;
      if (!o.quick) {
        const { defaultMaxBatch } = await import('../../core/encode/memory');
        const { encoderStepInChild, previewTimings } = await import('../../core/encode/step-bench');
        const batch = defaultMaxBatch(1024);
        progress(`encoder step: config-f 1024, batch ${batch} (what the encoder would choose here), in a process of its own...`);
        encoderStep = { resolution: 1024, batch, ...(await encoderStepInChild(process.argv[1]!, 1024, batch)) };
        progress(`  peak resident memory ${encoderStep.peakRssMB.toFixed(0)} MB, one step ${encoderStep.stepMs.toFixed(0)} ms`);
        progress('editor preview of config-f 1024 (truncated synthesis, Winograd convolutions) beside the exact render, run in turn, batch 1...');
        const sizes = await previewTimings(configFNet(1024), rt, [256, 128, 64]);
        for (const x of sizes) progress(`  ${x.size}x${x.size}: ${x.msPerFrame.toFixed(0)} ms per frame, ${x.framesPerSecond.toFixed(1)} frames per second (exact render ${x.exactMsPerFrame.toFixed(0)} ms; images differ by at most ${x.maxLevelDiff} levels of 255)`);
        preview = { model: 'config-f', resolution: 1024, sizes };
      }
      const out = { machine: machineDescription(rt), results, encoderStep, preview, startup: await startupSection() };
      if (o.json) printJson(out);
    });
  registerBenchEncode(bench, program);
  registerBenchStartup(bench);
  bench
    .command('step', { hidden: true })
    .description('one encoder step (loss and gradient) of a config-f network; prints this process\'s peak memory as JSON (used by bench)')
    .requiredOption('--config-f <res>', 'resolution')
    .option('--batch <n>', 'frames in the step', '1')
    .action(async (o) => {
      const { Runtime, configFNet } = await engine();
      const rt = await Runtime.create({ device: program.opts().device });
      const { runEncoderStep } = await import('../../core/encode/step-bench');
      printJson(await runEncoderStep(configFNet(int(o.configF, '--config-f', 16)), rt, int(o.batch, '--batch', 1)));
    });
}

function registerBenchEncode(bench: Command, program: Command): void {
  bench
    .command('encode')
    .description('encode one input twice in one run, with the default schedule and the reference schedule (the encoder before schedules), and compare cost in forward-equivalents and quality')
    .option('--json', 'print one JSON object on stdout')
    .option('--model <dir>', 'model bundle (default: the seeded model)')
    .option('--config-f <res>', 'instead of --model: a config-f network with random weights at this resolution (calibrated on a sample of channels, cached in the models folder)')
    .option('--frames <n>', 'frames of the synthetic clip', '48')
    .option('--seed <n>', 'seed of the synthetic clip (stylecast synth)', '11')
    .option('--video <file>', 'encode a range of a real video instead of a synthetic clip')
    .option('--range <a:b>', 'frames a to b-1 of --video', '0:24')
    .option('--quality <q>', 'the default schedule to compare: draft, normal or best', 'normal')
    .option('--max-batch <n>', 'most frames in one loss-and-gradient run')
    .option('--true-identity', 'synthetic clip only: keep its true w_ID instead of finding one, so that only the frames are encoded and timed (a large model\'s identity stages take hours on a CPU)')
    .option('--schedules <list>', 'which to run: default,reference (both: the speedups), or one alone (the reference takes hours above 64x64 on a CPU)', 'default,reference')
    .option('--work <dir>', 'keep the clip, the projects and the timings in this folder: a bench stopped part way (Ctrl-C, a crash, a shutdown) goes on where it stopped when the same command is run again, and its figures add up over the runs')
    .action(async (o) => {
      const which = String(o.schedules).split(',').map((x) => x.trim());
      if (!which.length || which.some((w) => w !== 'default' && w !== 'reference')) throw new UsageError(`--schedules takes default, reference or both, got "${o.schedules}"`);
      if (o.trueIdentity && o.video) throw new UsageError('--true-identity needs the synthetic clip: a real video has no true identity');
      const { Runtime, machineDescription, ensureCalibrated, modelFromArg } = await engine();
      const rt = await Runtime.create({ device: program.opts().device });
      const { benchEncode } = await import('../../core/encode/bench');
      const { REFERENCE_SCHEDULE } = await import('../../core/encode/schedule');
      const { loadBasis } = await import('../../core/model/basis');
      const { qualitySchedule } = await import('./encode');
      const { parseRange } = await import('../options');
      if (o.model && o.configF) throw new UsageError('give --model or --config-f, not both');
      const bundle = o.configF ? await configFBenchModel(int(o.configF, '--config-f', 16), rt) : await modelFromArg(o.model, rt);
      await ensureCalibrated(bundle, rt);
      const basis = loadBasis(bundle);
      const range = o.video ? parseRange(o.range, '--range') : undefined;
      const video = o.video ? { path: resolve(o.video), start: range!.start, count: range!.count } : undefined;
      const nets = video ? await (await import('../../core/face/nets')).FaceNets.load(rt) : undefined;
      const report = await benchEncode({
        rt,
        bundle,
        basis,
        schedules: [...(which.includes('default') ? [{ ...(await qualitySchedule(o.quality)), name: 'default' }] : []), ...(which.includes('reference') ? [REFERENCE_SCHEDULE] : [])],
        frames: int(o.frames, '--frames', 2),
        seed: int(o.seed, '--seed'),
        video,
        trueIdentity: o.trueIdentity === true,
        nets,
        maxBatch: o.maxBatch !== undefined ? int(o.maxBatch, '--max-batch', 1) : undefined,
        machine: machineDescription(rt),
        log: progress,
        work: o.work !== undefined ? resolve(String(o.work)) : undefined
      });
      for (const r of report.results) {
        const worst = r.worstTracks ? ` (worst: ${r.worstTracks.map((t) => `${t.name} ${t.r.toFixed(2)}`).join(', ')})` : '';
        const corr = r.paramCorrelation ? `, tracks r min ${r.paramCorrelation.min.toFixed(3)} median ${r.paramCorrelation.median.toFixed(3)}${worst}` : '';
        progress(
          `${r.schedule.padEnd(9)} identity ${r.identityForwardEquivalents.toFixed(0)} fwd-eq (${r.identitySeconds.toFixed(1)} s), frames ${r.forwardEquivalentsPerFrame.toFixed(1)} fwd-eq/frame (${r.secondsPerFrame.toFixed(2)} s/frame), PSNR median ${r.psnr.median.toFixed(2)} min ${r.psnr.min.toFixed(2)} dB${corr}, mean loss ${r.meanLoss.toPrecision(4)}${r.restartedFrames.length ? `, ${r.restartedFrames.length} frame(s) solved again` : ''}${r.identityRefinement ? `, identity refined on ${r.identityRefinement.frames.length} frames` : ''}`
        );
      }
      if (report.speedup) progress(`speedup: ${report.speedup.perFrame.toFixed(1)}x per frame${report.speedup.identity === null ? ' (identity given)' : `, ${report.speedup.identity.toFixed(1)}x identity`}`);
      progress(`peak memory ${report.peakRssMB.toFixed(0)} MB`);
      // `--json` after `bench encode` can land on the parent command (commander lets a parent's
      // options appear anywhere), so either counts.
      if (o.json || bench.opts().json) printJson(report);
    });
}

/** A config-f network with random weights as a bundle in the models folder, calibrated on 128 channels once. */
async function configFBenchModel(res: number, rt: Runtime) {
  const { existsSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { CONFIG_F } = await import('../../core/model/architecture');
  const { createSeededModel } = await import('../../core/model/create');
  const { loadBundle } = await import('../../core/model/bundle');
  const { hasBasis, saveBasis } = await import('../../core/model/basis');
  const { calibrateFixedRegions } = await import('../../core/model/calibrate');
  const dir = join(modelsDir(), `config-f-${res}-bench`);
  if (!existsSync(join(dir, 'manifest.json'))) {
    progress(`creating a config-f ${res}x${res} network with random weights in ${dir}`);
    await createSeededModel(dir, CONFIG_F(res), 1, rt, `config-f-${res}-bench`);
  }
  const bundle = loadBundle(dir);
  if (!hasBasis(bundle)) {
    progress(`calibrating ${bundle.manifest.name} on 128 sampled channels (fixed regions; once)`);
    saveBasis(bundle, await calibrateFixedRegions(bundle, rt, { probes: 1, maxCandidates: 128, samples: 256, batch: 8 }));
  }
  return bundle;
}
