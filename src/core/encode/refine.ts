// The identity's refinement: w_ID and the numbers of a few frames spread over the clip, jointly
// (the schedule's refine stages), then a held-out check. An identity refined on few frames can
// fit them by taking in what their numbers do not say (a real face's motion is more than 35
// numbers), and then fits the frames between them worse. The frames midway between the
// refinement's frames are solved with the identity fixed; those that fit clearly worse join the
// refinement, which runs once more on the larger set from where it stopped.
import { PARAM_COUNT } from '../model/basis';
import { Evaluator, lowerLoss, NewtonSolver, type Progress, runFrameStages, runRefineStage, solveFromStarts, stackFrames } from './optimize';
import type { ProbeRule, Stage } from './schedule';
import { f32Of, type IdentityProgress, type Saved, type StepProgress } from './identity-progress';

/** The frames midway between consecutive refinement frames (sorted), that are not refinement frames. */
export function probeFrames(refine: readonly number[]): number[] {
  const out: number[] = [];
  for (let j = 0; j + 1 < refine.length; j++) {
    const m = Math.round((refine[j]! + refine[j + 1]!) / 2);
    if (!refine.includes(m) && !out.includes(m)) out.push(m);
  }
  return out;
}

/** The probes that fit worse than the refinement frames' mean loss (`refinedLoss`) by more than the rule's gap and ratio. */
export function probesToAdd(refinedLoss: number, probes: readonly { frame: number; loss: number }[], rule: ProbeRule): number[] {
  return probes.filter((p) => p.loss > rule.ratio * refinedLoss && p.loss - refinedLoss > rule.gap).map((p) => p.frame);
}

export interface RefineOutcome {
  /** The refinement frames (encoded-frame indices, sorted) and their numbers with the final identity. */
  frames: Map<number, Float32Array>;
  /** The held-out frames solved with the identity of the first round, and their losses. */
  probes: { frame: number; loss: number }[];
  /** What the probes are compared with: the refinement frames' mean loss at the end of the first round. */
  refinedLoss: number;
  /** Rounds of the refine stages that ran: 1, or 2 when probes joined. */
  rounds: number;
}

export interface RefineOptions {
  refine: readonly Stage[];
  frames: readonly Stage[];
  /** Frames per batch of the first fits (the schedule's frames.window). */
  window: number;
  probe?: ProbeRule;
  /** Progress of a refine stage in a round (0-based) out of the rounds planned. */
  onProgress?: (round: number, rounds: number, stage: Stage, p: Progress, frames: number) => void;
  /** Saves each step, and resumes from the steps a stopped run saved (identity-progress.ts). */
  progress?: IdentityProgress;
}

/** Where the refinement books the frame fits it runs with the frame stages (its first fit and the held-out frames). */
export const refineFitId = (refineStageId: string): string => `${refineStageId}:frames`;

/**
 * Refines `wid` in place on the frames `indices`; `crops` holds their targets and those of
 * `probeFrames(indices)` when the options have a probe rule.
 */
export async function refineIdentity(ev: Evaluator, o: RefineOptions, wid: Float32Array, indices: readonly number[], crops: ReadonlyMap<number, Float32Array>): Promise<RefineOutcome> {
  const P = PARAM_COUNT;
  const plane = 3 * ev.dec.res * ev.dec.res;
  const probes = o.probe ? probeFrames(indices) : [];
  const rounds = probes.length ? 2 : 1;
  const pack = (idx: readonly number[]) => stackFrames(idx.map((f) => crops.get(f)!));
  let idx = [...indices];
  let targets = pack(idx);
  let params = new Float32Array(idx.length * P);
  // The frames' numbers first, with the identity fixed; then both together. Their cost is the
  // refinement's, booked apart from its own runs (the bench's stage table), not the frames stage's.
  const bookAs = refineFitId(o.refine[0]!.id);
  // Each step runs once: with a progress store, a finished step gives back what it left
  // (the identity, the frames' numbers, its losses) and the step under way goes on from its state.
  const once = async <T>(name: string, run: (step?: StepProgress) => Promise<T>, save: (t: T) => Saved, load: (s: Saved) => T): Promise<T> => (o.progress ? o.progress.step(name, run, save, load) : run());
  const solvers = new Map<string, NewtonSolver>();
  const window = Math.max(1, o.window);
  await once(
    'refine:fit',
    async () => {
      for (let a = 0; a < idx.length; a += window) {
        const b = Math.min(idx.length, a + window);
        await runFrameStages(ev, o.frames, wid, params.subarray(a * P, b * P), targets.subarray(a * plane, b * plane), b - a, null, 0, solvers, bookAs);
      }
    },
    () => ({ meta: {}, arrays: { params: params.slice() } }),
    (s) => void params.set(f32Of(s, 'params', params.length))
  );
  // Only the first round's losses are used (the probes are compared with them): the second
  // round's last stage skips the run that would report them in the schedule's loss.
  const round = async (r: number) => {
    let losses: Float32Array = new Float32Array(idx.length);
    for (const [k, st] of o.refine.entries()) {
      losses = await once(
        `refine:${r}:${k}:${st.id}`,
        (step) => runRefineStage(ev, st, wid, params, targets, idx.length, (p) => o.onProgress?.(r, rounds, st, p, idx.length), r === 0 && k === o.refine.length - 1, step),
        (l) => ({ meta: {}, arrays: { wid: wid.slice(), params: params.slice(), losses: l } }),
        (s) => {
          const [w, p, l] = [f32Of(s, 'wid', wid.length), f32Of(s, 'params', params.length), f32Of(s, 'losses', idx.length)];
          wid.set(w);
          params.set(p);
          return l;
        }
      );
    }
    return losses;
  };
  const losses = await round(0);
  const refinedLoss = losses.reduce((a, b) => a + b, 0) / losses.length;
  const probed = await once(
    'refine:probes',
    async () => {
      const out: { frame: number; loss: number; params: Float32Array }[] = [];
      for (const f of probes) {
        // From the mean of the numbers of the refinement frames on either side, by a fresh solver;
        // where that fit would join the refinement, also from each side's numbers, and the lowest
        // loss counts. One start alone can stop on a wrong branch far above the identity's fit
        // (model 23 / clip 41, frame 8: 0.046 from the mean, 0.0024 from the next refinement
        // frame), and the rule would then refine again for nothing. A fit that stays out needs no
        // more starts: the lowest of three would stay out too (a diverged one, NaN, gets them).
        // Solving every probe from all three starts took about half of the refinement's frame
        // fits, where none joins (seeded-64: 288-302 evaluations, now 145-166).
        const j = idx.findIndex((x) => x > f);
        const left = params.subarray((j - 1) * P, j * P);
        const right = params.subarray(j * P, (j + 1) * P);
        const mid = left.map((v, i) => 0.5 * (v + right[i]!));
        const solve = (starts: Float32Array[]) => solveFromStarts(ev, o.frames, wid, starts, crops.get(f)!, null, 0, bookAs);
        let fit = await solve([mid]);
        if (o.probe && (Number.isNaN(fit.loss) || probesToAdd(refinedLoss, [{ frame: f, loss: fit.loss }], o.probe).length)) {
          const other = await solve([left, right]);
          if (lowerLoss(other.loss, fit.loss)) fit = other;
        }
        out.push({ frame: f, ...fit });
      }
      return out;
    },
    (out) => ({ meta: {}, arrays: { losses: Float64Array.from(out, (q) => q.loss), params: out.length ? stackFrames(out.map((q) => q.params)) : new Float32Array(0) } }),
    (s) => {
      const l = s.arrays.losses;
      if (!(l instanceof Float64Array) || l.length !== probes.length) throw new Error('a damaged identity progress file (the held-out frames)');
      const ps = f32Of(s, 'params', probes.length * P);
      return probes.map((frame, i) => ({ frame, loss: l[i]!, params: ps.slice(i * P, (i + 1) * P) }));
    }
  );
  const add = o.probe ? probesToAdd(refinedLoss, probed, o.probe) : [];
  let ran = 1;
  if (add.length) {
    const rows = [...idx.map((f, j) => ({ f, p: params.subarray(j * P, (j + 1) * P) })), ...probed.filter((q) => add.includes(q.frame)).map((q) => ({ f: q.frame, p: q.params }))].sort((a, b) => a.f - b.f);
    const next = new Float32Array(rows.length * P);
    rows.forEach((row, j) => next.set(row.p, j * P));
    idx = rows.map((row) => row.f);
    params = next;
    targets = pack(idx);
    await round(1);
    ran = 2;
  }
  const frames = new Map<number, Float32Array>();
  idx.forEach((f, j) => frames.set(f, params.slice(j * P, (j + 1) * P)));
  return { frames, probes: probed.map(({ frame, loss }) => ({ frame, loss })), refinedLoss, rounds: ran };
}
