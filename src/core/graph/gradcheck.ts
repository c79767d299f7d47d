// Finite-difference checks of the gradient graphs, run through onnxruntime-node.
// Each check builds f(inputs), takes loss = <f, r> for a fixed random r so every
// output element matters, and compares the analytic directional derivative
// <grad, d> along random unit directions d with a central difference of the
// loss (Richardson-extrapolated, loss summed in float64 from the graph output).
//
// Why the directions are tilted: ORT's conv kernels exist only in float32, and in
// a deep network with thousands of inputs a purely random direction has
// <grad, d> ~ |grad|/sqrt(N), which float32 rounding of the outputs swamps unless
// the step is so large that leaky-ReLU kinks are crossed. So each direction is
// d = normalise(u + g_hat) with u a random unit vector and g_hat the analytic
// gradient's direction. A wrong gradient g + e still shows: <e, d> carries the
// term |e|^2 / |g + e|, which no error can cancel.
import type { Runtime, TensorData } from '../runtime';
import { Rng } from '../util/random';
import { gradients } from './autodiff';
import { Graph, Value, numel } from './graph';
import { serialize } from './serialize';

export interface CheckInput {
  value: Value;
  data: Float32Array;
}

export interface CheckCase {
  name: string;
  build(g: Graph, rng: Rng): { wrt: CheckInput[]; out: Value };
  /** Finite-difference step relative to the inputs' norm. */
  step?: number;
}

export interface CheckResult {
  name: string;
  relError: number;
  analytic: number;
  numeric: number;
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

export async function runCheck(rt: Runtime, c: CheckCase, seed = 1, directions = 2): Promise<CheckResult> {
  const rng = new Rng(seed);
  const g = new Graph();
  const { wrt, out } = c.build(g, rng);
  const r = rng.normals(numel(out.shape));
  const loss = g.sumAll(g.mul(out, g.constant(r, out.shape)));
  const grads = gradients(g, loss, wrt.map((w) => w.value));
  const names = wrt.map((w) => g.nameOf(w.value));
  const asInputs = wrt.filter((w) => g.initializerOf(w.value)).map((w) => g.nameOf(w.value));
  const model = serialize(
    g,
    [{ name: 'out', value: out }, ...grads.map((v, i) => ({ name: `grad${i}`, value: v }))],
    { initializersAsInputs: asInputs, graphName: `gradcheck-${c.name}` }
  );
  const feedsAt = (shift: Float32Array[] | null, h: number): Record<string, TensorData> => {
    const f: Record<string, TensorData> = {};
    wrt.forEach((w, i) => {
      const d = new Float32Array(w.data);
      if (shift) for (let k = 0; k < d.length; k++) d[k]! += h * shift[i]![k]!;
      f[names[i]!] = { data: d, dims: w.value.shape };
    });
    return f;
  };
  const lossAt = async (shift: Float32Array[], h: number): Promise<number> => {
    const o = await rt.run(model, feedsAt(shift, h));
    let s = 0;
    const od = o.out!.data;
    for (let i = 0; i < od.length; i++) s += od[i]! * r[i]!;
    return s;
  };
  const base = await rt.run(model, feedsAt(null, 0));
  let norm = 0;
  for (const w of wrt) norm += dot(w.data, w.data);
  norm = Math.sqrt(norm) || 1;
  const h = (c.step ?? 1e-3) * norm;
  let worst: CheckResult = { name: c.name, relError: 0, analytic: 0, numeric: 0 };
  for (let k = 0; k < directions; k++) {
    const total = wrt.reduce((n, w) => n + w.data.length, 0);
    const dir = rng.direction(total);
    let gNorm = 0;
    wrt.forEach((_w, i) => (gNorm += dot(base[`grad${i}`]!.data, base[`grad${i}`]!.data)));
    gNorm = Math.sqrt(gNorm);
    if (gNorm > 0) {
      let off0 = 0;
      wrt.forEach((w, i) => {
        const gi = base[`grad${i}`]!.data;
        for (let k = 0; k < w.data.length; k++) dir[off0 + k]! += gi[k]! / gNorm;
        off0 += w.data.length;
      });
      let n2 = 0;
      for (const v of dir) n2 += v * v;
      const inv = 1 / Math.sqrt(n2);
      for (let k = 0; k < dir.length; k++) dir[k]! *= inv;
    }
    const parts: Float32Array[] = [];
    let off = 0;
    for (const w of wrt) {
      parts.push(dir.subarray(off, off + w.data.length));
      off += w.data.length;
    }
    const analytic = wrt.reduce((s, _w, i) => s + dot(base[`grad${i}`]!.data, parts[i]!), 0);
    const diff = async (step: number) => ((await lossAt(parts, step)) - (await lossAt(parts, -step))) / (2 * step);
    const numeric = (4 * (await diff(h / 2)) - (await diff(h))) / 3;
    const relError = Math.abs(analytic - numeric) / Math.max(Math.abs(analytic), Math.abs(numeric), 1e-12);
    if (relError >= worst.relError) worst = { name: c.name, relError, analytic, numeric };
  }
  return worst;
}
