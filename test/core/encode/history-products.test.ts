// The L-BFGS history's products on onnxruntime (the encoder's) against the JavaScript fallback,
// and a whole L-BFGS minimisation with each.
import { describe, expect, it } from 'vitest';
import { ortHistoryProducts } from '../../../src/core/encode/history-products';
import { jsHistoryProducts, lbfgsMinimise } from '../../../src/core/util/linalg';
import { Rng } from '../../../src/core/util/random';

describe('OrtHistoryProducts', () => {
  it('computes h v^T and c^T h as the JavaScript loops do', async () => {
    const rng = new Rng(3);
    const rows = 14;
    const n = 301;
    const h = rng.normals(rows * n, 1);
    for (const k of [1, 3]) {
      const v = rng.normals(k * n, 1);
      const a = await ortHistoryProducts.project(h, rows, n, v, k);
      const b = await jsHistoryProducts.project(h, rows, n, v, k);
      expect(a.length).toBe(rows * k);
      for (let i = 0; i < rows * k; i++) expect(a[i]!).toBeCloseTo(b[i]!, 3);
      // Not all zero: the rows really were multiplied.
      expect(Math.max(...Array.from(a, Math.abs))).toBeGreaterThan(5);
    }
    const c = rng.normals(rows, 1);
    const a = await ortHistoryProducts.combine(h, rows, n, c);
    const b = await jsHistoryProducts.combine(h, rows, n, c);
    expect(a.length).toBe(n);
    for (let i = 0; i < n; i++) expect(a[i]!).toBeCloseTo(b[i]!, 4);
  });

  it('L-BFGS with its history on onnxruntime reaches the minimum the JavaScript products reach', async () => {
    // f(x) = 1/2 sum_i c_i (x_i - t_i)^2 with curvatures 1 to 100.
    const n = 60;
    const rng = new Rng(8);
    const t = rng.normals(n, 1);
    const c = Array.from({ length: n }, (_, i) => 10 ** ((2 * i) / (n - 1)));
    const evaluate = async (x: Float32Array) => {
      let f = 0;
      const g = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        f += 0.5 * c[i]! * (x[i]! - t[i]!) ** 2;
        g[i] = c[i]! * (x[i]! - t[i]!);
      }
      return { f, g };
    };
    const run = async (products: typeof jsHistoryProducts) => {
      const x = new Float32Array(n);
      const f = await lbfgsMinimise(x, evaluate, { maxEvaluations: 80, memory: 20, firstStep: 0.1, products });
      return { f, x };
    };
    const ort = await run(ortHistoryProducts);
    const js = await run(jsHistoryProducts);
    const start = (await evaluate(new Float32Array(n))).f;
    expect(ort.f).toBeLessThan(1e-6 * start);
    expect(js.f).toBeLessThan(1e-6 * start);
    for (let i = 0; i < n; i++) expect(ort.x[i]!).toBeCloseTo(t[i]!, 2);
  });
});
