// The long jobs themselves, on top of core. They run inside a job process
// (worker.ts) and talk to main only through the JobContext.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runEncodeJob } from '../../core/encode/job';
import { discardFailedEncode, encoderSchedule, resolveAlign } from '../../core/encode/presets';
import { evaluateAndSave } from '../../core/metrics/project-eval';
import { hasBasis, loadBasis, saveBasis, type EditBasis } from '../../core/model/basis';
import { loadBundle, type ModelBundle } from '../../core/model/bundle';
import { calibrateFixedRegions } from '../../core/model/calibrate';
import { openProject, PROJECT_FILE } from '../../core/project';
import { toRgb8 } from '../../core/render/image';
import { identityFromPortrait, invertPortrait as invertPortraitImage, portraitCrop, puppeteerProject } from '../../core/render/puppeteer';
import type { PortraitTune } from '../../core/tune/portrait';
import { FrameRenderer, exportVideo, renderSizes } from '../../core/render/render';
import type { Runtime } from '../../core/runtime';
import { projectRenderer } from '../../core/tune/store';
import type { TuneEstimate } from '../../core/tune/estimate';
import { conformVideo, constantRateOf, probeVideo } from '../../core/video';
import { THUMBNAIL_SIZE } from '../../shared/contract';
import { editedParams } from '../edits';
import { pngDataUrl, thumbnail } from '../png';
import { projectTracks } from '../tracks';
import type { ConformSpec, EncodeSpec, EvaluateSpec, ExportSpec, FrameMessage, ImportModelSpec, InvertPortraitSpec, JobSpec, PortraitIdentity, ProgressMessage, PuppeteerSpec, TuneEstimateSpec, TuneSpec } from './protocol';

export interface JobContext {
  signal: AbortSignal;
  progress(p: Omit<ProgressMessage, 'type'>): void;
  frame(f: Omit<FrameMessage, 'type'>): void;
  result(wid: Float32Array): void;
  estimate(e: TuneEstimate): void;
}

export interface TaskResult {
  message: string;
  path: string | null;
}

let runtime: Promise<Runtime> | undefined;
const getRuntime = (): Promise<Runtime> => (runtime ??= import('../../core/runtime').then((m) => m.Runtime.create()));

/**
 * The bundle and its edit basis, calibrating it first (once, stored in the bundle) when it has
 * none. Only a bundle inside the models folder (main's `writable`) is ever written.
 */
async function modelWithBasis(dir: string, writable: boolean, rt: Runtime, ctx: JobContext): Promise<{ bundle: ModelBundle; basis: EditBasis }> {
  const bundle = loadBundle(dir);
  if (!hasBasis(bundle)) {
    if (!writable) {
      throw new Error(`The model bundle ${dir} is not calibrated and lies outside the models folder, where Stylecast never writes: import it in the Model Manager or copy the folder into the models folder, then try again.`);
    }
    const basis = await calibrateFixedRegions(bundle, rt, {
      signal: ctx.signal,
      onProgress: (stage, f) => ctx.progress({ stage: 'calibrate', fraction: 0, etaSec: null, message: `calibrating ${bundle.manifest.name} (first use): ${stage} ${Math.round(f * 100)}%`, frame: null, of: null, loss: null })
    });
    saveBasis(bundle, basis);
  }
  return { bundle, basis: loadBasis(bundle) };
}

const loadFaceNets = async (rt: Runtime) => (await import('../../core/face/nets')).FaceNets.load(rt);

/** The largest size the model renders that fits a thumbnail. */
const thumbSize = (resolution: number): number => renderSizes(resolution).filter((s) => s <= THUMBNAIL_SIZE).pop() ?? 16;

async function encode(spec: EncodeSpec, ctx: JobContext): Promise<TaskResult> {
  const rt = await getRuntime();
  const info = await probeVideo(spec.video);
  if (spec.start >= info.frameCount) throw new Error(`${spec.video} has ${info.frameCount} frames: the encode cannot start at frame ${spec.start}.`);
  const count = Math.min(spec.count ?? info.frameCount - spec.start, info.frameCount - spec.start);
  const { bundle, basis } = await modelWithBasis(spec.model, spec.modelWritable, rt, ctx);
  const res = bundle.manifest.architecture.resolution;
  const align = resolveAlign(spec.align, info, res);
  const existed = existsSync(spec.out);
  if (existed && (!statSync(spec.out).isDirectory() || !existsSync(join(spec.out, PROJECT_FILE)))) {
    throw new Error(`${spec.out} exists and is not a Stylecast project: choose a new project name.`);
  }
  const nets = align === 'face' ? await loadFaceNets(rt) : undefined;
  const renderer = new FrameRenderer(bundle, basis, rt);
  const size = thumbSize(res);
  let encoded = 0;
  try {
    const r = await runEncodeJob({
      video: spec.video,
      bundle,
      basis,
      rt,
      projectDir: spec.out,
      frames: { start: spec.start, count },
      align,
      nets,
      identityFrame: spec.identityFrame ?? undefined,
      schedule: encoderSchedule(spec.quality),
      signal: ctx.signal,
      onProgress: (p) =>
        ctx.progress({ stage: p.stage, fraction: p.fraction, etaSec: p.etaSec, message: p.message, frame: p.frame ?? null, of: p.of ?? null, loss: p.loss ?? null }),
      onFrames: async (f) => {
        const renders = await renderer.render(f.wid, f.params, size);
        f.crops.forEach((crop, k) => {
          const source = thumbnail({ data: toRgb8(crop, 0, f.resolution, f.resolution), width: f.resolution, height: f.resolution });
          ctx.frame({
            frame: f.start + k,
            loss: f.loss[k]!,
            source: pngDataUrl(source),
            render: pngDataUrl({ data: renders[k]!, width: size, height: size })
          });
        });
        encoded = f.start + f.crops.length;
      }
    });
    const perFrame = r.framesEncoded ? `, ${r.secondsPerFrame.toFixed(2)} s per frame` : '';
    return { message: `${r.resumed ? 'Resumed and finished' : 'Encoded'} ${count} frames into ${spec.out}${perFrame}.`, path: spec.out };
  } catch (e) {
    const kept = await discardFailedEncode(spec.out, existed, e);
    if (encoded > 0) (e as Error).message += ` (frames 0 to ${encoded - 1} are saved; start the encode again to resume)`;
    else if (kept) (e as Error).message += ` (${kept}; start the encode again to resume)`;
    throw e;
  }
}

async function exportTask(spec: ExportSpec, ctx: JobContext): Promise<TaskResult> {
  const rt = await getRuntime();
  const project = await openProject(spec.project);
  const { bundle, basis } = await modelWithBasis(spec.model, spec.modelWritable, rt, ctx);
  const params = spec.edits === null ? undefined : editedParams(project, projectTracks(project, basis).groups, spec.edits);
  const total = spec.count ?? project.doc.encoding.encodedThrough - (spec.start ?? 0);
  const t0 = performance.now();
  ctx.progress({ stage: 'export', fraction: 0, etaSec: null, message: `rendering ${total} frames`, frame: 0, of: total, loss: null });
  const r = await exportVideo({
    project,
    renderer: (await projectRenderer(project, bundle, basis, rt, { ignoreDelta: spec.ignoreDelta })).renderer,
    out: spec.out,
    size: spec.size,
    pasteBack: spec.pasteBack,
    audio: spec.audio,
    crf: spec.crf,
    lossless: spec.lossless,
    frames: spec.start !== null || spec.count !== null ? { start: spec.start ?? 0, count: total } : undefined,
    params,
    source: spec.source,
    signal: ctx.signal,
    onProgress: (done, of) => {
      const elapsed = (performance.now() - t0) / 1000;
      ctx.progress({ stage: 'export', fraction: done / of, etaSec: (elapsed / done) * (of - done), message: `rendered frame ${done} of ${of}`, frame: done, of, loss: null });
    }
  });
  return { message: `Exported ${r.frames} frames (${r.width}x${r.height}${r.audio ? ', with audio' : ''}) to ${r.path}.`, path: r.path };
}

async function evaluate(spec: EvaluateSpec, ctx: JobContext): Promise<TaskResult> {
  const rt = await getRuntime();
  const project = await openProject(spec.project);
  const { bundle, basis } = await modelWithBasis(spec.model, spec.modelWritable, rt, ctx);
  const say = (message: string) => ctx.progress({ stage: 'evaluate', fraction: 0, etaSec: null, message, frame: null, of: null, loss: null });
  say('loading the face networks');
  const t0 = performance.now();
  const { summary } = await evaluateAndSave({
    project,
    bundle,
    basis,
    rt,
    nets: await loadFaceNets(rt),
    signal: ctx.signal,
    onLog: say,
    onProgress: (done, of) => {
      const elapsed = (performance.now() - t0) / 1000;
      ctx.progress({ stage: 'evaluate', fraction: done / of, etaSec: (elapsed / done) * (of - done), message: `evaluated frame ${done} of ${of}`, frame: done, of, loss: null });
    }
  });
  return { message: `Evaluated ${summary.frames} frames: PSNR median ${summary.psnr.median.toFixed(2)} dB, SSIM median ${summary.ssim.median.toFixed(4)}. Wrote ${summary.report} and ${summary.plot}.`, path: project.dir };
}

async function portraitIdentity(path: string, bundle: ModelBundle, basis: EditBasis, rt: Runtime, ctx: JobContext): Promise<Float32Array> {
  ctx.progress({ stage: 'portrait', fraction: 0, etaSec: null, message: `finding the face in ${path}`, frame: null, of: null, loss: null });
  return identityFromPortrait(path, bundle, basis, rt, await loadFaceNets(rt), undefined, ctx.signal);
}

/** A portrait identity tuned on the portrait: its latent (main's cached one, or inverted now), its crop and the delta. */
async function tunedPortraitIdentity(spec: PuppeteerSpec & { identity: PortraitIdentity }, bundle: ModelBundle, basis: EditBasis, rt: Runtime, ctx: JobContext): Promise<{ wid: Float32Array; label: string; tuned: PortraitTune }> {
  const { portraitTuneSettings, tunePortrait } = await import('../../core/tune');
  const settings = spec.tune?.steps ? { steps: spec.tune.steps } : {};
  portraitTuneSettings(bundle, settings); // a model too small for any rank fails before the inversion
  const path = spec.identity.path;
  ctx.progress({ stage: 'portrait', fraction: 0, etaSec: null, message: `finding the face in ${path}`, frame: null, of: null, loss: null });
  const nets = await loadFaceNets(rt);
  const { wid, crop } = spec.identity.wid ? { wid: spec.identity.wid, crop: await portraitCrop(path, bundle.manifest.architecture.resolution, nets) } : await invertPortraitImage(path, bundle, basis, rt, nets, undefined, ctx.signal);
  const tuned = await tunePortrait({
    crop,
    wid,
    label: path,
    bundle,
    basis,
    rt,
    settings,
    signal: ctx.signal,
    onProgress: (p) => ctx.progress({ stage: 'tune', fraction: 0.05 + 0.85 * p.fraction, etaSec: p.etaSec, message: `tuning on the portrait: ${p.message}`, frame: null, of: null, loss: p.loss ?? null })
  });
  return { wid, label: path, tuned };
}

async function puppeteer(spec: PuppeteerSpec, ctx: JobContext): Promise<TaskResult> {
  const rt = await getRuntime();
  const motion = await openProject(spec.motion);
  const { bundle, basis } = await modelWithBasis(spec.model, spec.modelWritable, rt, ctx);
  let identity: { project: Awaited<ReturnType<typeof openProject>> } | { wid: Float32Array; label: string; tuned?: PortraitTune };
  if (spec.identity.kind === 'project') {
    identity = { project: await openProject(spec.identity.path) };
  } else if (spec.tune) {
    identity = await tunedPortraitIdentity({ ...spec, identity: spec.identity }, bundle, basis, rt, ctx);
  } else {
    identity = { wid: spec.identity.wid ?? (await portraitIdentity(spec.identity.path, bundle, basis, rt, ctx)), label: spec.identity.path };
  }
  ctx.progress({ stage: 'puppeteer', fraction: 0.9, etaSec: null, message: `writing ${spec.out}`, frame: null, of: null, loss: null });
  const p = await puppeteerProject({ motion, identity, bundle, basis, out: spec.out, ignoreDelta: spec.ignoreDelta, options: { mode: spec.mode, only: spec.lock, strength: spec.strength } });
  const t = 'tuned' in identity ? identity.tuned?.report : undefined;
  const how = t ? `, tuned on the portrait (PSNR ${t.psnr.before.tuned.toFixed(2)} → ${t.psnr.after.tuned.toFixed(2)} dB)` : spec.ignoreDelta ? ', untuned (the identity’s delta was left out)' : '';
  return { message: `Wrote ${p.dir}: ${p.doc.encoding.encodedThrough} frames driven by ${motion.dir}${how}.`, path: p.dir };
}

async function invertPortrait(spec: InvertPortraitSpec, ctx: JobContext): Promise<TaskResult> {
  const rt = await getRuntime();
  const { bundle, basis } = await modelWithBasis(spec.model, spec.modelWritable, rt, ctx);
  ctx.result(await portraitIdentity(spec.path, bundle, basis, rt, ctx));
  return { message: `Inverted ${spec.path}.`, path: null };
}

async function importModel(spec: ImportModelSpec, ctx: JobContext): Promise<TaskResult> {
  const { importModelFile } = await import('../../core/model/manager');
  const say = (message: string) => ctx.progress({ stage: 'import', fraction: 0, etaSec: null, message, frame: null, of: null, loss: null });
  say(`Reading ${spec.file}`);
  const r = await importModelFile(spec.file, { modelsDir: spec.modelsDir, catalog: spec.catalog, signal: ctx.signal, onLog: say, ...(spec.name ? { name: spec.name } : {}), ...(spec.knownSha256 ? { knownSha256: spec.knownSha256 } : {}) });
  return { message: r.kind === 'bundle' ? `Imported ${spec.file} as the bundle ${r.path}` : `Stored ${spec.file} as ${r.catalogName ?? 'perceptual weights'} at ${r.path}`, path: r.path };
}

/** Decimal kilobytes with one decimal. */
const kb = (bytes: number): string => `${(bytes / 1000).toFixed(1)} KB`;

async function tune(spec: TuneSpec, ctx: JobContext): Promise<TaskResult> {
  const rt = await getRuntime();
  const { runTune } = await import('../../core/tune/tune');
  const project = await openProject(spec.project);
  const { bundle, basis } = await modelWithBasis(spec.model, spec.modelWritable, rt, ctx);
  const r = await runTune({
    project,
    bundle,
    basis,
    rt,
    settings: { steps: spec.steps, rank: spec.rank },
    signal: ctx.signal,
    onProgress: (p) => ctx.progress({ stage: p.stage, fraction: p.fraction, etaSec: p.etaSec, message: p.message, frame: null, of: null, loss: null })
  });
  const { before, after } = r.report.psnr;
  const resumed = r.resumedFromStep > 0 ? ` (resumed at step ${r.resumedFromStep})` : '';
  return {
    message: `Fine-tuned ${r.report.frames.tuned} frames in ${spec.steps} steps${resumed}: held-out PSNR ${before.heldOut.toFixed(2)} → ${after.heldOut.toFixed(2)} dB, delta ${kb(r.report.deltaBytes)}.`,
    path: spec.project
  };
}

async function tuneEstimate(spec: TuneEstimateSpec, ctx: JobContext): Promise<TaskResult> {
  const rt = await getRuntime();
  const { estimateTune } = await import('../../core/tune/estimate');
  const project = await openProject(spec.project);
  const { bundle, basis } = await modelWithBasis(spec.model, spec.modelWritable, rt, ctx);
  ctx.estimate(await estimateTune({ project, bundle, basis, rt, settings: { rank: spec.rank }, maxRankAsked: spec.maxRankAsked, signal: ctx.signal }));
  return { message: `Timed a tuning step of ${spec.project}.`, path: null };
}

async function conform(spec: ConformSpec, ctx: JobContext): Promise<TaskResult> {
  const info = await probeVideo(spec.video);
  const rate = constantRateOf(info);
  const perSecond = (x: number) => x.toFixed(3).replace(/\.?0+$/, '');
  const what = `a copy at ${perSecond(rate.num / rate.den)} frames per second`;
  ctx.progress({ stage: 'conform', fraction: 0, etaSec: null, message: `writing ${what}`, frame: null, of: null, loss: null });
  const r = await conformVideo({
    input: spec.video,
    out: spec.out,
    info,
    signal: ctx.signal,
    onProgress: (fraction, frames) => ctx.progress({ stage: 'conform', fraction, etaSec: null, message: `writing ${what}: ${frames} frames`, frame: null, of: null, loss: null })
  });
  return { message: `Wrote ${r.path}: ${r.frameCount} frames at ${perSecond(r.fps)} per second (the source had ${info.frameCount} at ${perSecond(info.fps)} on average).`, path: r.path };
}

export function runTask(spec: JobSpec, ctx: JobContext): Promise<TaskResult> {
  switch (spec.kind) {
    case 'import-model':
      return importModel(spec, ctx);
    case 'encode':
      return encode(spec, ctx);
    case 'export':
      return exportTask(spec, ctx);
    case 'puppeteer':
      return puppeteer(spec, ctx);
    case 'evaluate':
      return evaluate(spec, ctx);
    case 'invert-portrait':
      return invertPortrait(spec, ctx);
    case 'tune':
      return tune(spec, ctx);
    case 'tune-estimate':
      return tuneEstimate(spec, ctx);
    case 'conform':
      return conform(spec, ctx);
  }
}
