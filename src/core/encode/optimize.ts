// The optimisers of the encoder, one per kind of stage of a schedule (schedule.ts):
// identity inversion into W+, joint refinement of the identity with the numbers of a few
// frames, and the 35 numbers of each frame (Adam, or damped Gauss-Newton with BFGS).
// Every loss-and-gradient run goes through one Evaluator, which splits a batch into the
// sizes that fit in memory and books the processor time of each stage.
import type { Runtime } from '../runtime';
import { PARAM_COUNT } from '../model/basis';
import { throwIfAborted } from '../util/cancel';
import { Adam, cosineSchedule } from './adam';
import { ParamDecoder } from './decoder';
import { faceWeightMap, lossKey } from './losses';
import { bfgsUpdate, choleskySolve, dot, gaussNewtonMatrix, lbfgsMinimise, quadForm } from '../util/linalg';
import { ortHistoryProducts } from './history-products';
import { renderBatch } from './memory';
import { f32Of, f64Of, type IdentityProgress, lbfgsOf, type Saved, savedLbfgs, type StepProgress } from './identity-progress';
import { type AdamOptimiser, type EncodeSchedule, type LbfgsOptimiser, type LossWeights, type NewtonOptimiser, type Stage, stageResolution } from './schedule';

export interface Progress {
  iteration: number;
  of: number;
  loss: number;
}

/** What one stage of a schedule cost. */
export interface StageCost {
  id: string;
  /** Loss-and-gradient runs, counted per frame (a batch of 4 is 4). */
  evaluations: number;
  /** Extra forward renders per frame (the Gauss-Newton Jacobians). */
  renders: number;
  /** Processor time of all threads in its runs (ms). */
  cpuMs: number;
  wallMs: number;
}

/** Area-average a [B, 3, R, R] batch down by an integer factor. */
export function downsample(img: Float32Array, batch: number, res: number, factor: number): Float32Array {
  if (factor === 1) return img;
  const h = res / factor;
  const out = new Float32Array(batch * 3 * h * h);
  const norm = 1 / (factor * factor);
  for (let p = 0; p < batch * 3; p++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < h; x++) {
        let s = 0;
        for (let dy = 0; dy < factor; dy++) {
          const row = p * res * res + (y * factor + dy) * res + x * factor;
          for (let dx = 0; dx < factor; dx++) s += img[row + dx]!;
        }
        out[p * h * h + y * h + x] = s * norm;
      }
    }
  }
  return out;
}

const sum = (xs: Float32Array) => xs.reduce((a, b) => a + b, 0);

/**
 * Runs the decoder's loss graphs for the encoder: batches larger than `maxBatch` go in
 * chunks (per-frame outputs concatenated, identity gradients summed), and the processor
 * time of every run is booked to the stage in `current`.
 */
export class Evaluator {
  readonly costs = new Map<string, StageCost>();
  current = 'other';
  constructor(
    readonly dec: ParamDecoder,
    readonly rt: Runtime,
    readonly loss: LossWeights,
    /** Most frames in one loss-and-gradient run (memory). */
    readonly maxBatch = Infinity,
    readonly signal?: AbortSignal
  ) {}

  /** Processor and wall time booked so far, all stages together (what `bookOwnWork` leaves out). */
  private bookedCpuMs = 0;
  private bookedWallMs = 0;

  private add(evaluations: number, renders: number, cpuMs: number, wallMs: number): void {
    const e = this.costs.get(this.current) ?? { id: this.current, evaluations: 0, renders: 0, cpuMs: 0, wallMs: 0 };
    e.evaluations += evaluations;
    e.renders += renders;
    e.cpuMs += cpuMs;
    e.wallMs += wallMs;
    this.costs.set(this.current, e);
    this.bookedCpuMs += cpuMs;
    this.bookedWallMs += wallMs;
  }

  private book(evaluations: number, renders: number, t0: number, c0: NodeJS.CpuUsage): void {
    const c = process.cpuUsage(c0);
    this.add(evaluations, renders, (c.user + c.system) / 1000, performance.now() - t0);
  }

  /**
   * Runs an optimiser's loop and books to the current stage the time it spent outside this
   * evaluator's runs (L-BFGS's history products and line search), so that a stage's cost is all
   * of it: the identity's forward-equivalents are then the sum of its stages'.
   */
  async bookOwnWork<T>(fn: () => Promise<T>): Promise<T> {
    const open = { stage: this.current, t0: performance.now(), c0: process.cpuUsage(), cpu0: this.bookedCpuMs, wall0: this.bookedWallMs };
    this.open = open;
    try {
      return await fn();
    } finally {
      this.open = null;
      const own = this.ownWork(open);
      this.add(0, 0, own.cpuMs, own.wallMs);
    }
  }

  private open: { stage: string; t0: number; c0: NodeJS.CpuUsage; cpu0: number; wall0: number } | null = null;

  private ownWork(o: NonNullable<Evaluator['open']>): { cpuMs: number; wallMs: number } {
    const c = process.cpuUsage(o.c0);
    return { cpuMs: Math.max(0, (c.user + c.system) / 1000 - (this.bookedCpuMs - o.cpu0)), wallMs: Math.max(0, performance.now() - o.t0 - (this.bookedWallMs - o.wall0)) };
  }

  /** Each stage's cost so far, the optimiser's own work under way included (a job saving its progress). */
  costsNow(): StageCost[] {
    const out = [...this.costs.values()].map((c) => ({ ...c }));
    if (this.open) {
      const own = this.ownWork(this.open);
      const e = out.find((c) => c.id === this.open!.stage);
      if (e) {
        e.cpuMs += own.cpuMs;
        e.wallMs += own.wallMs;
      } else out.push({ id: this.open.stage, evaluations: 0, renders: 0, cpuMs: own.cpuMs, wallMs: own.wallMs });
    }
    return out;
  }

  /** Starts from the costs a stopped job saved (its runs are this job's, resumed). */
  restoreCosts(costs: readonly StageCost[]): void {
    this.costs.clear();
    for (const c of costs) this.costs.set(c.id, { ...c });
  }

  private chunks(batch: number): [number, number][] {
    const size = Math.max(1, Math.min(batch, this.maxBatch));
    const out: [number, number][] = [];
    for (let a = 0; a < batch; a += size) out.push([a, Math.min(batch, a + size)]);
    return out;
  }

  /** W+ inversion: wplus [K, L, D], targets [K, 3, r, r] -> loss [K], grad [K, L, D]. */
  async invert(wplus: Float32Array, targets: Float32Array, k: number, size: number): Promise<{ loss: Float32Array; grad: Float32Array }> {
    throwIfAborted(this.signal);
    const { dec } = this;
    const LD = dec.numWs * dec.wDim;
    const px = 3 * size * size;
    const loss = new Float32Array(k);
    const grad = new Float32Array(k * LD);
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    for (const [a, b] of this.chunks(k)) {
      const n = b - a;
      const out = await this.rt.run(dec.inversionGraph(n, this.loss, size), {
        wplus: { data: wplus.subarray(a * LD, b * LD), dims: [n, dec.numWs, dec.wDim] },
        target: { data: targets.subarray(a * px, b * px), dims: [n, 3, size, size] }
      });
      loss.set(out.loss!.data, a);
      grad.set(out.grad!.data, a * LD);
    }
    this.book(k, 0, t0, c0);
    return { loss, grad };
  }

  /** Per-frame numbers: params [B, 35], targets [B, 3, r, r] -> loss [B], grad [B, 35] (and gradWid summed, when joint). */
  async params(wid: Float32Array, params: Float32Array, targets: Float32Array, batch: number, size: number, joint: boolean, lossWeights: LossWeights = this.loss): Promise<{ loss: Float32Array; grad: Float32Array; gradWid: Float32Array | null }> {
    throwIfAborted(this.signal);
    const { dec } = this;
    const P = PARAM_COUNT;
    const px = 3 * size * size;
    const loss = new Float32Array(batch);
    const grad = new Float32Array(batch * P);
    const gradWid = joint ? new Float32Array(wid.length) : null;
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    for (const [a, b] of this.chunks(batch)) {
      const n = b - a;
      const graph = joint ? dec.jointLossGraph(n, lossWeights, size) : dec.paramLossGraph(n, lossWeights, size);
      const out = await this.rt.run(graph, {
        wid: { data: wid, dims: [1, dec.numWs, dec.wDim] },
        params: { data: params.subarray(a * P, b * P), dims: [n, P] },
        target: { data: targets.subarray(a * px, b * px), dims: [n, 3, size, size] }
      });
      loss.set(out.loss!.data, a);
      grad.set(out.grad!.data, a * P);
      if (gradWid) {
        const gw = out.gradWid!.data;
        for (let i = 0; i < gw.length; i++) gradWid[i]! += gw[i]!;
      }
    }
    this.book(batch, 0, t0, c0);
    return { loss, grad, gradWid };
  }

  /** The loss of rendered images [B, 3, size, size] against one target [3, size, size], and its gradient with respect to each image. */
  async imageLoss(images: Float32Array, target: Float32Array, batch: number, size: number): Promise<{ loss: Float32Array; grad: Float32Array }> {
    throwIfAborted(this.signal);
    const px = 3 * size * size;
    const loss = new Float32Array(batch);
    const grad = new Float32Array(batch * px);
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    // The loss's backward pass holds several image-sized arrays a frame: as many frames as a loss-and-gradient run.
    const step = Math.max(1, Math.min(batch, this.maxBatch));
    for (let a = 0; a < batch; a += step) {
      const n = Math.min(step, batch - a);
      const tg = new Float32Array(n * px);
      for (let b = 0; b < n; b++) tg.set(target, b * px);
      const out = await this.rt.run(this.dec.imageLossGraph(n, this.loss, size), { image: { data: images.subarray(a * px, (a + n) * px), dims: [n, 3, size, size] }, target: { data: tg, dims: [n, 3, size, size] } });
      loss.set(out.loss!.data, a);
      grad.set(out.grad!.data, a * px);
    }
    this.book(0, 0, t0, c0);
    return { loss, grad };
  }

  /** Renders params [B, 35] at `size` (forward only), in chunks: [B, 3, size, size]. */
  async render(wid: Float32Array, params: Float32Array, batch: number, size: number): Promise<Float32Array> {
    throwIfAborted(this.signal);
    const { dec } = this;
    const px = 3 * size * size;
    const out = new Float32Array(batch * px);
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const step = Math.max(1, Math.min(batch, renderBatch(dec.res, this.maxBatch)));
    for (let a = 0; a < batch; a += step) {
      const n = Math.min(step, batch - a);
      const r = await this.rt.run(dec.renderGraph(n, size), { wid: { data: wid, dims: [1, dec.numWs, dec.wDim] }, params: { data: params.subarray(a * PARAM_COUNT, (a + n) * PARAM_COUNT), dims: [n, PARAM_COUNT] } });
      out.set(r.image!.data, a * px);
    }
    this.book(0, batch, t0, c0);
    return out;
  }
}

/** A step's saved state read by `read`; undefined when there is none or it does not fit (the step then starts afresh). */
function resumable<T>(step: StepProgress | undefined, read: (s: Saved) => T): T | undefined {
  if (!step?.saved) return undefined;
  try {
    const out = read(step.saved);
    const it = (out as { it?: unknown }).it;
    if (it !== undefined && !(Number.isInteger(it) && (it as number) >= 0)) return undefined;
    return out;
  } catch {
    return undefined;
  }
}

function savedAdam(a: Adam, prefix = ''): Saved['arrays'] {
  const s = a.snapshot();
  return { [`${prefix}adamM`]: s.m, [`${prefix}adamV`]: s.v, [`${prefix}adamT`]: Float64Array.of(s.t) };
}

function adamOf(s: Saved, size: number, prefix = ''): { t: number; m: Float32Array; v: Float32Array } {
  const t = s.arrays[`${prefix}adamT`];
  if (!(t instanceof Float64Array) || t.length !== 1 || !Number.isInteger(t[0])) throw new Error('a damaged Adam state');
  return { t: t[0]!, m: f32Of(s, `${prefix}adamM`, size), v: f32Of(s, `${prefix}adamV`, size) };
}

/**
 * An identity stage: Adam on W+ of K candidate frames from where `wplus` stands (in place).
 * `targets` are full-resolution; returns each candidate's best loss, whose W+ is left in `wplus`.
 */
export async function runInversionStage(ev: Evaluator, stage: Stage, wplus: Float32Array, targets: Float32Array, k: number, onProgress?: (p: Progress) => void, step?: StepProgress): Promise<Float32Array> {
  const { dec } = ev;
  const opt = stage.optimiser as AdamOptimiser;
  const size = stageResolution(stage, dec.res);
  const tgt = downsample(targets, k, dec.res, dec.res / size);
  const LD = dec.numWs * dec.wDim;
  const n = stage.stop.maxEvaluations - 1;
  const best = Float32Array.from(wplus);
  const bestLoss = new Float32Array(k).fill(Infinity);
  ev.current = stage.id;
  // Where a stopped run of this stage was (see identity-progress.ts); a state that does not fit is not used.
  const saved = resumable(step, (s) => {
    const x = f32Of(s, 'x', wplus.length);
    const b = f32Of(s, 'best', wplus.length);
    const bl = f32Of(s, 'bestLoss', k);
    const state = stage.optimiser.kind === 'lbfgs' ? lbfgsOf(s, wplus.length, stage.optimiser.memory) : null;
    return { x, b, bl, state, it: stage.optimiser.kind === 'adam' ? Number(s.meta.it) : 0, adam: stage.optimiser.kind === 'adam' ? adamOf(s, wplus.length) : null };
  });
  if (saved) {
    wplus.set(saved.x);
    best.set(saved.b);
    bestLoss.set(saved.bl);
  }
  if (stage.optimiser.kind === 'lbfgs') {
    const lb = stage.optimiser;
    await ev.bookOwnWork(() => lbfgsMinimise(
      wplus,
      async (x) => {
        const out = await ev.invert(x, tgt, k, size);
        for (let j = 0; j < k; j++) {
          if (out.loss[j]! < bestLoss[j]!) {
            bestLoss[j] = out.loss[j]!;
            best.set(x.subarray(j * LD, (j + 1) * LD), j * LD);
          }
        }
        return { f: sum(out.loss), g: out.grad };
      },
      {
        maxEvaluations: stage.stop.maxEvaluations,
        memory: lb.memory,
        firstStep: lb.firstStep,
        plateau: stage.stop.plateau,
        products: ortHistoryProducts,
        onEvaluation: (i, f) => onProgress?.({ iteration: i, of: n, loss: f / k }),
        resume: saved?.state ?? undefined,
        onStep: step && ((state) => step.offer(() => savedLbfgs(state(), { x: wplus.slice(), best: best.slice(), bestLoss: bestLoss.slice() })))
      }
    ));
    wplus.set(best);
    return bestLoss;
  }
  const adam = new Adam(wplus.length, () => opt.wLr ?? 0.05);
  if (saved?.adam) adam.restore(saved.adam);
  for (let it = saved?.it ?? 0; it <= n; it++) {
    step?.offer(() => ({ meta: { it }, arrays: { x: wplus.slice(), best: best.slice(), bestLoss: bestLoss.slice(), ...savedAdam(adam) } }));
    const out = await ev.invert(wplus, tgt, k, size);
    for (let j = 0; j < k; j++) {
      if (out.loss[j]! < bestLoss[j]!) {
        bestLoss[j] = out.loss[j]!;
        best.set(wplus.subarray(j * LD, (j + 1) * LD), j * LD);
      }
    }
    onProgress?.({ iteration: it, of: n, loss: sum(out.loss) / k });
    if (it === n) break;
    adam.step(wplus, out.grad, cosineSchedule(it, n));
  }
  wplus.set(best);
  return bestLoss;
}

/**
 * A refine stage: w_ID and the numbers of `batch` frames together (in place), by L-BFGS or Adam.
 * Returns the frames' losses where it ended: in the schedule's loss (one more run when the stage
 * has a loss of its own), or in the stage's own loss when `scheduleLoss` is false.
 */
export async function runRefineStage(ev: Evaluator, stage: Stage, wid: Float32Array, params: Float32Array, targets: Float32Array, batch: number, onProgress?: (p: Progress) => void, scheduleLoss = true, step?: StepProgress): Promise<Float32Array> {
  const { dec } = ev;
  const P = PARAM_COUNT;
  const opt = stage.optimiser as AdamOptimiser;
  const size = stageResolution(stage, dec.res);
  const tgt = downsample(targets, batch, dec.res, dec.res / size);
  const n = stage.stop.maxEvaluations - 1;
  const ended = async (own: Float32Array) => (scheduleLoss && ownLoss(stage, ev) ? (await ev.params(wid, params, tgt, batch, size, false)).loss : own);
  const W = wid.length;
  if (stage.optimiser.kind === 'lbfgs') {
    const lb: LbfgsOptimiser = stage.optimiser;
    // Where a stopped run of this stage was (see identity-progress.ts); a state that does not fit is not used.
    const saved = resumable(step, (s) => {
      const pair = (k: string) => (s.meta[`${k}`] ? { z: f32Of(s, `${k}Z`, W + params.length), loss: f32Of(s, `${k}Loss`, batch) } : null);
      return { x: f32Of(s, 'x', W + params.length), unit: Array.from(f64Of(s, 'unit', P)), state: lbfgsOf(s, W + params.length, lb.memory), last: pair('last'), atX: pair('atX') };
    });
    // Each of the 35 numbers scaled by its image effect (1 / sqrt of its pixel curvature,
    // relative to the median attribute's): a track that barely changes the image must not be
    // left behind while the identity moves, or the identity absorbs what that track should say.
    ev.current = stage.id;
    let unit: number[];
    if (saved) unit = saved.unit;
    else {
      const all = Array.from({ length: P }, (_, i) => i);
      const { h: curv } = await frameCurvature(ev, wid, params.subarray(0, P), all, size);
      const diag = all.map((i) => Math.max(curv[i * P + i]!, 1e-12));
      const ref = [...diag.slice(3)].sort((x, y) => x - y)[(P - 3) >> 1]!;
      unit = diag.map((d) => Math.min(100, Math.max(0.01, Math.sqrt(ref / d))));
    }
    const x = new Float32Array(W + params.length);
    if (saved) x.set(saved.x);
    else {
      x.set(wid);
      x.set(params, W);
    }
    // The per-frame losses at the point L-BFGS ends at, not at its last evaluation (which can
    // be a line-search trial it rejected). It keeps x at its current point between
    // evaluations, so the evaluation of x is the last one that equalled x when the next began.
    const same = (a: Float32Array, b: Float32Array) => a.every((v, i) => Object.is(v, b[i]));
    let last: { z: Float32Array; loss: Float32Array } | null = saved?.last ?? null;
    let atX: { z: Float32Array; loss: Float32Array } | null = saved?.atX ?? null;
    const pairs = (): Saved['arrays'] => {
      const out: Saved['arrays'] = {};
      for (const [k, v] of [['last', last], ['atX', atX]] as const) {
        if (!v) continue;
        out[`${k}Z`] = v.z.slice();
        out[`${k}Loss`] = v.loss.slice();
      }
      return out;
    };
    ev.current = stage.id;
    await ev.bookOwnWork(() => lbfgsMinimise(
      x,
      async (z) => {
        if (last && same(last.z, x)) atX = last;
        const out = await ev.params(z.subarray(0, W), z.subarray(W), tgt, batch, size, true, stage.loss ?? ev.loss);
        last = { z: z.slice(), loss: out.loss };
        const g = new Float32Array(z.length);
        g.set(out.gradWid!);
        g.set(out.grad, W);
        return { f: sum(out.loss), g };
      },
      {
        maxEvaluations: stage.stop.maxEvaluations,
        plateau: stage.stop.plateau,
        memory: lb.memory,
        firstStep: lb.firstStep,
        scale: (i) => (i < W ? 1 : unit[(i - W) % P]!),
        products: ortHistoryProducts,
        onEvaluation: (i, f) => onProgress?.({ iteration: i, of: n, loss: f / batch }),
        resume: saved?.state,
        onStep: step && ((state) => step.offer(() => savedLbfgs(state(), { x: x.slice(), unit: Float64Array.from(unit), ...pairs() }, { last: last !== null, atX: atX !== null })))
      }
    ));
    wid.set(x.subarray(0, W));
    params.set(x.subarray(W));
    const end = last as { z: Float32Array; loss: Float32Array } | null;
    return ended((end && same(end.z, x) ? end : (atX ?? end)!).loss);
  }
  const adamP = new Adam(params.length, (i) => (i % P < 3 ? (opt.poseLr ?? 0.25) : (opt.attributeLr ?? 0.04)));
  const adamW = new Adam(wid.length, () => opt.wLr ?? 0.03);
  let losses: Float32Array = new Float32Array(batch);
  ev.current = stage.id;
  const saved = resumable(step, (s) => ({ it: Number(s.meta.it), wid: f32Of(s, 'wid', W), params: f32Of(s, 'params', params.length), losses: f32Of(s, 'losses', batch), p: adamOf(s, params.length, 'p'), w: adamOf(s, W, 'w') }));
  if (saved) {
    wid.set(saved.wid);
    params.set(saved.params);
    losses = saved.losses;
    adamP.restore(saved.p);
    adamW.restore(saved.w);
  }
  for (let it = saved?.it ?? 0; it <= n; it++) {
    step?.offer(() => ({ meta: { it }, arrays: { wid: wid.slice(), params: params.slice(), losses: losses.slice(), ...savedAdam(adamP, 'p'), ...savedAdam(adamW, 'w') } }));
    const out = await ev.params(wid, params, tgt, batch, size, true, stage.loss ?? ev.loss);
    losses = out.loss;
    onProgress?.({ iteration: it, of: n, loss: sum(losses) / batch });
    if (it === n) break;
    const scale = cosineSchedule(it, n);
    adamP.step(params, out.grad, scale);
    adamW.step(wid, out.gradWid!, scale);
  }
  return ended(losses);
}

/** Whether a stage optimises a loss other than the schedule's (with these perceptual weights or none). */
export const ownLoss = (stage: Stage, ev: Evaluator): boolean => !!stage.loss && lossKey(stage.loss, ev.dec.perceptual) !== lossKey(ev.loss, ev.dec.perceptual);

/** The smoothness term's neighbours of frame b in a window: the frame before (or `prev`) and after. */
function smoothGradient(params: Float32Array, grad: Float32Array, batch: number, prev: Float32Array | null, lambda: number): void {
  const P = PARAM_COUNT;
  if (lambda === 0) return;
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < P; i++) {
      const x = params[b * P + i]!;
      const before = b > 0 ? params[(b - 1) * P + i]! : prev ? prev[i]! : null;
      const after = b + 1 < batch ? params[(b + 1) * P + i]! : null;
      if (before !== null) grad[b * P + i]! += 2 * lambda * (x - before);
      if (after !== null) grad[b * P + i]! += 2 * lambda * (x - after);
    }
  }
}

/** A frames stage with Adam over a window of `batch` frames (in place); returns their losses. */
async function adamFrames(ev: Evaluator, stage: Stage, wid: Float32Array, params: Float32Array, targets: Float32Array, batch: number, prev: Float32Array | null, lambda: number): Promise<Float32Array> {
  const P = PARAM_COUNT;
  const opt = stage.optimiser as AdamOptimiser;
  const size = stageResolution(stage, ev.dec.res);
  const tgt = downsample(targets, batch, ev.dec.res, ev.dec.res / size);
  const n = stage.stop.maxEvaluations - 1;
  const adam = new Adam(params.length, (i) => (i % P < 3 ? (opt.poseLr ?? 0.5) : stage.optimise === 'pose' ? 0 : (opt.attributeLr ?? 0.08)));
  let losses: Float32Array = new Float32Array(batch);
  for (let it = 0; it <= n; it++) {
    const out = await ev.params(wid, params, tgt, batch, size, false);
    losses = out.loss;
    if (it === n) break;
    const grad = Float32Array.from(out.grad);
    smoothGradient(params, grad, batch, prev, lambda);
    adam.step(params, grad, cosineSchedule(it, n));
  }
  return losses;
}

/** Finite-difference steps of the Jacobian: pose in its units, attributes in sigma units. */
const JACOBIAN_STEP = { pose: 0.5, attribute: 0.05 };

/**
 * The Gauss-Newton curvature of a frame's loss in the numbers `active` at `p`, from one batched
 * render of p and p + h e_k at `size` (forward differences: the image Jacobian J).
 * Without `target`: the pixel term's (2 pixel / m) J^T W J. With it: the whole loss's,
 * J^T H J with H the loss's Hessian in image space, applied to each column of J as the change of
 * the loss's image gradient from the render at p to the render at p + h e_k (one more run, of the
 * loss alone, on the same 36 images). Near a fit MS-SSIM's curvature is several times the pixel
 * term's (on the seeded model the pixel term's predicts 12-22% of how the loss grows there), which
 * the solver otherwise learns by BFGS updates, step by step (docs/ENCODER-MEASUREMENTS.md).
 * Falls back to the pixel term's where the whole loss's is not positive definite (far from a fit).
 */
export async function frameCurvature(ev: Evaluator, wid: Float32Array, p: Float32Array, active: number[], size: number, target?: Float32Array): Promise<{ h: Float64Array; whole: boolean }> {
  const n = active.length;
  const batch = n + 1;
  const ps = new Float32Array(batch * PARAM_COUNT);
  const steps = active.map((i) => (i < 3 ? JACOBIAN_STEP.pose : JACOBIAN_STEP.attribute));
  for (let b = 0; b < batch; b++) ps.set(p, b * PARAM_COUNT);
  active.forEach((i, k) => (ps[(k + 1) * PARAM_COUNT + i]! += steps[k]!));
  const img = await ev.render(wid, ps, batch, size);
  const m = 3 * size * size;
  const grad = target ? (await ev.imageLoss(img, target, batch, size)).grad : null;
  // Differences in place (at 1024 px each of these holds 0.45 GB): image k + 1 becomes J's
  // column k, and its loss gradient H J's column k.
  for (const a of grad ? [img, grad] : [img]) {
    for (let k = 0; k < n; k++) {
      const inv = 1 / steps[k]!;
      for (let i = 0, o = (k + 1) * m; i < m; i++) a[o + i] = (a[o + i]! - a[i]!) * inv;
    }
  }
  const cols = img.subarray(m);
  const ridge = (h: Float64Array) => {
    let tr = 0;
    for (let i = 0; i < n; i++) tr += Math.abs(h[i * n + i]!);
    for (let i = 0; i < n; i++) h[i * n + i]! += (1e-6 * tr) / n;
    return h;
  };
  if (grad) {
    const hj = grad.subarray(m);
    const h = new Float64Array(n * n);
    for (let l = 0; l < n; l++) {
      const cl = cols.subarray(l * m, (l + 1) * m);
      for (let k = 0; k < n; k++) h[l * n + k] = dot(cl, hj.subarray(k * m, (k + 1) * m));
    }
    // Symmetric in exact arithmetic; the differences are not.
    for (let k = 0; k < n; k++) {
      for (let l = 0; l < k; l++) {
        const v = 0.5 * (h[k * n + l]! + h[l * n + k]!);
        h[k * n + l] = h[l * n + k] = v;
      }
    }
    ridge(h);
    if (choleskySolve(h, new Float64Array(n), n)) return { h, whole: true };
  }
  return { h: ridge(gaussNewtonMatrix(cols, n, m, faceWeightMap(size), (2 * ev.loss.pixel) / m)), whole: false };
}

/**
 * The damping after a rejected trial step (the loss rose by `rise` along `step`, whose slope
 * g.step was `gs` < 0, and rho = actual / predicted decrease). Nielsen's rule multiplies it by
 * `nu` (2, 4, 8, ... in a row). A step that raised the loss by more than the model promised it
 * would lower it (rho < -1: far beyond where the model holds, as from a distant start or a fast
 * turn) is cut at once to where the loss along it, as the parabola through f(0), its slope and
 * f(1), is least: t = -gs / (2 (rise - gs)) of it, between 0.1 and 0.5, by the damping that
 * divides the step by about 1/t (steps go as 1/(1 + mu) where the damping dominates), instead of
 * four or five rejected runs of Nielsen's doublings. Milder rejections keep Nielsen's rule: their
 * overshoot lies in the weak directions, which a small increase already shortens.
 */
export function dampingAfterRejection(mu: number, nu: number, gs: number, rise: number, rho: number): number {
  const nielsen = Math.max(mu, 1e-6) * nu;
  if (!(rho < -1 && gs < 0 && rise >= 0)) return nielsen;
  const t = Math.min(0.5, Math.max(0.1, -gs / (2 * (rise - gs))));
  return Math.max((1 + mu) / t - 1, nielsen);
}

/**
 * How far the frame that measured the curvature may end from where it measured it (degrees of
 * pose, sigma of an attribute) before the next frame measures it again. On a clip whose head
 * moves further than that between frames (the 8-frame synthetic clip: 2-25 degrees a frame) every
 * frame measures, and needs to: measuring only twice there left the worst frame at 44.8 dB and a
 * track at r 0.46, against 56.8 dB and 0.985 (config-f 256, docs/ENCODER-MEASUREMENTS.md).
 */
const FAR_FROM_CURVATURE = { pose: 2, attribute: 0.5 };

/**
 * Damped Gauss-Newton with BFGS for one frame at a time. The curvature estimate lives across
 * frames: consecutive frames of a clip have nearly the same, so each frame starts from what
 * the last one learnt, and the Jacobian is recomputed only every `jacobianEvery` frames.
 */
export class NewtonSolver {
  private h: Float64Array | null = null;
  private gn: Float64Array | null = null;
  /** Whether `gn` is the whole loss's curvature (else the pixel term's, its fallback). */
  private gnWhole = false;
  private sinceJacobian = Infinity;
  /** The numbers where the curvature was last measured. */
  private measuredAt: Float32Array | null = null;
  private mu: number;
  private nu = 2;
  constructor(
    readonly ev: Evaluator,
    readonly stage: Stage
  ) {
    this.mu = (stage.optimiser as NewtonOptimiser).damping;
  }

  private get active(): number[] {
    return this.stage.optimise === 'pose' ? [0, 1, 2] : Array.from({ length: PARAM_COUNT }, (_, i) => i);
  }

  /** `target`: the frame's full-resolution target (downsampled here to the Jacobian's size). */
  private async jacobian(wid: Float32Array, p: Float32Array, target: Float32Array): Promise<{ h: Float64Array; whole: boolean }> {
    const opt = this.stage.optimiser as NewtonOptimiser;
    const size = stageResolution({ downscale: this.stage.downscale * opt.jacobianDownscale }, this.ev.dec.res);
    // The whole loss's curvature where it is MS-SSIM's: LPIPS-VGG on 36 images at full size costs as much as the renders.
    const whole = opt.curvature === 'loss' && !this.ev.dec.perceptual;
    return frameCurvature(this.ev, wid, p, this.active, size, whole ? downsample(target, 1, this.ev.dec.res, this.ev.dec.res / size) : undefined);
  }

  /**
   * Solves one frame from `init` (in place in `p`), tied to `prev` by the smoothness term.
   * `target` is the full-resolution crop. Returns the frame's loss (without the smoothness term).
   */
  async solve(wid: Float32Array, p: Float32Array, target: Float32Array, prev: Float32Array | null, lambda: number): Promise<number> {
    const { ev, stage } = this;
    const opt = stage.optimiser as NewtonOptimiser;
    const size = stageResolution(stage, ev.dec.res);
    const tgt = downsample(target, 1, ev.dec.res, ev.dec.res / size);
    const act = this.active;
    const n = act.length;
    // A curvature estimate gone bad (not positive definite even when damped) starts afresh.
    const healthy = this.h !== null && this.h.every(Number.isFinite) && choleskySolve(this.h, new Float64Array(n), n) !== null;
    if (!healthy) this.gn = null;
    if (!healthy || this.sinceJacobian >= opt.jacobianEvery) {
      // A fresh curvature; what BFGS learnt beyond the last one (with the pixel term's alone, the
      // rest of the loss's curvature) is kept: H = H_learnt + (GN_new - GN_old).
      const { h: gn, whole } = await this.jacobian(wid, p, target);
      // Learnt on top of the other kind of curvature (the whole loss's fell back to the pixel
      // term's, far from a fit, or back again), what was learnt would count MS-SSIM's part twice or not at all.
      const same = this.h !== null && this.gn !== null && whole === this.gnWhole;
      if (same) for (let i = 0; i < gn.length; i++) this.h![i]! += gn[i]! - this.gn![i]!;
      // What was learnt does not fit the new curvature (the sum is not positive definite): start from the new one.
      if (!same || choleskySolve(this.h!, new Float64Array(n), n) === null) this.h = Float64Array.from(gn);
      this.gn = gn;
      this.gnWhole = whole;
      this.sinceJacobian = 0;
      this.measuredAt = Float32Array.from(p);
    }
    this.sinceJacobian++;
    // Each frame starts with the initial damping: one hard frame must not leave the next ones stuck.
    this.mu = opt.damping;
    this.nu = 2;
    const h = this.h!;
    const evaluate = async (q: Float32Array) => {
      const out = await ev.params(wid, q, tgt, 1, size, false);
      const g = new Float64Array(n);
      let f = out.loss[0]!;
      act.forEach((i, k) => {
        g[k] = out.grad[i]!;
        if (prev && lambda > 0) {
          g[k]! += 2 * lambda * (q[i]! - prev[i]!);
          f += lambda * (q[i]! - prev[i]!) ** 2;
        }
      });
      return { f, image: out.loss[0]!, g };
    };
    let cur = await evaluate(p);
    let evals = 1;
    const smoothH = prev ? 2 * lambda : 0;
    while (evals < stage.stop.maxEvaluations) {
      const a = new Float64Array(n * n);
      for (let i = 0; i < n * n; i++) a[i] = h[i]!;
      for (let i = 0; i < n; i++) a[i * n + i]! += this.mu * h[i * n + i]! + smoothH;
      const rhs = cur.g.map((v) => -v);
      const step = choleskySolve(a, rhs, n);
      if (!step) {
        // Not positive definite (a non-finite gradient, say): damp harder, and give up on the frame if that cannot help.
        if (!cur.g.every(Number.isFinite) || this.mu > 1e8) break;
        this.mu = Math.max(this.mu, 1e-4) * 10;
        continue;
      }
      let gs = 0;
      for (let i = 0; i < n; i++) gs += cur.g[i]! * step[i]!;
      const predicted = -(gs + 0.5 * quadForm(h, step, n));
      // The step is too small to matter, or the model promises too little: the frame is done.
      let biggest = 0;
      for (let i = 0; i < n; i++) biggest = Math.max(biggest, Math.abs(step[i]!));
      if (biggest < (stage.stop.xTol ?? 0) && this.mu < 1) break;
      if (predicted <= 0) {
        // No decrease predicted: rounding where the gradient is about 0, or a curvature that is not
        // positive along the step. Damp harder rather than leave the frame where it started (at
        // most about 13 times: mu grows tenfold each, without a run).
        if (this.mu > 1e8) break;
        this.mu = Math.max(this.mu, 1e-4) * 10;
        continue;
      }
      const q = Float32Array.from(p);
      act.forEach((i, k) => (q[i]! += step[k]!));
      const next = await evaluate(q);
      evals++;
      // Every trial teaches the curvature along its step, accepted or not (the pixel term's
      // Gauss-Newton matrix misses the perceptual term's curvature, which BFGS supplies).
      const y = new Float64Array(n);
      for (let i = 0; i < n; i++) y[i] = next.g[i]! - cur.g[i]!;
      bfgsUpdate(h, step, y, n);
      const rho = (cur.f - next.f) / predicted;
      if (next.f < cur.f) {
        const gain = (cur.f - next.f) / cur.f;
        p.set(q);
        cur = next;
        // Nielsen's rule: a step the model predicted well loosens the damping, a poor one tightens it.
        this.mu = Math.max(this.mu * Math.max(1 / 3, 1 - (2 * rho - 1) ** 3), 1e-7);
        this.nu = 2;
        if (gain < (stage.stop.relTol ?? 0)) break;
      } else {
        this.mu = dampingAfterRejection(this.mu, this.nu, gs, next.f - cur.f, rho);
        this.nu *= 2;
      }
    }
    // The curvature was measured at this frame's start, and the frame ended far from it (a
    // distant start: the neutral numbers, a cut): the next frame measures it afresh, where the
    // clip is. (Not on a gradual drift: a measurement costs more renders than it saves runs.)
    if (this.sinceJacobian === 1 && this.measuredAt && act.some((i) => Math.abs(p[i]! - this.measuredAt![i]!) > (i < 3 ? FAR_FROM_CURVATURE.pose : FAR_FROM_CURVATURE.attribute))) this.sinceJacobian = Infinity;
    return cur.image;
  }
}

/**
 * The frames stages of a schedule over one window of `batch` consecutive frames, from
 * `params` (the warm start, [B, 35], optimised in place). `prev` is the frame before the
 * window (for the smoothness term); `solvers` keeps Gauss-Newton state across windows.
 */
export async function runFrameStages(
  ev: Evaluator,
  stages: readonly Stage[],
  wid: Float32Array,
  params: Float32Array,
  targets: Float32Array,
  batch: number,
  prev: Float32Array | null,
  lambda: number,
  solvers: Map<string, NewtonSolver>,
  bookAs?: string
): Promise<Float32Array> {
  const P = PARAM_COUNT;
  const plane = 3 * ev.dec.res * ev.dec.res;
  let losses: Float32Array = new Float32Array(batch);
  for (const stage of stages) {
    // The identity's refinement fits frames with the frame stages: that work is the refinement's.
    ev.current = bookAs ?? stage.id;
    if (stage.optimiser.kind === 'adam') {
      losses = await adamFrames(ev, stage, wid, params, targets, batch, prev, lambda);
      continue;
    }
    let solver = solvers.get(stage.id);
    if (!solver) solvers.set(stage.id, (solver = new NewtonSolver(ev, stage)));
    for (let b = 0; b < batch; b++) {
      const p = params.subarray(b * P, (b + 1) * P);
      const before = b > 0 ? params.slice((b - 1) * P, b * P) : prev;
      losses[b] = await solver.solve(wid, p, targets.subarray(b * plane, (b + 1) * plane), before, lambda);
    }
  }
  return losses;
}

/** Frames [3, R, R] each, stacked into one batch [n, 3, R, R]. */
export function stackFrames(frames: readonly Float32Array[]): Float32Array {
  const n = frames[0]!.length;
  const out = new Float32Array(frames.length * n);
  frames.forEach((f, i) => out.set(f, i * n));
  return out;
}

/**
 * Solves one frame's numbers from each start, each by a fresh solver (a curvature learnt from
 * other frames is the wrong one at a distant start); returns the lowest loss and its numbers
 * (the first start's on a tie).
 */
export async function solveFromStarts(
  ev: Evaluator,
  stages: readonly Stage[],
  wid: Float32Array,
  starts: readonly Float32Array[],
  target: Float32Array,
  prev: Float32Array | null,
  lambda: number,
  bookAs?: string
): Promise<{ loss: number; params: Float32Array }> {
  let best: { loss: number; params: Float32Array } | null = null;
  for (const p0 of starts) {
    const p = p0.slice();
    const [loss] = await runFrameStages(ev, stages, wid, p, target, 1, prev, lambda, new Map(), bookAs);
    if (!best || lowerLoss(loss!, best.loss)) best = { loss: loss!, params: p };
  }
  if (!best) throw new Error('solveFromStarts needs at least one start');
  return best;
}

/** Whether loss `a` beats `b`: lower, or a number where `b` is NaN (a diverged solve never wins). */
export const lowerLoss = (a: number, b: number): boolean => a < b || (Number.isNaN(b) && !Number.isNaN(a));

/**
 * The restart rule: a frame is solved again when its loss is more than `factor` times the median
 * of the recent frames' (at least 3 of them), or is NaN (a diverged solve).
 */
export function needsRestart(loss: number, recent: readonly number[], factor: number): boolean {
  if (recent.length < 3) return Number.isNaN(loss);
  const sorted = [...recent].sort((a, b) => a - b);
  return !(loss <= factor * sorted[sorted.length >> 1]!);
}

/** How many solved frames the warm start looks back on: 'predict' scores its predictors on the last 4 frames it could have predicted. */
export const WARM_START_HISTORY = 7;

/** Extrapolation of order 0 (the last value), 1 (linear) or 2 (quadratic) from `h` (oldest first) to the frame after `end` (exclusive). */
function extrapolate(h: readonly Float32Array[], end: number, order: number, i: number): number {
  const a = h[end - 1]![i]!;
  if (order === 0) return a;
  const b = h[end - 2]![i]!;
  if (order === 1) return 2 * a - b;
  return 3 * a - 3 * b + h[end - 3]![i]!;
}

/** The numbers whose extrapolation order warmStart's 'predict' chooses together: the pose (degrees), the attributes (sigma). */
const PREDICTED_TOGETHER = [
  [0, 1, 2],
  Array.from({ length: PARAM_COUNT - 3 }, (_, i) => 3 + i)
];

/**
 * Where frame t starts, from the solved frames before it (`history`, oldest first, the last
 * frame last): 'previous' the last frame's numbers; 'extrapolate' their linear extrapolation
 * from the last two; 'predict' whichever of those two and the quadratic extrapolation from the
 * last three would have predicted the last 4 frames best (the least summed squared error),
 * chosen for the pose and for the attributes apart (their units differ, and a head can turn
 * smoothly while an expression jitters). A smooth motion is predicted to second order; a jittery
 * track, where higher orders amplify the jitter, to first or zeroth. With two frames 'predict'
 * extrapolates linearly, as 'extrapolate' does; with one, both take it. No history: all 0
 * (the neutral numbers).
 */
export function warmStart(mode: EncodeSchedule['frames']['warmStart'], history: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(PARAM_COUNT);
  const n = history.length;
  if (n === 0) return out;
  for (const group of PREDICTED_TOGETHER) {
    let order = mode === 'previous' ? 0 : Math.min(1, n - 1);
    if (mode === 'predict' && n >= 3) {
      let best = Infinity;
      const top = Math.min(2, n - 2);
      for (let o = 0; o <= top; o++) {
        // Scored on the same frames for every order: those the highest order could predict.
        let err = 0;
        for (let t = Math.max(top + 1, n - 4); t < n; t++) for (const i of group) err += (extrapolate(history, t, o, i) - history[t]![i]!) ** 2;
        if (err < best) {
          best = err;
          order = o;
        }
      }
    }
    for (const i of group) out[i] = extrapolate(history, n, order, i);
  }
  return out;
}

/**
 * Inverts K target frames into W+ with the identity stages of a schedule, starting from w_avg.
 * Returns the latents [K, L, D] and each frame's final loss.
 */
export async function invertFrames(ev: Evaluator, stages: readonly Stage[], targets: Float32Array, k: number, onProgress?: (stage: Stage, p: Progress) => void, progress?: IdentityProgress): Promise<{ wplus: Float32Array; losses: Float32Array }> {
  const { dec } = ev;
  const D = dec.wDim;
  const wAvg = dec.net.wAvg;
  const wplus = new Float32Array(k * dec.numWs * D);
  for (let i = 0; i < wplus.length; i++) wplus[i] = wAvg[i % D]!;
  let losses: Float32Array = new Float32Array(k).fill(Infinity);
  for (const [i, st] of stages.entries()) {
    const run = (step?: StepProgress) => runInversionStage(ev, st, wplus, targets, k, (p) => onProgress?.(st, p), step);
    if (!progress) losses = await run();
    else {
      // A finished stage gives back the candidates' W+ and losses it ended with.
      losses = await progress.step(
        `invert:${i}:${st.id}`,
        run,
        (l) => ({ meta: {}, arrays: { wplus: wplus.slice(), losses: l } }),
        (s) => {
          const [w, l] = [f32Of(s, 'wplus', wplus.length), f32Of(s, 'losses', k)];
          wplus.set(w);
          return l;
        }
      );
    }
  }
  return { wplus, losses };
}
