// `stylecast bench encode`: the same input encoded with two schedules in one run, costs in
// forward-equivalents (processor time of a stage over the processor time of one
// full-resolution forward of one frame of the same model, measured in the same run).
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readPlainFileSync, writeFileAtomicSync } from '../util/fs';
import { alignVideo, type AlignVideoResult, type FaceNetsLike } from '../face/pipeline';
import { evaluateProject } from '../metrics/evaluate';
import { EditBasis, PARAM_COUNT } from '../model/basis';
import type { ModelBundle } from '../model/bundle';
import { Generator } from '../model/generator';
import { FrameRenderer } from '../render/render';
import type { Runtime } from '../runtime';
import { probeVideo } from '../video';
import { ParamDecoder } from './decoder';
import { runEncodeJob } from './job';
import { refineFitId } from './refine';
import { resolveAlign } from './presets';
import type { EncodeSchedule } from './schedule';
import { makeTruth, writeSynthClip } from './synth';

export interface EncodeBenchResult {
  schedule: string;
  model: string;
  resolution: number;
  frames: number;
  identityForwardEquivalents: number;
  forwardEquivalentsPerFrame: number;
  identitySeconds: number;
  secondsPerFrame: number;
  psnr: { median: number; min: number };
  paramCorrelation: { min: number; median: number } | null;
  worstTracks: { name: string; r: number }[] | null;
  meanLoss: number;
  /** Each stage's share: forward-equivalents per frame of the clip (identity stages: in total). */
  stages: { id: string; evaluations: number; forwardEquivalents: number }[];
  maxBatch: number;
  /** Frames that the schedule's restart rule solved again (their cost is in the frames' time). */
  restartedFrames: number[];
  /** The frames the identity was refined on (more than the schedule's count when held-out frames joined), their mean loss after the first round and the held-out frames' losses; null when no refinement ran (a given identity, one frame). */
  identityRefinement: { frames: number[]; refinedLoss: number; probes: { frame: number; loss: number }[] } | null;
}

export interface EncodeBenchReport {
  machine: string;
  forwardMsPerFrame: number;
  /** Processor time of that forward, which the forward-equivalents divide by. */
  forwardCpuMsPerFrame: number;
  input: { kind: 'synthetic'; seed: number } | { kind: 'video'; path: string; start: number; count: number; align: 'face' | 'none' };
  results: EncodeBenchResult[];
  /** The reference's cost over the default's; null when only one schedule ran (identity: null when it was given). */
  speedup: { perFrame: number; identity: number | null } | null;
  /** The synthetic clip's true w_ID was kept (`--true-identity`): no identity stages ran. */
  identityGiven: boolean;
  /** Peak resident memory of the whole run (MB). */
  peakRssMB: number;
  /**
   * With a work folder: the folder, and the processor time of the forward measured by each run
   * that worked on this bench (a bench stopped and run again); forwardCpuMsPerFrame is their median.
   */
  work: { dir: string; forwardCpuMs: number[] } | null;
}

export interface MeasuredEncode {
  schedule: string;
  frames: number;
  identityCpuMs: number;
  identityWallMs: number;
  framesCpuMs: number;
  framesWallMs: number;
  stages: { id: string; evaluations: number; cpuMs: number; phase: 'identity' | 'refine' | 'frames' }[];
  psnr: { median: number; min: number };
  paramCorrelation: { min: number; median: number } | null;
  /** The three tracks that follow the truth least (synthetic input). */
  worstTracks: { name: string; r: number }[] | null;
  meanLoss: number;
  maxBatch: number;
  restartedFrames: number[];
  identityRefinement: EncodeBenchResult['identityRefinement'];
}

/** The bench's arithmetic: measured processor times -> forward-equivalents, and the speedups of the first result over the last. */
export function encodeBenchFigures(forwardCpuMs: number, model: { name: string; resolution: number }, runs: MeasuredEncode[]): { results: EncodeBenchResult[]; speedup: { perFrame: number; identity: number | null } | null } {
  if (!(forwardCpuMs > 0)) throw new Error(`a forward's processor time must be positive, got ${forwardCpuMs}`);
  const results = runs.map((r) => ({
    schedule: r.schedule,
    model: model.name,
    resolution: model.resolution,
    frames: r.frames,
    identityForwardEquivalents: r.identityCpuMs / forwardCpuMs,
    forwardEquivalentsPerFrame: r.framesCpuMs / r.frames / forwardCpuMs,
    identitySeconds: r.identityWallMs / 1000,
    secondsPerFrame: r.framesWallMs / r.frames / 1000,
    psnr: r.psnr,
    paramCorrelation: r.paramCorrelation,
    worstTracks: r.worstTracks,
    meanLoss: r.meanLoss,
    stages: r.stages.map((s) => ({ id: s.id, evaluations: s.evaluations, forwardEquivalents: s.cpuMs / forwardCpuMs / (s.phase === 'frames' ? r.frames : 1) })),
    maxBatch: r.maxBatch,
    restartedFrames: r.restartedFrames,
    identityRefinement: r.identityRefinement
  }));
  const first = results[0]!;
  const last = results[results.length - 1]!;
  return {
    results,
    speedup:
      results.length < 2
        ? null
        : { perFrame: last.forwardEquivalentsPerFrame / first.forwardEquivalentsPerFrame, identity: first.identityForwardEquivalents > 0 ? last.identityForwardEquivalents / first.identityForwardEquivalents : null }
  };
}

/** Median processor and wall time of one forward of one frame at full resolution (after two warm-ups). */
export async function forwardCost(dec: ParamDecoder, rt: Runtime, wid: Float32Array, runs = 15): Promise<{ cpuMs: number; wallMs: number }> {
  const graph = dec.renderGraph(1);
  const feeds = { wid: { data: wid, dims: [1, dec.numWs, dec.wDim] }, params: { data: new Float32Array(PARAM_COUNT), dims: [1, PARAM_COUNT] } };
  await rt.run(graph, feeds);
  await rt.run(graph, feeds);
  const cpu: number[] = [];
  const wall: number[] = [];
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await rt.run(graph, feeds);
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  return { cpuMs: med(cpu), wallMs: med(wall) };
}

export interface EncodeBenchOptions {
  rt: Runtime;
  bundle: ModelBundle;
  basis: EditBasis;
  /** Schedules in order: the one under test first, the reference last. */
  schedules: EncodeSchedule[];
  frames: number;
  /** Synthetic clip seed (ignored with `video`). */
  seed: number;
  video?: { path: string; start: number; count: number };
  /** Keep the synthetic clip's true w_ID (no identity stages): times the frames of large models. */
  trueIdentity?: boolean;
  nets?: FaceNetsLike;
  maxBatch?: number;
  machine: string;
  log?: (line: string) => void;
  /**
   * A folder that keeps the clip, both projects and each run's forward timing, so that a bench
   * stopped part way (above 64 px it takes hours) goes on where it stopped when run again with
   * the same folder and input: each encode resumes its project (identity-progress.ts), and its
   * saved cost adds up. A schedule changed since (its other options the same) starts its encode
   * again; the others go on. Default: a temporary folder, removed at the end.
   */
  work?: string;
  /** How often an encode's identity search saves the step under way (see EncodeJobOptions). */
  identitySaveEveryMs?: number;
}

const BENCH_STATE = 'bench-encode.json';

interface BenchState {
  format: 'stylecast-bench-encode';
  key: string;
  clip: boolean;
  forwards: { cpuMs: number; wallMs: number; at: string }[];
}

/**
 * Opens (or starts) a work folder for the bench `key`; refuses a folder that holds anything else.
 * A folder of the same model and input whose schedules differ only in some of them keeps the
 * encodes of the others: each changed schedule's project is removed, so its encode starts again
 * (a config-f reference encode takes hours, and a change to the default schedule need not lose it).
 */
function openWork(dir: string, key: string, log: (line: string) => void): BenchState {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, BENCH_STATE);
  if (!existsSync(file)) {
    const stray = readdirSync(dir).filter((f) => !f.startsWith('.'));
    if (stray.length) throw new Error(`${dir} is not empty and holds no bench (${stray.slice(0, 3).join(', ')}${stray.length > 3 ? ', ...' : ''}): choose an empty or new folder for --work`);
    return { format: 'stylecast-bench-encode', key, clip: false, forwards: [] };
  }
  let st: BenchState;
  try {
    st = JSON.parse(readPlainFileSync(dir, BENCH_STATE, { max: 1 << 20 }).toString('utf8')) as BenchState;
  } catch (e) {
    throw new Error(`${file} cannot be read (${(e as Error).message}): choose another folder for --work`);
  }
  if (st?.format !== 'stylecast-bench-encode' || !Array.isArray(st.forwards) || !st.forwards.every((f) => typeof f?.cpuMs === 'number' && f.cpuMs > 0 && typeof f.wallMs === 'number')) {
    throw new Error(`${file} is not a bench's state: choose another folder for --work`);
  }
  if (st.key !== key) {
    const changed = changedSchedules(st.key, key);
    if (!changed) throw new Error(`${dir} holds a bench of another model, input, option or set of schedules: run it with the same options, or choose another folder for --work`);
    for (const { index, name } of changed) {
      log(`the ${name} schedule is not the one this folder's run ${index} used: its encode starts again (the other schedules' go on)`);
      rmSync(join(dir, runDir(index)), { recursive: true, force: true });
    }
    st.key = key;
    saveWork(dir, st);
  }
  return st;
}

const runDir = (k: number) => `run${k}.stylecast`;

/** The schedules (index, name) in which bench key `now` differs from `was`; null when anything else differs (model, input, options, the number of schedules) or a key cannot be read. */
export function changedSchedules(was: string, now: string): { index: number; name: string }[] | null {
  let a: { schedules?: unknown[] };
  let b: { schedules?: unknown[] };
  try {
    [a, b] = [JSON.parse(was), JSON.parse(now)];
  } catch {
    return null;
  }
  if (!Array.isArray(a?.schedules) || !Array.isArray(b?.schedules) || a.schedules.length !== b.schedules.length) return null;
  if (JSON.stringify({ ...a, schedules: null }) !== JSON.stringify({ ...b, schedules: null })) return null;
  const out: { index: number; name: string }[] = [];
  b.schedules.forEach((sch, index) => {
    if (JSON.stringify(sch) !== JSON.stringify(a.schedules![index])) out.push({ index, name: String((sch as { name?: unknown })?.name ?? index) });
  });
  return out;
}

const saveWork = (dir: string, st: BenchState) => writeFileAtomicSync(join(dir, BENCH_STATE), `${JSON.stringify(st, null, 2)}\n`);

const median = (xs: number[]) => {
  const a = [...xs].sort((x, y) => x - y);
  return a.length % 2 ? a[a.length >> 1]! : 0.5 * (a[a.length / 2 - 1]! + a[a.length / 2]!);
};

export async function benchEncode(o: EncodeBenchOptions): Promise<EncodeBenchReport> {
  const log = o.log ?? (() => {});
  const key = JSON.stringify({
    model: o.bundle.manifest.id,
    basis: o.basis.meta.sha256,
    input: o.video ? { video: o.video } : { seed: o.seed, frames: o.frames },
    trueIdentity: !!o.trueIdentity,
    maxBatch: o.maxBatch ?? null,
    schedules: o.schedules
  });
  const work = o.work ? resolve(o.work) : null;
  const state = work ? openWork(work, key, log) : null;
  if (work && state!.forwards.length) log(`resuming the bench in ${work} (its run ${state!.forwards.length + 1})`);
  const dir = work ?? mkdtempSync(join(tmpdir(), 'stylecast-bench-'));
  try {
    const gen = new Generator(o.bundle, o.rt);
    const dec = new ParamDecoder(gen.net, o.basis);
    const res = dec.res;
    let video: string;
    let start = 0;
    let count = o.frames;
    let truth: number[][] | undefined;
    let trueWid: Float32Array | undefined;
    if (o.trueIdentity && o.video) throw new Error('the true identity is known only for a synthetic clip, not for --video');
    let align: 'face' | 'none' = 'none';
    let aligned: AlignVideoResult | undefined;
    let input: EncodeBenchReport['input'];
    if (o.video) {
      video = o.video.path;
      ({ start, count } = o.video);
      const info = await probeVideo(video);
      align = resolveAlign('auto', info, res);
      if (align === 'face') {
        if (!o.nets) throw new Error('a video that is not aligned at the model resolution needs the face networks');
        log(`aligning frames ${start}:${start + count} of ${video} once for every schedule`);
        aligned = await alignVideo({ path: video, nets: o.nets, size: res, info, frames: { start, count } });
      }
      input = { kind: 'video', path: video, start, count, align };
    } else {
      const t = await makeTruth(gen, { seed: o.seed, frames: o.frames });
      video = join(dir, 'synthetic.mp4');
      if (!state?.clip) {
        log(`synthesising ${o.frames} frames (seed ${o.seed})`);
        // The folder is marked as this bench's before the clip is written: a run killed while
        // writing it leaves a folder that the next run recognises (and writes the clip again).
        if (state) saveWork(dir, state);
        await writeSynthClip(dec, o.rt, t, video, 25);
        if (state) {
          state.clip = true;
          saveWork(dir, state);
        }
      }
      truth = Array.from({ length: o.frames }, (_, i) => Array.from(t.params.subarray(i * PARAM_COUNT, (i + 1) * PARAM_COUNT)));
      if (o.trueIdentity) trueWid = t.wid;
      input = { kind: 'synthetic', seed: o.seed };
    }
    const measured = await forwardCost(dec, o.rt, new Float32Array(dec.numWs * dec.wDim).map((_, i) => gen.net.wAvg[i % dec.wDim]!));
    log(`one ${res}x${res} forward: ${measured.wallMs.toFixed(1)} ms (processor ${measured.cpuMs.toFixed(1)} ms)`);
    // Resumed: the encodes' costs add up over the runs, so they are divided by the median of every run's forward.
    let fwd = measured;
    if (state) {
      state.forwards.push({ ...measured, at: new Date().toISOString() });
      saveWork(dir, state);
      fwd = { cpuMs: median(state.forwards.map((f) => f.cpuMs)), wallMs: median(state.forwards.map((f) => f.wallMs)) };
    }
    const renderer = new FrameRenderer(o.bundle, o.basis, o.rt);
    const runs: MeasuredEncode[] = [];
    for (const [k, schedule] of o.schedules.entries()) {
      log(`encoding with the ${schedule.name} schedule`);
      let last = '';
      const r = await runEncodeJob({
        video,
        bundle: o.bundle,
        basis: o.basis,
        rt: o.rt,
        projectDir: join(dir, runDir(k)),
        frames: { start, count },
        align,
        aligned,
        schedule,
        givenIdentity: trueWid,
        maxBatch: o.maxBatch,
        identitySaveEveryMs: o.identitySaveEveryMs,
        onProgress: (p) => {
          const line = `  [${p.stage}] ${Math.floor(p.fraction * 20) * 5}%`;
          if (line !== last) log(line);
          last = line;
        }
      });
      const ev = await evaluateProject({ project: r.project, renderer, truth: truth ? { params: truth } : undefined });
      const loss = r.project.loss.subarray(0, count);
      // The refinement's frame fits are booked apart (refineFitId): in the table, with the identity's phases.
      const phaseOf = new Map<string, MeasuredEncode['stages'][number]['phase']>(schedule.stages.flatMap((s): [string, MeasuredEncode['stages'][number]['phase']][] => (s.phase === 'refine' ? [[s.id, s.phase], [refineFitId(s.id), s.phase]] : [[s.id, s.phase]])));
      runs.push({
        schedule: schedule.name,
        frames: count,
        ...r.time,
        stages: r.stageCosts.filter((c) => phaseOf.has(c.id)).map((c) => ({ id: c.id, evaluations: c.evaluations, cpuMs: c.cpuMs, phase: phaseOf.get(c.id)! })),
        psnr: { median: ev.psnr.median, min: ev.psnr.min },
        paramCorrelation: ev.paramCorrelation ? { min: ev.paramCorrelation.min, median: ev.paramCorrelation.median } : null,
        worstTracks: ev.paramCorrelation
          ? Object.entries(ev.paramCorrelation.perTrack)
              // A track whose correlation cannot be computed (null) is the worst: NaN here.
              .sort((a, b) => (a[1] ?? -Infinity) - (b[1] ?? -Infinity))
              .slice(0, 3)
              .map(([name, r]) => ({ name, r: r ?? NaN }))
          : null,
        meanLoss: loss.reduce((a, b) => a + b, 0) / count,
        maxBatch: r.maxBatch,
        restartedFrames: r.restarts,
        identityRefinement: r.identity ? { frames: r.identity.refineFrames, refinedLoss: r.identity.refinedLoss, probes: r.identity.probes } : null
      });
      // Each schedule's figures as soon as it ends: a long run (config-f, both schedules: hours on
      // a CPU) that is stopped later still leaves what it measured in its log.
      const [done] = encodeBenchFigures(fwd.cpuMs, { name: o.bundle.manifest.name, resolution: res }, [runs[runs.length - 1]!]).results;
      log(`result of the ${schedule.name} schedule: ${JSON.stringify(done)}`);
    }
    const figures = encodeBenchFigures(fwd.cpuMs, { name: o.bundle.manifest.name, resolution: res }, runs);
    return {
      machine: o.machine,
      forwardMsPerFrame: fwd.wallMs,
      forwardCpuMsPerFrame: fwd.cpuMs,
      input,
      ...figures,
      identityGiven: trueWid !== undefined,
      peakRssMB: process.resourceUsage().maxRSS / 1024,
      work: state ? { dir, forwardCpuMs: state.forwards.map((f) => f.cpuMs) } : null
    };
  } finally {
    if (!work) rmSync(dir, { recursive: true, force: true });
  }
}
