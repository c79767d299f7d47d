// The identity search saves its steps and the state of the step under way (identity-progress.ts):
// an encode stopped in the middle of the identity's refinement resumes there and ends exactly
// where an encode that was never stopped ends, for L-BFGS (the default schedules) and Adam (the
// reference); its cost adds up over the two runs; a file made for another search is not used.
import { spawn, spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { benchEncode, changedSchedules } from '../../../src/core/encode/bench';
import { ParamDecoder } from '../../../src/core/encode/decoder';
import { IDENTITY_PROGRESS_FILE, IdentityProgress, decodeIdentityProgress, encodeIdentityProgress, lbfgsOf, savedLbfgs } from '../../../src/core/encode/identity-progress';
import { runEncodeJob, type EncodeJobOptions } from '../../../src/core/encode/job';
import { REFERENCE_SCHEDULE, type EncodeSchedule } from '../../../src/core/encode/schedule';
import { makeTruth, writeSynthClip } from '../../../src/core/encode/synth';
import { loadBasis } from '../../../src/core/model/basis';
import { Generator } from '../../../src/core/model/generator';
import { LOCK_FILE, openProject } from '../../../src/core/project';
import { Runtime } from '../../../src/core/runtime';
import { CancelledError } from '../../../src/core/util/cancel';
import { calibratedSeededModel, smallSchedule, tempDir } from '../../helpers';

const tmp = tempDir('identity-progress');

async function setup() {
  const rt = await Runtime.create({ device: 'cpu' });
  const bundle = await calibratedSeededModel(join(tmp, 'model'), rt);
  const basis = loadBasis(bundle);
  const gen = new Generator(bundle, rt);
  const truth = await makeTruth(gen, { seed: 9, frames: 10 });
  const video = join(tmp, 'clip.mp4');
  if (!existsSync(video)) await writeSynthClip(new ParamDecoder(gen.net, basis), rt, truth, video, 25);
  return { rt, bundle, basis, video };
}

/** An encode never stopped, and one stopped once `stopAt` says so then run again; both projects. */
async function stoppedAndStraight(name: string, schedule: EncodeSchedule, stopAt: (stage: string, message: string) => boolean) {
  const env = await setup();
  const { rt, bundle, basis, video } = env;
  const base: EncodeJobOptions = { video, bundle, basis, rt, projectDir: '', align: 'none', schedule, identitySaveEveryMs: 0 };
  const straight = await runEncodeJob({ ...base, projectDir: join(tmp, `${name}-straight.stylecast`) });
  const dir = join(tmp, `${name}-stopped.stylecast`);
  const ctl = new AbortController();
  const messages: string[] = [];
  let lockedWhileCreating = false;
  await expect(
    runEncodeJob({
      ...base,
      projectDir: dir,
      signal: ctl.signal,
      onProgress: (p) => {
        // A first encode holds the folder from before the project is written (lock.ts).
        if (p.stage === 'hash') lockedWhileCreating = existsSync(join(dir, LOCK_FILE));
        if (stopAt(p.stage, p.message)) ctl.abort();
      }
    })
  ).rejects.toBeInstanceOf(CancelledError);
  expect(lockedWhileCreating).toBe(true);
  expect(existsSync(join(dir, LOCK_FILE))).toBe(false); // released when it stopped
  const file = join(dir, IDENTITY_PROGRESS_FILE);
  expect(existsSync(file)).toBe(true);
  expect((await openProject(dir)).doc.encoding.identityFrame).toBeNull();
  const stoppedLedger = JSON.parse(readFileSync(file).subarray(4, 4 + readFileSync(file).readUInt32LE(0)).toString('utf8')).ledger as { cpuMs: number };
  // A save that a killed process left half-written is cleared away.
  const stray = `${file}.tmp-99999-0123456789ab`;
  writeFileSync(stray, 'partial');
  const resumed = await runEncodeJob({ ...base, projectDir: dir, onProgress: (p) => messages.push(p.message) });
  expect(existsSync(file)).toBe(false);
  expect(existsSync(stray)).toBe(false);
  return { base, straight, resumed, messages, stoppedLedger, a: await openProject(join(tmp, `${name}-straight.stylecast`)), b: await openProject(dir) };
}

/** The file's bytes with another header (padded so that the arrays still start on 8 bytes). */
function withHeader(bytes: Buffer, header: unknown): Buffer {
  const text = Buffer.from(JSON.stringify(header));
  const pad = (8 - ((4 + text.length) % 8)) % 8;
  const len = Buffer.alloc(4);
  len.writeUInt32LE(text.length + pad, 0);
  return Buffer.concat([len, text, Buffer.from(' '.repeat(pad)), bytes.subarray(4 + bytes.readUInt32LE(0))]);
}

describe('the identity search resumes where it was stopped', () => {
  it('L-BFGS (inversion, refinement, held-out frames and a second round): the same identity and frames as an encode never stopped', async () => {
    // Held-out frames that fit worse than the refined ones at all (gap 0, ratio 1) join a second round.
    const schedule = smallSchedule({ invert: 12, refine: 40, params: 6 }, { candidates: 2, refineFrames: 3, probe: { gap: 0, ratio: 1 } });
    const r = await stoppedAndStraight('lbfgs', schedule, (stage, message) => stage === 'refine' && / again with .*\((1[5-9]|[2-9]\d)\//.test(message));
    // The stopped run was in the second round; the first round, the held-out frames and the inversion were not run again.
    expect(r.straight.identity!.refineFrames.length).toBeGreaterThan(3);
    expect(r.messages.some((m) => /resuming the identity search after 4 finished steps and part of refine:1:0:refine/.test(m))).toBe(true);
    expect(r.messages.some((m) => /Invert candidate/.test(m))).toBe(false);
    expect(r.messages.filter((m) => /again with/.test(m)).length).toBeGreaterThan(0);
    expect(r.messages.some((m) => /Refine identity.*\((0|1|2|3|4|5|6|7|8|9)\/39\)/.test(m) && !/again/.test(m))).toBe(false);
    expect(r.b.wid).toEqual(r.a.wid);
    expect(r.b.params).toEqual(r.a.params);
    expect(r.b.doc.encoding.identityFrame).toBe(r.a.doc.encoding.identityFrame);
    expect(r.resumed.identity).toEqual(r.straight.identity);
    // A progress file left beside an identity already saved (a crash between the two) is removed by the next run.
    const left = join(r.a.dir, IDENTITY_PROGRESS_FILE);
    writeFileSync(left, readFileSync(join(r.b.dir, 'wid.f32')));
    await runEncodeJob({ ...r.base, projectDir: r.a.dir });
    expect(existsSync(left)).toBe(false);
    // Another live process writing the project (lock.ts): the encode is refused and touches nothing.
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      writeFileSync(join(r.a.dir, LOCK_FILE), JSON.stringify({ pid: child.pid, host: hostname(), purpose: 'fine-tune', since: 'now', token: 'other' }));
      const before = readFileSync(join(r.a.dir, 'project.json'));
      await expect(runEncodeJob({ ...r.base, projectDir: r.a.dir })).rejects.toThrow(new RegExp(`being written by another Stylecast \\(fine-tune in process ${child.pid}`));
      expect(readFileSync(join(r.a.dir, 'project.json')).equals(before)).toBe(true);
    } finally {
      child.kill();
    }
    // The cost is the two runs' together: the resumed run's identity time starts from what the stopped one saved.
    expect(r.resumed.time.identityCpuMs).toBeGreaterThan(r.stoppedLedger.cpuMs);
    expect(r.stoppedLedger.cpuMs).toBeGreaterThan(0);
    const evals = (x: typeof r.straight) => x.stageCosts.find((c) => c.id === 'refine')!.evaluations;
    expect(evals(r.resumed)).toBe(evals(r.straight));
  }, 600_000);

  it('Adam (the reference schedule): the same identity and frames as an encode never stopped', async () => {
    const schedule: EncodeSchedule = structuredClone(REFERENCE_SCHEDULE);
    const caps: Record<string, number> = { invert: 20, refine: 30, pose: 3, params: 5 };
    for (const st of schedule.stages) st.stop = { maxEvaluations: caps[st.id]! };
    schedule.identity = { candidates: 2, refineFrames: 4 };
    const r = await stoppedAndStraight('adam', schedule, (stage, message) => stage === 'refine' && /\(1[2-9]\/29\)/.test(message));
    expect(r.messages.some((m) => /resuming the identity search after 2 finished steps and part of refine:0:0:refine/.test(m))).toBe(true);
    expect(r.b.wid).toEqual(r.a.wid);
    expect(r.b.params).toEqual(r.a.params);
    expect(r.resumed.time.identityCpuMs).toBeGreaterThan(r.stoppedLedger.cpuMs);
  }, 600_000);

  it('bench encode --work: a bench stopped in its first encode goes on where it stopped, to the figures of a bench never stopped; a changed schedule starts only its own encode again', async () => {
    const { rt, bundle, basis } = await setup();
    const reference: EncodeSchedule = structuredClone(REFERENCE_SCHEDULE);
    const caps: Record<string, number> = { invert: 10, refine: 12, pose: 3, params: 4 };
    for (const st of reference.stages) st.stop = { maxEvaluations: caps[st.id]! };
    reference.identity = { candidates: 2, refineFrames: 3 };
    const o = { rt, bundle, basis, schedules: [{ ...smallSchedule({ invert: 10, refine: 30, params: 5 }, { candidates: 2, refineFrames: 3 }), name: 'default' }, reference], frames: 6, seed: 4, machine: 'test', identitySaveEveryMs: 0 };
    const straight = await benchEncode(o);
    expect(straight.work).toBeNull();
    const work = join(tmp, 'bench-work');
    let stop = true;
    await expect(
      benchEncode({
        ...o,
        work,
        log: (line) => {
          if (stop && /\[refine\] [4-9]\d%/.test(line)) throw new Error('stopped');
        }
      })
    ).rejects.toThrow('stopped');
    expect(existsSync(join(work, 'run0.stylecast', IDENTITY_PROGRESS_FILE))).toBe(true);
    stop = false;
    const lines: string[] = [];
    const resumed = await benchEncode({ ...o, work, log: (l) => lines.push(l) });
    expect(lines.some((l) => l.startsWith(`resuming the bench in ${work} (its run 2)`))).toBe(true);
    expect(lines.some((l) => /synthesising/.test(l))).toBe(false);
    expect(resumed.work!.forwardCpuMs).toHaveLength(2);
    expect(resumed.forwardCpuMsPerFrame).toBeCloseTo((resumed.work!.forwardCpuMs[0]! + resumed.work!.forwardCpuMs[1]!) / 2, 9);
    for (const [k, r] of resumed.results.entries()) {
      const s = straight.results[k]!;
      expect(r.psnr).toEqual(s.psnr);
      expect(r.meanLoss).toBe(s.meanLoss);
      expect(r.paramCorrelation).toEqual(s.paramCorrelation);
      expect(r.identityRefinement).toEqual(s.identityRefinement);
      expect(r.stages.map((st) => [st.id, st.evaluations])).toEqual(s.stages.map((st) => [st.id, st.evaluations]));
      expect(r.identityForwardEquivalents).toBeGreaterThan(0);
    }
    // A schedule changed since starts its own encode again; the others' go on: the reference's
    // finished project is kept, and its figures are those it saved.
    const mark = (k: number) => join(work, `run${k}.stylecast`, 'mark');
    for (const k of [0, 1]) writeFileSync(mark(k), '');
    const [def] = o.schedules;
    const changed = { ...def!, stages: def!.stages.map((st) => (st.id === 'params' ? { ...st, stop: { ...st.stop, maxEvaluations: 7 } } : st)) };
    const lines2: string[] = [];
    const again = await benchEncode({ ...o, schedules: [changed, reference], work, log: (l) => lines2.push(l) });
    expect(lines2.some((l) => l.startsWith("the default schedule is not the one this folder's run 0 used: its encode starts again"))).toBe(true);
    expect(lines2.some((l) => /schedule is not the one/.test(l) && !l.includes('default'))).toBe(false);
    expect(existsSync(mark(0))).toBe(false);
    expect(existsSync(mark(1))).toBe(true);
    const ref = straight.results[1]!;
    expect(again.results[1]!.meanLoss).toBe(ref.meanLoss);
    expect(again.results[1]!.stages.map((st) => [st.id, st.evaluations])).toEqual(ref.stages.map((st) => [st.id, st.evaluations]));
    expect(again.results[0]!.stages.find((st) => st.id === 'invert')!.evaluations).toBe(straight.results[0]!.stages.find((st) => st.id === 'invert')!.evaluations);
    expect(again.work!.forwardCpuMs).toHaveLength(3);
    // Another input in the same folder is refused, not mixed in.
    await expect(benchEncode({ ...o, seed: 5, work })).rejects.toThrow(/holds a bench of another model, input, option or set of schedules/);
    // So is another number of schedules.
    await expect(benchEncode({ ...o, schedules: [changed], work })).rejects.toThrow(/holds a bench of another model, input, option or set of schedules/);
    // The keys' comparison itself.
    const keyOf = (x: object) => JSON.stringify(x);
    const base = { model: 'm', input: { seed: 1 }, schedules: [{ name: 'default', a: 1 }, { name: 'reference', a: 2 }] };
    expect(changedSchedules(keyOf(base), keyOf(base))).toEqual([]);
    expect(changedSchedules(keyOf(base), keyOf({ ...base, schedules: [{ name: 'default', a: 3 }, base.schedules[1]] }))).toEqual([{ index: 0, name: 'default' }]);
    expect(changedSchedules(keyOf(base), keyOf({ ...base, input: { seed: 2 } }))).toBeNull();
    expect(changedSchedules('not json', keyOf(base))).toBeNull();
  }, 600_000);

  it('ignores a file made for another search, or damaged, and starts the search afresh', () => {
    const done = new Map([['invert:0:invert', { meta: { note: 'x' }, arrays: { wplus: Float32Array.of(1, 2, 3), losses: Float32Array.of(0.5) } }]]);
    const live = { name: 'refine:0:0:refine', state: { meta: { it: 3 }, arrays: { x: Float32Array.of(4, 5), g: Float64Array.of(6, 7, 8) } } };
    const ledger = { cpuMs: 12, wallMs: 7, costs: [{ id: 'invert', evaluations: 4, renders: 0, cpuMs: 10, wallMs: 6 }] };
    const bytes = encodeIdentityProgress('key-a', ledger, done, live);
    const back = decodeIdentityProgress(bytes, 'key-a')!;
    expect(back.ledger).toEqual(ledger);
    expect(back.done.get('invert:0:invert')!.arrays.wplus).toEqual(Float32Array.of(1, 2, 3));
    expect(back.done.get('invert:0:invert')!.meta).toEqual({ note: 'x' });
    expect(back.live!.name).toBe(live.name);
    expect(back.live!.state.arrays.g).toEqual(Float64Array.of(6, 7, 8));
    expect(back.live!.state.arrays.x).toEqual(Float32Array.of(4, 5));
    // Another key (another video, range, model, schedule or frames): nothing.
    expect(decodeIdentityProgress(bytes, 'key-b')).toBeNull();
    // Cut short, or an array said to lie past the end: nothing.
    expect(decodeIdentityProgress(bytes.subarray(0, bytes.length - 8), 'key-a')).toBeNull();
    const head = JSON.parse(bytes.subarray(4, 4 + bytes.readUInt32LE(0)).toString('utf8'));
    head.records['invert:0:invert'].arrays.wplus.length = 1e9;
    expect(decodeIdentityProgress(withHeader(bytes, head), 'key-a')).toBeNull();
    // Arrays that overlap (one region named many times would make the copies huge): nothing.
    const big = encodeIdentityProgress('key-a', ledger, new Map([['a', { meta: {}, arrays: { w: new Float32Array(100) } }]]), live);
    const bh = JSON.parse(big.subarray(4, 4 + big.readUInt32LE(0)).toString('utf8'));
    expect(decodeIdentityProgress(big, 'key-a')).not.toBeNull();
    bh.records['@live'].arrays.x = { type: 'f32', offset: 0, length: 100 };
    expect(decodeIdentityProgress(withHeader(big, bh), 'key-a')).toBeNull();
    // A negative or non-finite cost: nothing.
    expect(decodeIdentityProgress(encodeIdentityProgress('key-a', { ...ledger, cpuMs: -1 }, done, null), 'key-a')).toBeNull();
  });

  it('reads an L-BFGS state only when all of it fits; a save that fails leaves the search going; a live writer keeps its temporary file', async () => {
    const n = 4;
    const m = 3;
    const state = { f: 1.5, g: new Float64Array(n), first: false, evaluations: 7, trail: [{ evals: 5, f: 2 }], history: { h: new Float32Array(2 * m * n), sy: new Float64Array(m * m), yy: new Float64Array(m * m), order: [1, 2], added: 5, sg: new Float64Array(m), yg: new Float64Array(m), gamma: 0.5 } };
    const saved = savedLbfgs(state, { x: new Float32Array(n) });
    expect(lbfgsOf(saved, n, m)).toMatchObject({ f: 1.5, evaluations: 7, first: false, history: { order: [1, 2], added: 5, gamma: 0.5 } });
    expect(() => lbfgsOf(saved, n + 1, m)).toThrow(/another shape|damaged/);
    for (const meta of [{ order: [1, 1] }, { order: [0, 3] }, { added: 1 }, { evaluations: -5 }, { trail: [{ evals: 9, f: 1 }] }]) {
      expect(() => lbfgsOf({ ...saved, meta: { ...saved.meta, ...meta } }, n, m)).toThrow(/damaged/);
    }
    // A folder where nothing can be saved: the steps run and give their results; the problem is kept to be said.
    const ledger = () => ({ cpuMs: 0, wallMs: 0, costs: [] });
    const gone = await IdentityProgress.open(join(tmp, 'no-such-folder'), 'k', { everyMs: 0, maxBytes: 1 << 20, ledger });
    expect(await gone.step('a', async () => 42, () => ({ meta: {}, arrays: {} }), () => 0)).toBe(42);
    expect(gone.saveProblem).toMatch(/ENOENT|no such/i);
    // Temporary saves: a dead process's is removed, a live one's is left to it.
    const dir = join(tmp, 'temporaries');
    mkdirSync(dir, { recursive: true });
    const dead = join(dir, `${IDENTITY_PROGRESS_FILE}.tmp-${spawnSync('true').pid}-aaaaaaaaaaaa`);
    const live = join(dir, `${IDENTITY_PROGRESS_FILE}.tmp-${process.ppid}-bbbbbbbbbbbb`);
    writeFileSync(dead, 'x');
    writeFileSync(live, 'y');
    await IdentityProgress.open(dir, 'k', { everyMs: 0, maxBytes: 1 << 20, ledger });
    expect([existsSync(dead), existsSync(live)]).toEqual([false, true]);
  });
});
