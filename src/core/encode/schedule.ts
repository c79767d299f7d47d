// The encoder's work as data (STYLE.md, "Long computations as data"): an encode is a list of
// stages, each saying what it optimises, at what resolution, with which optimiser and with
// which stopping rule. One loop (encode/run-stages.ts) runs any list, so the quality presets,
// the benchmark's reference schedule and later GPU schedules are values of one type.
// Pure TypeScript: the studio imports it to show the stages and their share of the work.

export interface LossWeights {
  /** Weight of the pixel MSE term (images in -1..1). */
  pixel: number;
  /** Weight of the multi-scale SSIM term (used when there are no perceptual weights). */
  ssim: number;
  /** Weight of the LPIPS-VGG term, which replaces MS-SSIM when perceptual weights are given (default 1). */
  lpips?: number;
}

export const DEFAULT_LOSS: LossWeights = { pixel: 10, ssim: 1 };

/** Adam with a cosine decay of every learning rate over the stage's step budget. */
export interface AdamOptimiser {
  kind: 'adam';
  /** Step size of W+ rows (identity stages). */
  wLr?: number;
  /** Step sizes of the per-frame numbers: pose in its units (degrees), attributes in sigma units. */
  poseLr?: number;
  attributeLr?: number;
}

/**
 * Damped Gauss-Newton on the 35 numbers of one frame: the curvature comes from the image
 * Jacobian (finite differences, one batched render), what it misses is learnt from the gradients
 * by BFGS updates, and a Levenberg-Marquardt damping keeps every accepted step a descent. The
 * Jacobian is recomputed every `jacobianEvery` frames (the curvature changes slowly along a clip)
 * at resolution/`jacobianDownscale`.
 */
export interface NewtonOptimiser {
  kind: 'newton';
  /**
   * 'pixel': the pixel term's Gauss-Newton matrix J^T W J; 'loss': the whole loss's, J^T H J with
   * H the loss's image-space Hessian measured along J (MS-SSIM's curvature included; one more
   * run of the loss alone on the Jacobian's renders). With LPIPS weights 'loss' reads as 'pixel'.
   */
  curvature: 'pixel' | 'loss';
  /** Initial Levenberg-Marquardt damping, relative to the diagonal of the curvature. */
  damping: number;
  jacobianEvery: number;
  jacobianDownscale: number;
}

/**
 * L-BFGS with a backtracking line search (identity stages): deterministic and smooth, so it
 * needs far fewer runs than Adam. In a refine stage each of the 35 numbers is scaled by its
 * image effect (the pixel curvature), W+ by 1.
 */
export interface LbfgsOptimiser {
  kind: 'lbfgs';
  /** Largest change of any scaled unknown in the first step. */
  firstStep: number;
  memory: number;
}

export type Optimiser = AdamOptimiser | NewtonOptimiser | LbfgsOptimiser;

/** When a held-out frame fits clearly worse than the refinement's frames: by more than `gap` (loss units) and `ratio` times. */
export interface ProbeRule {
  gap: number;
  ratio: number;
}

export interface StopRule {
  /** Loss-and-gradient evaluations at most (Adam: steps + 1; Newton: trial points, rejected ones included). */
  maxEvaluations: number;
  /** Stop once an accepted step improves the loss by less than this fraction (Newton only). */
  relTol?: number;
  /**
   * Stop once the next step would move no number by more than this, in its units (Newton only).
   * The step is preconditioned by the curvature, so weak tracks converge as well as strong ones.
   */
  xTol?: number;
  /**
   * Stop once the loss fell by less than the fraction `relTol` over the last `evaluations`
   * evaluations (L-BFGS only): `maxEvaluations` is then a cap, reached only while it still descends.
   */
  plateau?: { evaluations: number; relTol: number };
}

/** What the encoder's phases are, in order, as the studio lists them. */
export const ENCODE_PHASES = [
  { id: 'probe', label: 'Read video' },
  { id: 'hash', label: 'Hash source' },
  { id: 'align', label: 'Align faces' },
  { id: 'identity', label: 'Find identity' },
  { id: 'refine', label: 'Refine identity' },
  { id: 'frames', label: 'Encode frames' }
] as const;

export type EncodePhase = (typeof ENCODE_PHASES)[number]['id'];

export interface Stage {
  /** Unique within a schedule. */
  id: string;
  /** What the user reads while it runs. */
  label: string;
  /**
   * identity: candidate frames inverted into W+ (the best seeds w_ID);
   * refine: w_ID and the numbers of frames spread over the clip, jointly;
   * frames: the numbers of each frame, w_ID fixed.
   */
  phase: 'identity' | 'refine' | 'frames';
  /** What moves: all of W+, w_ID with the frames' numbers, the 3 pose numbers, or all 35. */
  optimise: 'wplus' | 'identity+params' | 'pose' | 'params';
  /** Render at resolution / downscale: the skip architecture's image after that block (a truncated synthesis). */
  downscale: number;
  optimiser: Optimiser;
  stop: StopRule;
  /**
   * Refine stages only: the loss this stage minimises, where it is not the schedule's. The
   * stage reports its frames' losses in the schedule's loss at its end (one more run).
   */
  loss?: LossWeights;
}

export interface EncodeSchedule {
  name: string;
  loss: LossWeights;
  identity: {
    /** Candidate frames inverted into W+ (the most frontal per stretch of the clip). */
    candidates: number;
    /** Frames spread over the clip that refine stages optimise with the identity. */
    refineFrames: number;
    /**
     * A held-out check after the refine stages (refine.ts): the frames midway between the
     * refinement's frames are solved with the identity fixed, and those that fit worse than the
     * refinement frames' mean loss by more than `gap` and `ratio` times it join the refinement,
     * which runs once more. Left out: no check.
     */
    probe?: ProbeRule;
  };
  frames: {
    /** Frames optimised together in one batch (CPU: 1; frames run one after another). */
    window: number;
    /** Weight of the squared frame-to-frame difference of the numbers. */
    smoothness: number;
    /**
     * Warm start of a frame: the previous frame's numbers, their linear extrapolation from the two
     * before, or 'predict': whichever of those and the quadratic extrapolation would have
     * predicted the last frames best (optimize.ts, warmStart).
     */
    warmStart: 'previous' | 'extrapolate' | 'predict';
    /**
     * A frame whose loss comes out above `factor` times the median loss of the frames encoded
     * before it is solved again from the neutral numbers (all 0) and from the nearest frame the
     * refinement solved, each by a fresh solver; the lowest loss is kept. When a restart wins, the
     * next frame starts from it and learns its curvature afresh. A warm start carried along a wrong branch
     * (an expression traded for another that fits as well for a while), a cut or a fast turn
     * are caught here. Left out: never.
     */
    restart?: { factor: number };
  };
  stages: Stage[];
}

const adam = (o: Omit<AdamOptimiser, 'kind'>): AdamOptimiser => ({ kind: 'adam', ...o });

/**
 * The encoder as it was before schedules existed, kept unchanged as data: the benchmark's
 * reference ("normal" quality then). About 500 forward-equivalents per frame.
 */
export const REFERENCE_SCHEDULE: EncodeSchedule = {
  name: 'reference',
  loss: DEFAULT_LOSS,
  identity: { candidates: 4, refineFrames: 16 },
  frames: { window: 8, smoothness: 1e-5, warmStart: 'previous' },
  stages: [
    { id: 'invert', label: 'Invert candidate frames', phase: 'identity', optimise: 'wplus', downscale: 1, optimiser: adam({ wLr: 0.05 }), stop: { maxEvaluations: 601 } },
    { id: 'refine', label: 'Refine identity with 16 frames', phase: 'refine', optimise: 'identity+params', downscale: 1, optimiser: adam({ wLr: 0.03, poseLr: 0.25, attributeLr: 0.04 }), stop: { maxEvaluations: 1201 } },
    { id: 'pose', label: 'Pose at half resolution', phase: 'frames', optimise: 'pose', downscale: 2, optimiser: adam({ poseLr: 0.5 }), stop: { maxEvaluations: 31 } },
    { id: 'params', label: 'All 35 numbers', phase: 'frames', optimise: 'params', downscale: 1, optimiser: adam({ poseLr: 0.5, attributeLr: 0.08 }), stop: { maxEvaluations: 151 } }
  ]
};

export const ENCODE_QUALITIES = ['draft', 'normal', 'best'] as const;
export type EncodeQuality = (typeof ENCODE_QUALITIES)[number];
export const isEncodeQuality = (q: unknown): q is EncodeQuality => typeof q === 'string' && (ENCODE_QUALITIES as readonly string[]).includes(q);

/**
 * The refinement's loss: the pixel term alone (with LPIPS weights present, pixel and LPIPS: the
 * SSIM term is not used then). A sum of squares has a nearly constant curvature, and without
 * MS-SSIM's ratios L-BFGS settles in about 60% of the runs on synthetic clips, each a quarter
 * cheaper: model 1 / clip 29 484 runs against 778, model 404 / clip 57 771 against 1,313. The
 * frames, fitted afterwards with the schedule's loss, fit better: a higher PSNR median on all 19
 * synthetic pairs measured before and after, a lower loss on 11 of 12 real ranges (lp_d11
 * frames 100:124: 3% higher, still 0.84 times the reference's).
 * The held-out check compares in the schedule's loss, which the stage reports at its end
 * (docs/ENCODER-MEASUREMENTS.md).
 */
export const REFINE_LOSS: LossWeights = { ...DEFAULT_LOSS, ssim: 0 };

const newton = (o: Partial<Omit<NewtonOptimiser, 'kind'>> = {}): NewtonOptimiser => ({ kind: 'newton', curvature: 'loss', damping: 1e-3, jacobianEvery: 16, jacobianDownscale: 1, ...o });

const lbfgs = (o: Partial<Omit<LbfgsOptimiser, 'kind'>> = {}): LbfgsOptimiser => ({ kind: 'lbfgs', firstStep: 0.1, memory: 20, ...o });

/**
 * The schedule of each quality. Identity: the candidates inverted into W+ by L-BFGS, then the
 * best refined jointly with the numbers of frames spread over the clip, by L-BFGS (both at full
 * resolution: on the seeded models the skip images of earlier blocks are no downsampled copy
 * of the final image, and coarse identity stages cost more PSNR than they saved); per frame: a
 * damped Gauss-Newton solve of all 35 numbers, warm-started by prediction from the frames before.
 */
export function qualitySchedule(quality: EncodeQuality): EncodeSchedule {
  const k = { draft: 0.5, normal: 1, best: 2 }[quality];
  const steps = (n: number) => Math.max(2, Math.round(n * k));
  // The refinement: few frames, many runs, a long L-BFGS memory. L-BFGS was still descending at
  // 520 runs, and the frames stage refits every frame's numbers anyway. With a memory of 20 the
  // identity could settle where a weak track's effect is mixed into others (model seed 23, clip
  // seed 5: wink left r 0.73); 100 pairs of 5-10 thousand numbers cost nothing beside a render
  // and lifted it to r 0.98 at 1040 runs, 0.935 at 780 (0.908 with the per-frame cap of 24
  // below). With 4 x 780 frame-runs (a sixth of the reference's identity runs) the real clips end
  // at 0.79-0.95 times the reference's loss; 1040 fitted better (0.71-0.89) but left the identity
  // only 5 times cheaper. Memory 400 (was 100) fits better again on every real clip and on most
  // seed pairs, at no measurable cost; 800 cost 23% more identity time for little. A fixed count
  // is both too many and too few: seed 11 stops falling at about 600 runs, model 404 / clip 57
  // falls by 15-19% per 50 runs up to 1000 and settles at about 1450 (track r 0.873 at 780, 0.983
  // there). So the refinement stops once 50 runs gain less than 1%, at 1560 runs at most ('best':
  // 3120). 'draft', for quick looks, keeps its old 390 at most.
  const refineFrames = 4;
  const refineCap = { draft: 390, normal: 1560, best: 3120 }[quality];
  // An identity refined on 4 frames of a real face fits them (lp_d11 frames 100:124: loss about
  // 0.10) and the frames between them worse (0.18-0.34; mean 0.2001, 1.11 times the reference's,
  // which refines on 16 of those 24 frames). So the frames midway between the 4 are solved with
  // it, and those that fit worse by more than 0.02 and 1.5 times join a second round (there all
  // 3: mean 0.146, 0.81 times the reference's, for 1.8 times the identity's time). On synthetic
  // clips, which the model draws exactly, no held-out frame fell that far behind (18 pairs: at
  // most 0.0054), so they pay only the held-out solves. 'draft' has no second round.
  const probe = { gap: 0.02, ratio: 1.5 };
  // Per frame, Gauss-Newton with the whole loss's curvature (MS-SSIM's too), warm-started by the
  // best of three predictors: 29% fewer evaluations than the pixel term's curvature with a linear
  // extrapolation on 4 synthetic clips with their true identity, 1,843 against 1,311
  // (docs/ENCODER-MEASUREMENTS.md).
  // It stops when no number would move by more than 0.03 of its unit, and
  // after 24 evaluations at most. On seeded-64 most frames stop on the tolerance; on config-f 256
  // (8 synthetic frames, true identity) every frame ran into a cap of 12 at 41.6 dB PSNR median,
  // while 24 reached 57.2 dB (docs/ENCODER-MEASUREMENTS.md).
  // The smoothness term ties each frame to the one before: lambda * (p - p_prev)^2 per number,
  // pose in degrees. It must stay small beside the image loss of a frame that fits well (about
  // 1e-4 where the model draws the clip exactly): at 1e-5 a head turning 2 degrees a frame paid
  // 4e-5 a number, so the pose lagged by a degree and weak tracks made up for it (model 250 /
  // clip 19: cheek suck r 0.894, PSNR median 57.9 dB; at 1e-7: 0.948, 58.3 dB). On real clips,
  // whose loss is near 0.1, 1e-5 and 1e-7 gave the same losses (to 0.0003); the pose was 0-10%
  // rougher from frame to frame on three of four clips at 1e-7, 37% on lp_d3 (4% with no term).
  return {
    name: quality,
    loss: DEFAULT_LOSS,
    identity: { candidates: quality === 'draft' ? 1 : 2, refineFrames, ...(quality === 'draft' ? {} : { probe }) },
    frames: { window: 1, smoothness: 1e-7, warmStart: 'predict', restart: { factor: 3 } },
    stages: [
      { id: 'invert', label: 'Invert candidate frames (L-BFGS)', phase: 'identity', optimise: 'wplus', downscale: 1, optimiser: lbfgs({ firstStep: 0.3 }), stop: { maxEvaluations: steps(100) } },
      { id: 'refine', label: `Refine identity with ${refineFrames} frames (L-BFGS)`, phase: 'refine', optimise: 'identity+params', downscale: 1, optimiser: lbfgs({ memory: 400 }), stop: { maxEvaluations: refineCap, plateau: { evaluations: 50, relTol: 0.01 } }, loss: REFINE_LOSS },
      { id: 'params', label: 'All 35 numbers (Gauss-Newton)', phase: 'frames', optimise: 'params', downscale: 1, optimiser: newton(), stop: { maxEvaluations: steps(24), xTol: 0.03 } }
    ]
  };
}

/** Rendered side of a stage at a model resolution (the skip architecture draws from 4 px up; we stop at 16). */
export function stageResolution(stage: Pick<Stage, 'downscale'>, resolution: number): number {
  return Math.max(Math.min(16, resolution), Math.floor(resolution / stage.downscale));
}

/** Checks a schedule before any work starts; returns what is wrong, or null. */
export function scheduleProblem(s: EncodeSchedule): string | null {
  const ids = new Set<string>();
  for (const st of s.stages) {
    if (ids.has(st.id)) return `stage id "${st.id}" appears twice`;
    ids.add(st.id);
    if (!(st.downscale >= 1) || (st.downscale & (st.downscale - 1)) !== 0) return `stage ${st.id}: downscale must be a power of two, got ${st.downscale}`;
    if (!Number.isInteger(st.stop.maxEvaluations) || st.stop.maxEvaluations < 1) return `stage ${st.id}: maxEvaluations must be a positive integer`;
    const okOptimise = { identity: ['wplus'], refine: ['identity+params'], frames: ['pose', 'params'] }[st.phase];
    if (!okOptimise.includes(st.optimise)) return `stage ${st.id}: a ${st.phase} stage cannot optimise ${st.optimise}`;
    if (st.optimiser.kind === 'newton' && st.phase !== 'frames') return `stage ${st.id}: Gauss-Newton only solves per-frame numbers`;
    if (st.optimiser.kind === 'lbfgs' && st.phase === 'frames') return `stage ${st.id}: L-BFGS runs the identity stages; frames use Gauss-Newton or Adam`;
    if (st.stop.plateau && st.optimiser.kind !== 'lbfgs') return `stage ${st.id}: the plateau rule is for L-BFGS stages`;
    const lw = st.loss;
    if (lw && st.phase !== 'refine') return `stage ${st.id}: a loss of its own is for refine stages only`;
    if (lw && ![lw.pixel, lw.ssim, lw.lpips ?? 0].every((v) => Number.isFinite(v) && v >= 0)) return `stage ${st.id}: loss weights must be finite and not negative`;
    // Without perceptual weights the loss is pixel + ssim terms, with them pixel + lpips (default 1): neither may be zero.
    if (lw && !(lw.pixel > 0 || (lw.ssim > 0 && (lw.lpips ?? 1) > 0))) return `stage ${st.id}: a loss needs a positive weight with and without perceptual weights`;
    if (st.stop.plateau && !(st.stop.plateau.evaluations >= 1 && st.stop.plateau.relTol > 0 && st.stop.plateau.relTol < 1)) return `stage ${st.id}: plateau needs evaluations >= 1 and 0 < relTol < 1`;
  }
  const phases = s.stages.map((st) => ENCODE_PHASES.findIndex((p) => p.id === st.phase));
  if (phases.some((p, i) => i > 0 && p < phases[i - 1]!)) return 'stages must run identity, then refine, then frames';
  if (!s.stages.some((st) => st.phase === 'identity')) return 'a schedule needs at least one identity stage';
  if (!s.stages.some((st) => st.phase === 'frames')) return 'a schedule needs at least one frames stage';
  if (!(s.frames.window >= 1) || !Number.isInteger(s.frames.window)) return 'frames.window must be a positive integer';
  if (!(s.identity.candidates >= 1)) return 'identity.candidates must be at least 1';
  if (s.frames.restart && !(s.frames.restart.factor > 1)) return 'frames.restart.factor must be above 1';
  const pr = s.identity.probe;
  if (pr && !(pr.gap >= 0 && pr.ratio >= 1)) return 'identity.probe needs gap >= 0 and ratio >= 1';
  return null;
}

/**
 * Relative cost of each phase and stage of an encode, in forward-equivalents per frame of
 * the model: what progress fractions are made of. A loss-and-gradient evaluation costs about
 * 2.2 forwards, and a render at 1/d of the resolution about 1/d^1.6 of one (the low-resolution
 * layers cost less than their pixel count suggests); face alignment about 3 per frame.
 */
export function planCosts(s: EncodeSchedule, o: { frames: number; align: boolean }): { id: string; phase: EncodePhase; cost: number }[] {
  const vjp = 2.2;
  const out: { id: string; phase: EncodePhase; cost: number }[] = [
    { id: 'probe', phase: 'probe', cost: 0.5 },
    { id: 'hash', phase: 'hash', cost: 0.5 },
    { id: 'align', phase: 'align', cost: o.align ? 3 * o.frames : 0 }
  ];
  const frames = o.frames;
  for (const st of s.stages) {
    const scale = 1 / st.downscale ** 1.6;
    const batch = st.phase === 'identity' ? Math.min(s.identity.candidates, frames) : st.phase === 'refine' ? Math.min(s.identity.refineFrames, frames) : frames;
    const perEval = st.phase === 'frames' && st.optimiser.kind === 'newton' ? vjp * 0.7 : vjp; // Newton usually stops early
    let share = st.stop.plateau ? 0.6 : 1; // so does a stage with a plateau rule (0.4-0.95 of its cap measured)
    if (st.phase === 'refine' && s.identity.probe) share *= 1.5; // a second round on more frames, where held-out frames fit worse
    out.push({ id: st.id, phase: st.phase, cost: batch * st.stop.maxEvaluations * perEval * scale * share });
  }
  return out;
}

/** Progress through an encode: the fraction at the start and end of each entry of planCosts. */
export function planFractions(s: EncodeSchedule, o: { frames: number; align: boolean }): Map<string, { start: number; end: number }> {
  const costs = planCosts(s, o);
  const total = costs.reduce((a, c) => a + c.cost, 0);
  const out = new Map<string, { start: number; end: number }>();
  let at = 0;
  for (const c of costs) {
    out.set(c.id, { start: at / total, end: (at + c.cost) / total });
    at += c.cost;
  }
  return out;
}

/** The terms a loss has, as a user reads them: with perceptual weights MS-SSIM gives way to LPIPS. */
export function lossTerms(w: LossWeights, perceptual: boolean): string {
  const terms = [w.pixel > 0 ? 'pixel' : null, perceptual ? ((w.lpips ?? 1) > 0 ? 'LPIPS' : null) : w.ssim > 0 ? 'MS-SSIM' : null].filter((t) => t);
  return terms.join(' + ');
}

/** What a schedule does, in a sentence a user reads (the studio's quality hints). */
export function scheduleSummary(s: EncodeSchedule): string {
  const id = s.stages.filter((st) => st.phase === 'identity');
  const refine = s.stages.filter((st) => st.phase === 'refine');
  const frames = s.stages.filter((st) => st.phase === 'frames');
  const steps = (sts: Stage[]) => sts.reduce((a, st) => a + st.stop.maxEvaluations, 0);
  const parts = [`${s.identity.candidates} identity candidate${s.identity.candidates > 1 ? 's' : ''} (${steps(id)} steps)`];
  const upTo = refine.some((st) => st.stop.plateau) ? 'up to ' : '';
  if (refine.length) parts.push(`identity refined on ${s.identity.refineFrames} frames (${upTo}${steps(refine)} steps${s.identity.probe ? ', again with the frames between them that fit worse' : ''})`);
  const newton = frames.some((st) => st.optimiser.kind === 'newton');
  parts.push(`${newton ? 'at most ' : ''}${steps(frames)} ${newton ? 'Gauss-Newton evaluations' : 'steps'} per frame`);
  return parts.join(', ');
}
