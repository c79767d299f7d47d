// Generator fine-tuning (METHOD.md step 4, in the spirit of pivotal tuning): w_ID and every
// p_t stay fixed; a low-rank delta of the synthesis network is optimised with the encoder's
// own losses on a sample of the project's frames, plus a locality term that keeps renders
// of random latents near w_ID close to the untuned network's. Every fourth frame is held
// out and only measured. Progress, ETA and cancel as for encoding; a cancelled or crashed
// run resumes from its last checkpoint (tune-resume.bin in the project folder).
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Adam, cosineSchedule } from '../encode/adam';
import { ParamDecoder } from '../encode/decoder';
import { DEFAULT_LOSS, LossWeights } from '../encode/losses';
import { warpToCrop } from '../face/warp';
import { Graph } from '../graph/graph';
import { serialize } from '../graph/serialize';
import { evaluateProject } from '../metrics/evaluate';
import { summarise } from '../metrics/summary';
import { EditBasis, PARAM_COUNT } from '../model/basis';
import { ModelBundle, tensor } from '../model/bundle';
import { StyleGan2 } from '../model/stylegan2';
import type { PerceptualBundle } from '../perceptual/bundle';
import { findPerceptualBundle } from '../perceptual/find';
import { readFileNoFollow } from '../project/binary';
import { PROJECT_FILE, Project, ProjectError, type ProjectLock, frameTransform, lockProject, resolveSourcePath, sourceDecoding } from '../project';
import { FrameRenderer } from '../render/render';
import { fromRgb8, toRgb8 } from '../render/image';
import type { Runtime } from '../runtime';
import { throwIfAborted } from '../util/cancel';
import { writeFileAtomicSync } from '../util/fs';
import { Rng } from '../util/random';
import { decodeFrames } from '../video';
import { DEFAULT_RANK, DeltaLayer, DeltaLayout, SynthesisDelta, TuneError, applyDelta, checkBudget, planDelta, roundToHalf, sha256Hex, synthesisBytes } from './delta';
import { mappingGraph, stylesGraph, synthesisGraph, tuneLossGraph } from './graph';
import { storeDelta, widSha256 } from './store';

export interface TuneSettings {
  steps: number;
  rank: number;
  /** Frames tuned on, spread over the frames not held out (default: all of them). */
  frames?: number;
  /** Frames per step. */
  batch: number;
  lr: number;
  /** Weight of the locality term (0: none). */
  localityWeight: number;
  /** Locality latents per step, drawn from a pool of `localityPool`. */
  localityPerStep: number;
  localityPool: number;
  /** Locality latents are w_ID + alpha * (w - w_ID) for random mapped w. */
  localityAlpha: number;
  seed: number;
  /** Fraction of the steps over which the learning rate ramps up (then a cosine decay). */
  warmup: number;
}

export const DEFAULT_TUNE: TuneSettings = {
  steps: 600,
  rank: DEFAULT_RANK,
  batch: 4,
  lr: 0.03,
  warmup: 0.25,
  localityWeight: 0.2,
  localityPerStep: 2,
  localityPool: 16,
  localityAlpha: 0.5,
  seed: 11
};

/** Every HELD_OUT_EVERY-th frame (the last of each group) is kept out of tuning and only measured. */
export const HELD_OUT_EVERY = 4;
/** Random latents the reported locality is measured on (drawn apart from the training pool). */
const LOCALITY_PROBES = 8;
/** The checkpoint a cancelled or crashed run leaves in the project folder; the next run with the same settings resumes it. */
export const TUNE_CHECKPOINT = 'tune-resume.bin';
/** Bumped whenever the optimisation changes, so an old checkpoint is not resumed by a different run. */
const CHECKPOINT_VERSION = 3;

export interface TuneProgress {
  stage: 'prepare' | 'tune' | 'measure' | 'done';
  fraction: number;
  step?: number;
  of?: number;
  loss?: number;
  etaSec: number | null;
  message: string;
}

/** What `stylecast tune --json` prints (issue 11). */
export interface TuneReport {
  frames: { tuned: number; heldOut: number };
  psnr: { before: { heldOut: number; tuned: number }; after: { heldOut: number; tuned: number } };
  lpips: { before: { heldOut: number; tuned: number }; after: { heldOut: number; tuned: number } } | null;
  /** Mean absolute 8-bit pixel change between untuned and tuned renders of random latents near w_ID. */
  locality: number;
  deltaBytes: number;
  synthesisBytes: number;
  seconds: number;
}

export interface TuneOptions {
  project: Project;
  bundle: ModelBundle;
  basis: EditBasis;
  rt: Runtime;
  settings?: Partial<TuneSettings>;
  /** LPIPS-VGG for the losses; left out: looked up beside the model; null: MS-SSIM. */
  perceptual?: PerceptualBundle | null;
  signal?: AbortSignal;
  onProgress?: (p: TuneProgress) => void;
}

export interface TuneResult {
  report: TuneReport;
  delta: SynthesisDelta;
  resumedFromStep: number;
}

/** k indices spread evenly over `from` (all of them when k >= its length). */
function spreadOver(from: number[], k: number): number[] {
  if (k >= from.length) return [...from];
  return Array.from({ length: k }, (_, j) => from[Math.round((j * (from.length - 1)) / Math.max(1, k - 1))]!);
}

/** The frames tuning uses and the ones it holds out. */
export function splitFrames(encoded: number, tunedCount?: number): { tuned: number[]; heldOut: number[] } {
  const all = Array.from({ length: encoded }, (_, i) => i);
  const heldOut = all.filter((i) => i % HELD_OUT_EVERY === HELD_OUT_EVERY - 1);
  const rest = all.filter((i) => i % HELD_OUT_EVERY !== HELD_OUT_EVERY - 1);
  return { tuned: spreadOver(rest, tunedCount ?? rest.length), heldOut };
}

/** The encoder's loss weights the project was encoded with: tuning uses the same. */
export const projectLossWeights = (project: Project): LossWeights => (project.doc.encoding.settings.loss as LossWeights | undefined) ?? DEFAULT_LOSS;
/** Frames in one training step. */
export const framesPerStep = (s: TuneSettings, tuned: number): number => Math.min(s.batch, tuned);
/** Random latents near w_ID in one training step (the locality term). */
export const localityPerStep = (s: TuneSettings): number => (s.localityWeight > 0 ? s.localityPerStep : 0);

/** Checks what can be checked before any work or any write; throws a one-line TuneError. */
export async function checkTuneInput(project: Project, bundle: ModelBundle, s: TuneSettings): Promise<{ layout: DeltaLayout; tuned: number[]; heldOut: number[]; source: string }> {
  if (!Number.isInteger(s.rank) || s.rank < 1) throw new TuneError('BAD_ARGUMENT', `--rank must be a whole number of at least 1 (got ${s.rank})`);
  if (!Number.isInteger(s.steps) || s.steps < 1) throw new TuneError('BAD_ARGUMENT', `--steps must be a whole number of at least 1 (got ${s.steps})`);
  if (project.doc.model.id !== bundle.manifest.id) throw new TuneError('MODEL_MISMATCH', `${project.dir} was encoded with model ${project.doc.model.name}, not ${bundle.manifest.name}`);
  const encoded = project.doc.encoding.encodedThrough;
  if (encoded < HELD_OUT_EVERY) {
    throw new TuneError('NOT_ENCODED', `${project.dir} has ${encoded} encoded frame${encoded === 1 ? '' : 's'}; tuning needs at least ${HELD_OUT_EVERY} (every ${HELD_OUT_EVERY}th is held out to measure it): encode the video first`);
  }
  const split = splitFrames(encoded);
  if (s.frames !== undefined && (!Number.isInteger(s.frames) || s.frames < 1 || s.frames > split.tuned.length)) {
    throw new TuneError('BAD_ARGUMENT', `--frames must be 1..${split.tuned.length} (the encoded frames not held out), got ${s.frames}`);
  }
  const layout = planDelta(bundle.manifest.architecture, s.rank);
  checkBudget(bundle.manifest.architecture, layout);
  const source = await resolveSourcePath(project);
  if (!source) throw new TuneError('SOURCE_MISSING', `the source video of ${project.dir} is not at ${project.doc.source.path}: put it back to tune`);
  // Root ignores permissions, so try a real write: a read-only mount or a special folder refuses it.
  // A new file of a random name, created exclusively: a link planted in a shared project is never written through.
  const probe = join(project.dir, `.tune-probe-${process.pid}-${randomBytes(6).toString('hex')}`);
  try {
    await writeFile(probe, '', { flag: 'wx' });
  } catch (e) {
    throw new TuneError('NOT_WRITABLE', `cannot write in ${project.dir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): tuning stores its delta there; copy the project somewhere writable`);
  } finally {
    await rm(probe, { force: true });
  }
  return { layout, ...splitFrames(encoded, s.frames), source };
}

/** The aligned source crops of the given encoded frames, [n, 3, R, R] in -1..1, as the encoder's targets. */
async function cropsOf(project: Project, source: string, indices: number[], res: number, signal?: AbortSignal): Promise<Float32Array> {
  const want = new Map(indices.map((i, k) => [i, k]));
  const plane = 3 * res * res;
  const out = new Float32Array(indices.length * plane);
  const start = project.doc.encoding.frames.start;
  const last = Math.max(...indices);
  for await (const f of decodeFrames(source, { start, count: last + 1, ...sourceDecoding(project), signal })) {
    const i = f.index - start;
    const k = want.get(i);
    if (k !== undefined) out.set(fromRgb8(warpToCrop(f.data, f.width, f.height, frameTransform(project, i), res), res, res), k * plane);
  }
  return out;
}

/** Runs a batch-n graph over `count` rows of `input` (padding the last batch), concatenating `output`. */
async function runBatched(rt: Runtime, graph: ReturnType<typeof stylesGraph>, n: number, name: string, input: Float32Array, rowDims: number[], count: number, output: string): Promise<Float32Array> {
  const row = rowDims.reduce((a, b) => a * b, 1);
  const parts: Float32Array[] = [];
  for (let t = 0; t < count; t += n) {
    const k = Math.min(n, count - t);
    const feed = new Float32Array(n * row);
    feed.set(input.subarray(t * row, (t + k) * row));
    const o = (await rt.run(graph, { [name]: { data: feed, dims: [n, ...rowDims] } }))[output]!;
    parts.push(o.data.slice(0, (k * o.data.length) / n));
  }
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** StyleSpace codes of random latents near w_ID: w_ID + alpha * (mapping(z) - w_ID), z from `seed`. */
async function localityCodes(net: StyleGan2, rt: Runtime, wid: Float32Array, count: number, alpha: number, seed: number): Promise<Float32Array> {
  const a = net.arch;
  const z = new Rng(seed).normals(count * a.zDim);
  const w = await runBatched(rt, mappingGraph(net, count), count, 'z', z, [a.zDim], count, 'w');
  const L = net.numWs;
  const wplus = new Float32Array(count * L * a.wDim);
  for (let n = 0; n < count; n++) {
    for (let l = 0; l < L; l++) {
      for (let d = 0; d < a.wDim; d++) {
        const base = wid[l * a.wDim + d]!;
        wplus[(n * L + l) * a.wDim + d] = base + alpha * (w[n * a.wDim + d]! - base);
      }
    }
  }
  return runBatched(rt, stylesGraph(net, count), count, 'wplus', wplus, [L, a.wDim], count, 's');
}

/** Mean absolute 8-bit difference between two batches of renders [n, 3, R, R]. */
function meanAbs8(a: Float32Array, b: Float32Array, n: number, res: number): number {
  let s = 0;
  let count = 0;
  for (let i = 0; i < n; i++) {
    const x = toRgb8(a, i, res, res);
    const y = toRgb8(b, i, res, res);
    for (let k = 0; k < x.length; k++) s += Math.abs(x[k]! - y[k]!);
    count += x.length;
  }
  return s / count;
}

/** The locality figure of a delta: see TuneReport.locality. */
export async function measureLocality(bundle: ModelBundle, delta: SynthesisDelta, rt: Runtime, wid: Float32Array, s: Pick<TuneSettings, 'localityAlpha' | 'seed'>): Promise<number> {
  const net = new StyleGan2(bundle);
  const codes = await localityCodes(net, rt, wid, LOCALITY_PROBES, s.localityAlpha, s.seed + 7919);
  const feed = { s: { data: codes, dims: [LOCALITY_PROBES, net.styleDim] } };
  const before = (await rt.run(synthesisGraph(net, LOCALITY_PROBES), feed)).image!.data;
  const after = (await rt.run(synthesisGraph(new StyleGan2(applyDelta(bundle, delta)), LOCALITY_PROBES), feed)).image!.data;
  return meanAbs8(before, after, LOCALITY_PROBES, net.arch.resolution);
}

interface Checkpoint {
  key: string;
  step: number;
  values: Float32Array;
  adam: { t: number; m: Float32Array; v: Float32Array };
}

function readCheckpoint(path: string, key: string, size: number): Checkpoint | null {
  if (!existsSync(path)) return null;
  try {
    const buf = readFileSync(path);
    const headLen = buf.readUInt32LE(0);
    const head = JSON.parse(buf.subarray(4, 4 + headLen).toString('utf8')) as { key: string; step: number; t: number };
    if (head.key !== key) return null;
    const f = new Float32Array(buf.buffer.slice(buf.byteOffset + 4 + headLen, buf.byteOffset + buf.byteLength));
    if (f.length !== 3 * size) return null;
    return { key, step: head.step, values: f.slice(0, size), adam: { t: head.t, m: f.slice(size, 2 * size), v: f.slice(2 * size) } };
  } catch {
    return null; // a damaged checkpoint only costs the progress it held
  }
}

function writeCheckpoint(path: string, c: Checkpoint): void {
  const head = Buffer.from(JSON.stringify({ key: c.key, step: c.step, t: c.adam.t }), 'utf8');
  const body = new Float32Array(3 * c.values.length);
  body.set(c.values);
  body.set(c.adam.m, c.values.length);
  body.set(c.adam.v, 2 * c.values.length);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(head.length);
  writeFileAtomicSync(path, Buffer.concat([len, head, Buffer.from(body.buffer)]));
}

const median = (v: number[]): number => summarise(v).median;

/** Root mean square of a layer's stored weight: the scale its delta is measured against. */
function weightScale(bundle: ModelBundle, l: DeltaLayer): number {
  const w = tensor(bundle, `${l.name}.weight`);
  let s = 0;
  for (const x of w) s += x * x;
  return Math.sqrt(s / w.length) || 1;
}

/** What the optimisation fits: aligned crops with the parameters each is rendered with, all of one identity. */
export interface TuneTargets {
  /** Aligned crops [count, 3, R, R] in -1..1, the encoder's targets. */
  crops: Float32Array;
  /** The parameters each crop is rendered with, [count, 35]. */
  params: Float32Array;
  /** The identity latent W+ every target shares (and the locality latents are drawn near). */
  wid: Float32Array;
  count: number;
}

/** What one tuning run optimises with: the model, the settings, the delta's layout, the losses, progress and cancel. */
export interface TuneRun {
  bundle: ModelBundle;
  basis: EditBasis;
  rt: Runtime;
  settings: TuneSettings;
  layout: DeltaLayout;
  weights: LossWeights;
  /** The perceptual bundle the losses use (null: MS-SSIM), and its network. */
  perceptual: PerceptualBundle | null;
  lpipsNet: PerceptualBundle['net'] | null;
  signal?: AbortSignal;
  report: (p: Omit<TuneProgress, 'etaSec'> & { etaSec?: number | null }) => void;
}

/** The run of `o`: the LPIPS-VGG bundle looked up beside the model unless given (null: none). */
export function tuneRun(
  o: { bundle: ModelBundle; basis: EditBasis; rt: Runtime; perceptual?: PerceptualBundle | null; signal?: AbortSignal; onProgress?: (p: TuneProgress) => void },
  settings: TuneSettings,
  layout: DeltaLayout,
  weights: LossWeights
): TuneRun {
  const perceptual = o.perceptual === undefined ? findPerceptualBundle(o.bundle.dir) : o.perceptual;
  return {
    bundle: o.bundle,
    basis: o.basis,
    rt: o.rt,
    settings,
    layout,
    weights,
    perceptual,
    lpipsNet: perceptual?.net ?? null,
    signal: o.signal,
    report: (p) => o.onProgress?.({ etaSec: null, ...p })
  };
}

/**
 * The optimisation loop shared by project and portrait tuning: a low-rank delta fitted to
 * the targets with the encoder's losses plus the locality term. Returns the delta rounded
 * to float16 (what is stored and rendered). Cancel saves the checkpoint, when there is one.
 */
export async function optimiseDelta(o: TuneRun, tg: TuneTargets, checkpoint?: { path: string; key: string }): Promise<{ delta: SynthesisDelta; resumedFromStep: number }> {
  const { bundle, rt, settings: s, layout, lpipsNet } = o;
  const net = new StyleGan2(bundle);
  const dec = new ParamDecoder(net, o.basis, lpipsNet);
  const res = dec.res;
  const codesGraph = (() => {
    const g = new Graph();
    const wid = g.input('wid', [1, dec.numWs, dec.wDim]);
    const p = g.input('params', [1, PARAM_COUNT]);
    return serialize(g, [{ name: 's', value: dec.styleCodes(g, wid, p) }], { graphName: 'tune-codes' });
  })();
  const S = net.styleDim;
  const codes = new Float32Array(tg.count * S);
  for (let k = 0; k < tg.count; k++) {
    const out = await rt.run(codesGraph, {
      wid: { data: tg.wid, dims: [1, dec.numWs, dec.wDim] },
      params: { data: tg.params.slice(k * PARAM_COUNT, (k + 1) * PARAM_COUNT), dims: [1, PARAM_COUNT] }
    });
    codes.set(out.s!.data, k * S);
  }

  const K = localityPerStep(s);
  const pool = K ? Math.max(s.localityPool, K) : 0;
  const locCodes = K ? await localityCodes(net, rt, tg.wid, pool, s.localityAlpha, s.seed) : new Float32Array(0);
  // Clamped as the frame loss clamps the render: where the untuned network draws outside
  // -1..1, the tuned one matches it at the bound, and an unchanged network has zero locality loss.
  const locTargets = K ? (await rt.run(synthesisGraph(net, pool), { s: { data: locCodes, dims: [pool, S] } })).image!.data.map((x) => Math.min(1, Math.max(-1, x))) : new Float32Array(0);

  const F = framesPerStep(s, tg.count);
  const graph = tuneLossGraph(net, layout, { frames: F, locality: K, localityWeight: s.localityWeight, weights: o.weights }, lpipsNet);

  // The factors: A random, B zero (the delta starts at zero, as LoRA does); biases zero.
  // Everything is scaled to the layer's own weights: the stored conv and ToRGB weights are
  // the unscaled ones (the demodulation and the style gain normalise them), about 1 in size,
  // so A is drawn at rms(W)/sqrt(r), where B.A with |B| = b changes W by about b relative.
  // Adam moves every value by about its rate per step, so each tensor's rate is lr times its
  // own scale: A by its init scale, ToRGB weights by theirs; B and the biases take lr itself.
  const values = new Float32Array(layout.size);
  const rate = new Float32Array(layout.size).fill(s.lr);
  const init = new Rng(s.seed);
  for (const l of layout.layers) {
    const scale = weightScale(bundle, l);
    if (l.kind === 'conv') {
      const n = l.rank * l.in * l.k * l.k;
      const sd = scale / Math.sqrt(l.rank);
      values.set(init.normals(n, sd), l.a);
      rate.fill(s.lr * sd, l.a, l.a + n);
    } else {
      rate.fill(s.lr * scale, l.a, l.a + l.out * l.in);
    }
  }
  const adam = new Adam(layout.size, (i) => rate[i]!);
  const order = Array.from({ length: tg.count }, (_, k) => k);
  const shuffle = new Rng(s.seed + 1);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(shuffle.uniform() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }

  let startStep = 0;
  const ck = checkpoint ? readCheckpoint(checkpoint.path, checkpoint.key, layout.size) : null;
  if (ck) {
    values.set(ck.values);
    adam.restore(ck.adam);
    startStep = ck.step;
    o.report({ stage: 'tune', fraction: 0.05, step: startStep, of: s.steps, message: `resuming at step ${startStep} of ${s.steps}` });
  }
  const save = (step: number) => checkpoint && writeCheckpoint(checkpoint.path, { key: checkpoint.key, step, values, adam: adam.snapshot() });

  const plane = 3 * res * res;
  const sFeed = new Float32Array((F + K) * S);
  const tFeed = new Float32Array(F * plane);
  const lFeed = new Float32Array(K * plane);
  const tLoop = performance.now();
  let lastSave = performance.now();
  for (let step = startStep; step < s.steps; step++) {
    if (o.signal?.aborted) {
      save(step);
      throwIfAborted(o.signal);
    }
    for (let j = 0; j < F; j++) {
      const k = order[(step * F + j) % order.length]!;
      sFeed.set(codes.subarray(k * S, (k + 1) * S), j * S);
      tFeed.set(tg.crops.subarray(k * plane, (k + 1) * plane), j * plane);
    }
    for (let j = 0; j < K; j++) {
      const k = (step * K + j) % pool;
      sFeed.set(locCodes.subarray(k * S, (k + 1) * S), (F + j) * S);
      lFeed.set(locTargets.subarray(k * plane, (k + 1) * plane), j * plane);
    }
    const out = await rt.run(graph, {
      delta: { data: values, dims: [layout.size] },
      s: { data: sFeed, dims: [F + K, S] },
      target: { data: tFeed, dims: [F, 3, res, res] },
      ...(K ? { locTarget: { data: lFeed, dims: [K, 3, res, res] } } : {})
    });
    const loss = out.loss!.data[0]!;
    if (!Number.isFinite(loss)) throw new TuneError('BAD_ARGUMENT', `tuning diverged at step ${step} (loss ${loss}): try a lower rank or fewer steps`);
    adam.step(values, out.grad!.data, cosineSchedule(step, s.steps, 0.05, s.warmup));
    const done = step + 1 - startStep;
    const eta = ((performance.now() - tLoop) / 1000 / done) * (s.steps - step - 1);
    o.report({ stage: 'tune', fraction: 0.05 + 0.85 * ((step + 1) / s.steps), step: step + 1, of: s.steps, loss, etaSec: eta, message: `step ${step + 1} of ${s.steps}` });
    if (checkpoint && performance.now() - lastSave > 15000) {
      save(step + 1);
      lastSave = performance.now();
    }
  }
  return { delta: { layout, values: roundToHalf(values) }, resumedFromStep: startStep };
}

/**
 * Tunes the project's synthesis delta and stores it in the project (saved). Throws a
 * TuneError for bad input before anything is written, a CancelledError when `signal`
 * fires (after saving a checkpoint that the next call resumes from).
 */
export async function runTune(o: TuneOptions): Promise<TuneResult> {
  // Held for writing while it tunes: another process's encode or tune of the project waits (lock.ts).
  let lock: ProjectLock;
  try {
    lock = lockProject(o.project.dir, 'fine-tune');
  } catch (e) {
    if (!(e instanceof ProjectError) || e.code !== 'NOT_WRITABLE') throw e;
    throw new TuneError('NOT_WRITABLE', `cannot write in ${o.project.dir} (${/\((E[A-Z]+)\)/.exec(e.message)?.[1] ?? 'not writable'}): tuning stores its delta there; copy the project somewhere writable`);
  }
  try {
    // The project as it was opened must still be the one on disk: another process (an encode
    // that held it) may have written it since, and tuning saves this copy back.
    let onDisk: unknown;
    try {
      onDisk = (JSON.parse(await readFileNoFollow(join(o.project.dir, PROJECT_FILE), 'utf8')) as { modified?: unknown }).modified;
    } catch {
      onDisk = undefined;
    }
    if (onDisk !== o.project.doc.modified) throw new TuneError('PROJECT_CHANGED', `${o.project.dir} was changed by another process since it was opened: run the fine-tune again`);
    return await tune(o);
  } finally {
    lock.release();
  }
}

async function tune(o: TuneOptions): Promise<TuneResult> {
  const t0 = performance.now();
  const s: TuneSettings = { ...DEFAULT_TUNE, ...o.settings };
  const { project, bundle, rt } = o;
  const { layout, tuned, heldOut, source } = await checkTuneInput(project, bundle, s);
  const weights = projectLossWeights(project);
  const run = tuneRun(o, s, layout, weights);
  const { report, perceptual, lpipsNet } = run;
  const res = bundle.manifest.architecture.resolution;

  // Before: the untuned network, measured exactly as `eval` measures.
  report({ stage: 'prepare', fraction: 0, message: 'measuring the untuned network' });
  const untuned = new FrameRenderer(bundle, o.basis, rt);
  const before = await evaluateProject({ project, renderer: untuned, perceptual: lpipsNet, signal: o.signal });

  report({ stage: 'prepare', fraction: 0.02, message: `reading ${tuned.length} frames to tune on` });
  const crops = await cropsOf(project, source, tuned, res, o.signal);
  const params = new Float32Array(tuned.length * PARAM_COUNT);
  tuned.forEach((i, k) => params.set(project.params.subarray(i * PARAM_COUNT, (i + 1) * PARAM_COUNT), k * PARAM_COUNT));

  // Resume: a checkpoint of the same run (same project state, model and settings) continues.
  const ckPath = join(project.dir, TUNE_CHECKPOINT);
  const key = sha256Hex(
    Buffer.from(JSON.stringify({ v: CHECKPOINT_VERSION, s, tuned, model: bundle.manifest.id, wid: widSha256(project.wid), params: sha256Hex(new Uint8Array(params.buffer)), weights, lpips: perceptual?.manifest.id ?? null }))
  );
  const { delta, resumedFromStep } = await optimiseDelta(run, { crops, params, wid: project.wid, count: tuned.length }, { path: ckPath, key });

  // After: the stored (float16) delta, measured as `eval` will measure the re-render.
  report({ stage: 'measure', fraction: 0.92, etaSec: null, message: 'measuring the tuned network' });
  const tunedRenderer = new FrameRenderer(bundle, o.basis, rt, applyDelta(bundle, delta));
  const after = await evaluateProject({ project, renderer: tunedRenderer, perceptual: lpipsNet, signal: o.signal });
  const locality = await measureLocality(bundle, delta, rt, project.wid, s);
  const pick = (v: number[], idx: number[]) => median(idx.map((i) => v[i]!));
  const split = (v: number[]) => ({ heldOut: pick(v, heldOut), tuned: pick(v, tuned) });
  const result: TuneReport = {
    frames: { tuned: tuned.length, heldOut: heldOut.length },
    psnr: { before: split(before.perFrame.psnr), after: split(after.perFrame.psnr) },
    lpips: before.perFrame.lpips && after.perFrame.lpips ? { before: split(before.perFrame.lpips), after: split(after.perFrame.lpips) } : null,
    locality,
    deltaBytes: 2 * layout.size,
    synthesisBytes: synthesisBytes(bundle.manifest.architecture),
    seconds: 0
  };
  throwIfAborted(o.signal);
  result.seconds = (performance.now() - t0) / 1000;
  await storeDelta(project, layout, delta.values, {
    created: new Date().toISOString(),
    settings: { ...s, frames: tuned.length, lossWeights: weights, perceptual: perceptual ? perceptual.manifest.id : null },
    framesTuned: tuned,
    framesHeldOut: heldOut,
    report: result
  });
  rmSync(ckPath, { force: true });
  report({ stage: 'done', fraction: 1, etaSec: 0, message: `tuned ${tuned.length} frames in ${s.steps} steps` });
  return { report: result, delta, resumedFromStep };
}
