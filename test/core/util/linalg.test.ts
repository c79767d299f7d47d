// L-BFGS of the identity stages: the unrolled dot product, and a long memory on an
// ill-conditioned quadratic whose minimum is known.
import { describe, expect, it } from 'vitest';
import { dot, lbfgsMinimise } from '../../../src/core/util/linalg';
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
