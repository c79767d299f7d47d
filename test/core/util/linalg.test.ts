// L-BFGS of the identity stages: the unrolled dot product, the compact form against the
// two-loop recursion, and a long memory on an ill-conditioned quadratic whose minimum is known.
import { describe, expect, it } from 'vitest';
import { CompactLbfgs, dot, jsHistoryProducts, lbfgsMinimise, type LbfgsState } from '../../../src/core/util/linalg';
import { Rng } from '../../../src/core/util/random';

describe('lbfgsMinimise', () => {
  it('dot() equals the plain sum for every length, the four-way tail included', () => {
    const rng = new Rng(5);
    for (let n = 0; n <= 11; n++) {
      const a = Float64Array.from(rng.normals(n, 1));
      const b = Float64Array.from(rng.normals(n, 1));
      let s = 0;
      for (let i = 0; i < n; i++) s += a[i]! * b[i]!;
      expect(dot(a, b)).toBeCloseTo(s, 12);
    }
  });

  it('the compact form applies the same inverse Hessian as the two-loop recursion, over a wrapped ring and after a reset', async () => {
    const rng = new Rng(17);
    const n = 23;
    const m = 5;
    // Pairs from an SPD matrix A = B^T B + I (y = A s, so s . y > 0), more than the memory holds.
    const B = Array.from({ length: n }, () => Float64Array.from(rng.normals(n, 1 / Math.sqrt(n))));
    const A = (v: Float64Array) => {
      const bv = B.map((row) => dot(row, v));
      return Float64Array.from(v, (x, i) => x + B.reduce((t, row, r) => t + row[i]! * bv[r]!, 0));
    };
    const hist = new CompactLbfgs(n, m, jsHistoryProducts);
    const pairs: { s: Float64Array; y: Float64Array }[] = [];
    let g = Float64Array.from(rng.normals(n, 1));
    for (let t = 0; t < 8; t++) {
      const s = Float64Array.from(rng.normals(n, 0.3));
      const y = A(s);
      // Values float32 can hold, as the history stores them.
      const s32 = Float64Array.from(Float32Array.from(s));
      const y32 = Float64Array.from(Float32Array.from(y));
      pairs.push({ s: s32, y: y32 });
      g = Float64Array.from(Float32Array.from(rng.normals(n, 1)));
      await hist.update(g, s32, y32);
      const got = await hist.apply(g);
      const want = twoLoop(g, pairs.slice(-m));
      expect(hist.size).toBe(Math.min(t + 1, m));
      let err = 0;
      for (let i = 0; i < n; i++) err = Math.max(err, Math.abs(got[i]! - want[i]!));
      expect(err).toBeLessThan(1e-5 * Math.max(...want.map(Math.abs)));
    }
    // A step that fails the curvature condition adds nothing, but the products follow the new gradient.
    const g2 = Float64Array.from(Float32Array.from(rng.normals(n, 1)));
    await hist.update(g2, null, null);
    const want2 = twoLoop(g2, pairs.slice(-m));
    const got2 = await hist.apply(g2);
    expect(hist.size).toBe(m);
    for (let i = 0; i < n; i++) expect(got2[i]!).toBeCloseTo(want2[i]!, 4);
    // Its products belong to that gradient: asked about another one, it refuses rather than answer wrongly.
    await expect(hist.apply(Float64Array.from(g2))).rejects.toThrow(/last update/);
    // After a reset the ring refills from nothing: one pair, the one-pair recursion.
    hist.reset();
    expect(hist.size).toBe(0);
    const s = Float64Array.from(Float32Array.from(rng.normals(n, 0.3)));
    const y = Float64Array.from(Float32Array.from(A(s)));
    await hist.update(g2, s, y);
    const got3 = await hist.apply(g2);
    const want3 = twoLoop(g2, [{ s, y }]);
    for (let i = 0; i < n; i++) expect(got3[i]!).toBeCloseTo(want3[i]!, 4);
  });

  it('finds the minimum of an ill-conditioned quadratic, and a longer memory gets closer in the same runs', async () => {
    const { n, target, evaluate } = illConditioned();
    const run = async (memory: number) => {
      const x = new Float32Array(n);
      const f = await lbfgsMinimise(x, evaluate, { maxEvaluations: 120, memory, firstStep: 0.1 });
      let err = 0;
      for (let i = 0; i < n; i++) err = Math.max(err, Math.abs(x[i]! - target[i]!));
      return { f, err };
    };
    const long = await run(60);
    const short = await run(3);
    const start = (await evaluate(new Float32Array(n))).f;
    expect(start).toBeGreaterThan(10);
    expect(long.f).toBeLessThan(1e-6 * start);
    expect(long.err).toBeLessThan(1e-3);
    expect(short.f).toBeGreaterThan(10 * long.f);
  });

  it('goes on from a saved state exactly as it would have: after a stop, with the history wrapped and the plateau rule on', async () => {
    const { n, evaluate } = illConditioned();
    const o = { maxEvaluations: 600, memory: 7, firstStep: 0.1, plateau: { evaluations: 20, relTol: 0.01 } };
    const straight = new Float32Array(n);
    const fs: number[] = [];
    const f = await lbfgsMinimise(straight, evaluate, { ...o, onEvaluation: (_, v) => fs.push(v) });
    // A run stopped by an error in its 60th evaluation, with the state it offered before each step
    // (the last one kept, as a job writes it), then a new run from that state and the point then.
    const x = new Float32Array(n);
    let saved: { state: LbfgsState; x: Float32Array } | null = null;
    let evals = 0;
    const stopping = async (z: Float32Array) => {
      if (++evals === 60) throw new Error('stopped');
      return evaluate(z);
    };
    await expect(lbfgsMinimise(x, stopping, { ...o, onStep: (state) => void (saved = { state: state(), x: x.slice() }) })).rejects.toThrow('stopped');
    const at = saved as unknown as { state: LbfgsState; x: Float32Array };
    expect(at.state.evaluations).toBeGreaterThan(40);
    expect(at.state.evaluations).toBeLessThan(60);
    expect(at.state.history.added).toBeGreaterThan(o.memory); // the ring has wrapped
    const resumed = at.x.slice();
    const more: number[] = [];
    const f2 = await lbfgsMinimise(resumed, evaluate, { ...o, resume: at.state, onEvaluation: (i, v) => more.push(i === at.state.evaluations + more.length ? v : NaN) });
    expect(f2).toBe(f);
    expect(resumed).toEqual(straight);
    expect(more).toEqual(fs.slice(at.state.evaluations));
    expect(fs.length).toBeLessThan(o.maxEvaluations); // it stopped on the plateau, in both runs
    expect(fs.length).toBeGreaterThan(80);
    // A state of another shape is refused, not used.
    await expect(lbfgsMinimise(new Float32Array(n + 1), evaluate, { ...o, resume: at.state })).rejects.toThrow(/does not fit/);
  });

  it('stops on a plateau: once the loss fell by less than relTol over the window, not at the cap', async () => {
    const { n, evaluate } = illConditioned();
    const run = async (plateau?: { evaluations: number; relTol: number }) => {
      const fs: number[] = [];
      const f = await lbfgsMinimise(new Float32Array(n), evaluate, { maxEvaluations: 600, memory: 60, firstStep: 0.1, plateau, onEvaluation: (_, v) => fs.push(v) });
      return { f, fs };
    };
    const capped = await run();
    const stopped = await run({ evaluations: 20, relTol: 0.01 });
    // Without the rule the cap is spent (float32 unknowns: the loss stalls long before it).
    expect(capped.fs.length).toBe(600);
    expect(stopped.fs.length).toBeLessThan(300);
    expect(stopped.f).toBeLessThan(1e-6 * capped.fs[0]!);
    // The runs it saved would have bought less than the last window's 1%.
    expect(capped.f).toBeGreaterThan(0.5 * stopped.f);
    // And it stopped on the rule: the best loss fell by less than 1% over the last 20 runs.
    const best = (k: number) => Math.min(...stopped.fs.slice(0, k));
    const e = stopped.fs.length;
    expect(best(e)).toBeGreaterThan(0.99 * best(e - 20));
  });
});

/** The textbook two-loop recursion in float64 (Nocedal and Wright, Algorithm 7.4): H g. */
function twoLoop(g: Float64Array, pairs: { s: Float64Array; y: Float64Array }[]): Float64Array {
  const q = Float64Array.from(g);
  const alpha: number[] = [];
  for (let k = pairs.length - 1; k >= 0; k--) {
    const { s, y } = pairs[k]!;
    alpha[k] = dot(s, q) / dot(s, y);
    for (let i = 0; i < q.length; i++) q[i]! -= alpha[k]! * y[i]!;
  }
  const last = pairs[pairs.length - 1]!;
  const gamma = dot(last.s, last.y) / dot(last.y, last.y);
  for (let i = 0; i < q.length; i++) q[i]! *= gamma;
  for (let k = 0; k < pairs.length; k++) {
    const { s, y } = pairs[k]!;
    const b = dot(y, q) / dot(s, y);
    for (let i = 0; i < q.length; i++) q[i]! += (alpha[k]! - b) * s[i]!;
  }
  return q;
}

/** f(x) = 1/2 sum_i c_i (x_i - t_i)^2 in a rotated basis: curvatures from 1 to 1e3. */
function illConditioned() {
  const n = 40;
  const rng = new Rng(9);
  const curv = Array.from({ length: n }, (_, i) => 10 ** ((3 * i) / (n - 1)));
  // A random orthogonal basis (Gram-Schmidt).
  const q: Float64Array[] = [];
  for (let i = 0; i < n; i++) {
    const v = Float64Array.from(rng.normals(n, 1));
    for (const u of q) {
      const p = dot(u, v);
      for (let k = 0; k < n; k++) v[k]! -= p * u[k]!;
    }
    const norm = Math.sqrt(dot(v, v));
    q.push(v.map((x) => x / norm));
  }
  const target = Float64Array.from(rng.normals(n, 1));
  const evaluate = async (x: Float32Array) => {
    const d = Float64Array.from(x, (v, i) => v - target[i]!);
    let f = 0;
    const g = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const p = dot(q[i]!, d);
      f += 0.5 * curv[i]! * p * p;
      for (let k = 0; k < n; k++) g[k]! += curv[i]! * p * q[i]![k]!;
    }
    return { f, g };
  };
  return { n, target, evaluate };
}
