// The identity refinement's held-out check (refine.ts): which frames it probes, when they join,
// and, on the seeded model with real computation, that a second round fits the joined frames
// better than the first round's identity did while a rule that admits none leaves the first
// round's identity exactly as it was.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ParamDecoder } from '../../../src/core/encode/decoder';
import { Evaluator, runRefineStage, solveFromStarts } from '../../../src/core/encode/optimize';
import { probeFrames, probesToAdd, refineFitId, refineIdentity } from '../../../src/core/encode/refine';
import { DEFAULT_LOSS, REFINE_LOSS, qualitySchedule, scheduleProblem } from '../../../src/core/encode/schedule';
import { makeTruth } from '../../../src/core/encode/synth';
import { PARAM_COUNT, loadBasis } from '../../../src/core/model/basis';
import { Generator } from '../../../src/core/model/generator';
import { Runtime } from '../../../src/core/runtime';
import { Rng } from '../../../src/core/util/random';
import { calibratedSeededModel, tempDir } from '../../helpers';

const tmp = tempDir('refine');

describe('the held-out check of the identity refinement', () => {
  it('probes the frames midway between the refinement frames, and admits those that fit worse by both the gap and the ratio', () => {
    expect(probeFrames([0, 8, 15, 23])).toEqual([4, 12, 19]);
    expect(probeFrames([0, 16, 31, 47])).toEqual([8, 24, 39]);
    // Neighbours leave no frame between them.
    expect(probeFrames([0, 1, 2])).toEqual([]);
    const rule = { gap: 0.02, ratio: 1.5 };
    // Mean of the refinement frames 0.1: 0.2 is out by both, 0.14 is under 1.5 times, 0.115 within the gap.
    expect(probesToAdd(0.1, [{ frame: 4, loss: 0.2 }, { frame: 12, loss: 0.14 }, { frame: 19, loss: 0.115 }], rule)).toEqual([4]);
    // A near-exact fit (a synthetic clip): 5 times worse, but far inside the gap.
    expect(probesToAdd(1e-4, [{ frame: 4, loss: 5e-4 }], rule)).toEqual([]);
    expect(qualitySchedule('normal').identity.probe).toEqual(rule);
    expect(qualitySchedule('draft').identity.probe).toBeUndefined();
    const bad = qualitySchedule('normal');
    bad.identity.probe = { gap: 0.02, ratio: 0.5 };
    expect(scheduleProblem(bad)).toMatch(/probe/);
  });

  it('refines again with the held-out frames that fit worse, and fits them better; a rule that admits none keeps the first round; the losses are those where L-BFGS ended', async () => {
    const rt = await Runtime.create({ device: 'cpu' });
    const bundle = await calibratedSeededModel(join(tmp, 'model'), rt);
    const gen = new Generator(bundle, rt);
    const dec = new ParamDecoder(gen.net, loadBasis(bundle));
    const truth = await makeTruth(gen, { seed: 31, frames: 9 });
    const targets = (await rt.run(dec.renderGraph(9), { wid: { data: truth.wid, dims: [1, dec.numWs, dec.wDim] }, params: { data: truth.params, dims: [9, PARAM_COUNT] } })).image!.data;
    const plane = 3 * dec.res * dec.res;
    const crops = new Map(Array.from({ length: 9 }, (_, f) => [f, targets.slice(f * plane, (f + 1) * plane)] as const));
    // A wrong identity to start from: the truth moved by 0.3 per number.
    const rng = new Rng(5);
    const start = truth.wid.map((v) => v + 0.3 * rng.normal());
    const s = qualitySchedule('normal');
    const refine = s.stages.filter((st) => st.phase === 'refine').map((st) => ({ ...st, stop: { maxEvaluations: 25 } }));
    const frames = s.stages.filter((st) => st.phase === 'frames').map((st) => ({ ...st, stop: { ...st.stop, maxEvaluations: 8 } }));
    const run = async (probe?: { gap: number; ratio: number }) => {
      const ev = new Evaluator(dec, rt, DEFAULT_LOSS);
      const wid = start.slice();
      const rounds: number[] = [];
      const out = await refineIdentity(ev, { refine, frames, window: 1, probe, onProgress: (r) => rounds.push(r) }, wid, [0, 4, 8], crops);
      return { out, wid, ev, rounds };
    };
    const lossOf = async (ev: Evaluator, wid: Float32Array, f: number, p: Float32Array) => (await ev.params(wid, p, crops.get(f)!, 1, dec.res, false)).loss[0]!;

    const plain = await run();
    expect(plain.out.rounds).toBe(1);
    expect(plain.out.probes).toEqual([]);
    expect([...plain.out.frames.keys()]).toEqual([0, 4, 8]);
    // Its frame fits are the refinement's cost, booked apart from its own runs, never to the frames stage.
    expect([...plain.ev.costs.keys()].sort()).toEqual([refine[0]!.id, refineFitId(refine[0]!.id)].sort());
    expect(plain.ev.costs.get(refineFitId(refine[0]!.id))!.evaluations).toBeGreaterThan(0);

    // Admits none: the probes are solved and reported, and the identity is the first round's, bit for bit.
    const none = await run({ gap: 1e9, ratio: 1 });
    const fits = (x: typeof plain) => x.ev.costs.get(refineFitId(refine[0]!.id))!.evaluations;
    const noneFits = fits(none); // (before the loss runs below, booked to the same stage)
    expect(none.out.rounds).toBe(1);
    expect(none.out.probes.map((p) => p.frame)).toEqual([2, 6]);
    expect(none.out.probes.every((p) => p.loss > 0 && Number.isFinite(p.loss))).toBe(true);
    // The probes are compared with the refinement frames' mean loss, the identity's loss on them.
    let refined = 0;
    for (const f of [0, 4, 8]) refined += (await lossOf(none.ev, none.wid, f, none.out.frames.get(f)!)) / 3;
    expect(none.out.refinedLoss).toBeCloseTo(refined, 6);
    expect(Array.from(none.wid)).toEqual(Array.from(plain.wid));
    expect(new Set(none.rounds)).toEqual(new Set([0]));
    // A probe that stays out is solved from one start, the mean of its neighbours' numbers: the
    // same fit, bit for bit, as a fresh solve from there with the identity it was checked with.
    const oneStart = new Evaluator(dec, rt, DEFAULT_LOSS);
    for (const [k, [a, b]] of [[0, 4], [4, 8]].entries()) {
      const [l, r] = [none.out.frames.get(a)!, none.out.frames.get(b)!];
      const once = await solveFromStarts(oneStart, frames, none.wid, [l.map((v, i) => 0.5 * (v + r[i]!))], crops.get(none.out.probes[k]!.frame)!, null, 0, 'probe');
      expect(none.out.probes[k]!.loss).toBe(once.loss);
    }
    // And that is all the probes cost: the frame fits beyond the plain refinement's are those solves.
    expect(noneFits - fits(plain)).toBe(oneStart.costs.get('probe')!.evaluations);

    // Admits exactly the probes that fit worse than the refinement frames' mean: on this wrong
    // start frame 2 does, by more than twice (about 0.19 against 0.075).
    const all = await run({ gap: 0, ratio: 1 });
    const allFits = fits(all);
    expect(all.out.probes.map((p) => p.frame)).toEqual([2, 6]);
    const admitted = all.out.probes.filter((p) => p.loss > all.out.refinedLoss).map((p) => p.frame);
    expect(admitted).toContain(2);
    expect(all.out.probes.find((p) => p.frame === 2)!.loss).toBeGreaterThan(2 * all.out.refinedLoss);
    // A probe that would join is also solved from each neighbour's numbers (the same first round
    // as above), and the lowest of the three starts counts.
    expect(allFits).toBeGreaterThan(noneFits);
    expect(all.out.refinedLoss).toBe(none.out.refinedLoss);
    expect(all.out.probes.find((p) => p.frame === 2)!.loss).toBeLessThanOrEqual(none.out.probes.find((p) => p.frame === 2)!.loss);
    expect(all.out.rounds).toBe(2);
    expect([...all.out.frames.keys()]).toEqual([0, 4, 8, ...admitted].sort((a, b) => a - b));
    expect(all.rounds).toContain(1);
    // The second round fits the joined frames better than the first round's identity did.
    const before = all.out.probes.filter((p) => admitted.includes(p.frame)).reduce((a, p) => a + p.loss, 0);
    let after = 0;
    for (const f of admitted) after += await lossOf(all.ev, all.wid, f, all.out.frames.get(f)!);
    expect(after).toBeLessThan(0.8 * before);
    // Each frame keeps its own numbers through the merge: a joined frame's fit better than its neighbour's numbers on it.
    for (const [f, other] of [[2, 4], [4, 2]] as const) expect(await lossOf(all.ev, all.wid, f, all.out.frames.get(f)!)).toBeLessThan(await lossOf(all.ev, all.wid, f, all.out.frames.get(other)!));
    // And the identity moved.
    expect(Array.from(all.wid)).not.toEqual(Array.from(plain.wid));

    // The refine stage returns the per-frame losses where L-BFGS ended, not at its last trial.
    const ev = new Evaluator(dec, rt, DEFAULT_LOSS);
    const t = new Float32Array(3 * plane);
    [0, 4, 8].forEach((f, j) => t.set(crops.get(f)!, j * plane));
    let endedOnTrial = 0;
    for (let cap = 2; cap <= 9; cap++) {
      const wid = start.slice();
      const params = new Float32Array(3 * PARAM_COUNT);
      let lastLoss = NaN;
      const got = await runRefineStage(ev, { ...refine[0]!, loss: undefined, stop: { maxEvaluations: cap } }, wid, params, t, 3, (p) => (lastLoss = p.loss));
      const there = (await ev.params(wid, params, t, 3, dec.res, false)).loss;
      for (let j = 0; j < 3; j++) expect(got[j]).toBeCloseTo(there[j]!, 7);
      if (Math.abs(lastLoss - (there[0]! + there[1]! + there[2]!) / 3) > 1e-6) endedOnTrial++;
    }
    // Some of these caps stop L-BFGS on a line-search trial it rejected: the case this checks.
    expect(endedOnTrial).toBeGreaterThan(0);

    // The normal schedule's refinement minimises the pixel term alone (REFINE_LOSS) and reports the
    // schedule's loss where it ends: its first evaluation is the pixel loss at the start, not the
    // schedule's, and what it returns is the schedule's loss at the end point.
    expect(refine[0]!.loss).toEqual(REFINE_LOSS);
    const wid = start.slice();
    const params = new Float32Array(3 * PARAM_COUNT);
    const mean = (xs: Float32Array) => (xs[0]! + xs[1]! + xs[2]!) / 3;
    const pixelAtStart = mean((await ev.params(wid, params, t, 3, dec.res, false, REFINE_LOSS)).loss);
    const fullAtStart = mean((await ev.params(wid, params, t, 3, dec.res, false)).loss);
    expect(fullAtStart - pixelAtStart).toBeGreaterThan(0.01 * fullAtStart); // the SSIM term is a visible part
    const seen: number[] = [];
    const got = await runRefineStage(ev, { ...refine[0]!, stop: { maxEvaluations: 12 } }, wid, params, t, 3, (p) => seen.push(p.loss));
    expect(seen[0]).toBeCloseTo(pixelAtStart, 6);
    const there = (await ev.params(wid, params, t, 3, dec.res, false)).loss;
    for (let j = 0; j < 3; j++) expect(got[j]).toBeCloseTo(there[j]!, 6);
    expect(mean((await ev.params(wid, params, t, 3, dec.res, false, REFINE_LOSS)).loss)).toBeLessThan(0.5 * pixelAtStart);
    // Asked not to (a second round, whose losses nobody reads), it returns its own loss where it ended, without the extra run.
    const wid2 = start.slice();
    const params2 = new Float32Array(3 * PARAM_COUNT);
    const runsBefore = ev.costs.get(refine[0]!.id)?.evaluations ?? 0;
    const own = await runRefineStage(ev, { ...refine[0]!, stop: { maxEvaluations: 12 } }, wid2, params2, t, 3, undefined, false);
    expect((ev.costs.get(refine[0]!.id)?.evaluations ?? 0) - runsBefore).toBe(3 * 12); // 12 runs of 3 frames, none more
    const ownThere = (await ev.params(wid2, params2, t, 3, dec.res, false, REFINE_LOSS)).loss;
    for (let j = 0; j < 3; j++) expect(own[j]).toBeCloseTo(ownThere[j]!, 6);
    expect(Array.from(wid2)).toEqual(Array.from(wid)); // the same path as the run above
  }, 600_000);
});
