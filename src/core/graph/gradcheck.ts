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
// gradient's direction. With the returned gradient g' = g + e (g the true one), the
// check sees <e, d>, whose tilt term is <e, g'> / |g'|. That term is not always there:
// an error orthogonal to the returned gradient, such as a rule that drops the whole
// contribution of one input (its block of g' is zero, so <e, g'> = 0), leaves only the
// random part <e, u>, which is as small as the untilted case. So checks can ask for
// untilted directions as well (`untilted`, used by the whole-network checks), and any
// NaN or infinity in the loss, the gradient or the difference fails the check.
import type { Runtime, TensorData } from '../runtime';
import { Rng } from '../util/random';
import { gradients } from './autodiff';
import { Graph, Value, numel } from './graph';
import { serialize } from './serialize';
import { dot } from '../util/linalg';

export interface CheckInput {
  value: Value;
  data: Float32Array;
}

export interface CheckCase {
  name: string;
  build(g: Graph, rng: Rng): { wrt: CheckInput[]; out: Value };
  /** Finite-difference step relative to the inputs' norm. */
  step?: number;
  /** Purely random directions checked besides the tilted ones (see above). */
  untilted?: number;
}

export interface CheckResult {
  name: string;
  /** The worst direction's relative error; Infinity when anything was not finite. */
  relError: number;
  analytic: number;
  numeric: number;
  /** What was NaN or infinite, when something was. */
  nonFinite?: string;
  /** The worst untilted direction, when the case asked for some (judged by UNTILTED_TOLERANCE). */
  untilted?: { relError: number; analytic: number; numeric: number };
}

/** Untilted directions the whole-network checks take besides the tilted ones. */
export const UNTILTED_DIRECTIONS = 2;

/** A tilted direction's relative error must stay under this. */
export const TOLERANCE = 1e-2;
/**
 * An untilted direction sees the gradient projected on a random direction, about
 * |g|/sqrt(N), so float32 rounding and kinks weigh more there (a few percent on the
 * seeded generator). The errors it exists to catch, a missing contribution orthogonal to
 * the returned gradient, show as errors of order one.
 */
export const UNTILTED_TOLERANCE = 0.1;

/** Whether a check passed: everything finite and both kinds of direction within tolerance. */
export function checkPassed(r: CheckResult): boolean {
  return r.relError <= TOLERANCE && (r.untilted === undefined || r.untilted.relError <= UNTILTED_TOLERANCE);
}

/** The first non-finite value's index, or -1. */
function firstNonFinite(a: Float32Array): number {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return i;
  return -1;
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
  const failed = (nonFinite: string, analytic = NaN, numeric = NaN): CheckResult => ({ name: c.name, relError: Infinity, analytic, numeric, nonFinite });
  const outBad = firstNonFinite(base.out!.data);
  if (outBad >= 0) return failed(`output element ${outBad} (so the loss) is ${base.out!.data[outBad]}`);
  for (let i = 0; i < wrt.length; i++) {
    const bad = firstNonFinite(base[`grad${i}`]!.data);
    if (bad >= 0) return failed(`gradient of ${names[i]} element ${bad} is ${base[`grad${i}`]!.data[bad]}`);
  }
  let norm = 0;
  for (const w of wrt) norm += dot(w.data, w.data);
  norm = Math.sqrt(norm) || 1;
  const h = (c.step ?? 1e-3) * norm;
  let gNorm = 0;
  wrt.forEach((_w, i) => (gNorm += dot(base[`grad${i}`]!.data, base[`grad${i}`]!.data)));
  gNorm = Math.sqrt(gNorm);
  const total = wrt.reduce((n, w) => n + w.data.length, 0);
  let worst: CheckResult | null = null;
  let worstUntilted: CheckResult['untilted'] | undefined;
  const untilted = c.untilted ?? 0;
  for (let k = 0; k < directions + untilted; k++) {
    const tilted = k < directions;
    const dir = rng.direction(total);
    if (tilted && gNorm > 0) {
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
    if (!Number.isFinite(numeric)) return failed(`the finite difference along a${tilted ? ' tilted' : 'n untilted'} direction is ${numeric}`, analytic, numeric);
    const relError = Math.abs(analytic - numeric) / Math.max(Math.abs(analytic), Math.abs(numeric), 1e-12);
    const rel = Number.isNaN(relError) ? Infinity : relError;
    // NaN compares false both ways: `!(x <= worst)` keeps it rather than passing it as 0.
    if (tilted && (!worst || !(rel <= worst.relError))) worst = { name: c.name, relError: rel, analytic, numeric };
    if (!tilted && (!worstUntilted || !(rel <= worstUntilted.relError))) worstUntilted = { relError: rel, analytic, numeric };
  }
  if (!worst) return failed('no tilted direction was checked');
  return worstUntilted ? { ...worst, untilted: worstUntilted } : worst;
}
