// Small dense linear algebra: Cholesky solves, Gauss-Newton matrices, BFGS and L-BFGS for the
// encoder (35 unknowns per frame, thousands in the identity) and calibration's regressions.

/** Solves A x = b for a symmetric positive definite n x n A (row-major) by Cholesky; null if A is not positive definite. */
export function choleskySolve(a: Float64Array, b: Float64Array, n: number): Float64Array | null {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j]!;
      for (let k = 0; k < j; k++) s -= l[i * n + k]! * l[j * n + k]!;
      if (i === j) {
        if (!(s > 0)) return null;
        l[i * n + i] = Math.sqrt(s);
      } else l[i * n + j] = s / l[j * n + j]!;
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= l[i * n + k]! * y[k]!;
    y[i] = s / l[i * n + i]!;
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let k = i + 1; k < n; k++) s -= l[k * n + i]! * x[k]!;
    x[i] = s / l[i * n + i]!;
  }
  return x;
}

/**
 * Gauss-Newton curvature of a weighted mean of squared residuals: scale * J^T diag(w) J,
 * with J given as n columns of m values each (cols[k*m + i] = d r_i / d x_k) and w per
 * residual (length m, or a per-pixel map repeated over channels when m is a multiple of it).
 */
export function gaussNewtonMatrix(cols: Float32Array, n: number, m: number, weight: Float32Array, scale: number): Float64Array {
  const h = new Float64Array(n * n);
  const wl = weight.length;
  const wc = new Float64Array(m);
  for (let i = 0; i < m; i++) wc[i] = weight[i % wl]!;
  for (let a = 0; a < n; a++) {
    const ca = a * m;
    for (let b = a; b < n; b++) {
      const cb = b * m;
      let s = 0;
      for (let i = 0; i < m; i++) s += cols[ca + i]! * wc[i]! * cols[cb + i]!;
      h[a * n + b] = h[b * n + a] = s * scale;
    }
  }
  return h;
}

/** y = A x for a row-major n x n A. */
export function matVec(a: ArrayLike<number>, x: ArrayLike<number>, n: number): Float64Array<ArrayBuffer> {
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let v = 0;
    for (let j = 0; j < n; j++) v += a[i * n + j]! * x[j]!;
    y[i] = v;
  }
  return y;
}

/**
 * Damped BFGS update of a curvature estimate H (in place) from a step s and the change of
 * gradient y along it (Powell's damping keeps H positive definite when s.y is small or negative).
 */
export function bfgsUpdate(h: Float64Array, s: Float64Array, y: Float64Array, n: number): void {
  const hs = matVec(h, s, n);
  let shs = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    shs += s[i]! * hs[i]!;
    sy += s[i]! * y[i]!;
  }
  if (!(shs > 0) || !y.every(Number.isFinite) || !s.every(Number.isFinite)) return;
  let r = y;
  if (sy < 0.2 * shs) {
    const theta = (0.8 * shs) / (shs - sy);
    r = new Float64Array(n);
    for (let i = 0; i < n; i++) r[i] = theta * y[i]! + (1 - theta) * hs[i]!;
    sy = 0.2 * shs;
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) h[i * n + j]! += -(hs[i]! * hs[j]!) / shs + (r[i]! * r[j]!) / sy;
  }
}

/** x^T H x for a symmetric n x n H. */
export function quadForm(h: Float64Array, x: Float64Array, n: number): number {
  const hx = matVec(h, x, n);
  let s = 0;
  for (let i = 0; i < n; i++) s += x[i]! * hx[i]!;
  return s;
}

/** a . b, with four partial sums (the loop is latency-bound with one). */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    s0 += a[i]! * b[i]!;
    s1 += a[i + 1]! * b[i + 1]!;
    s2 += a[i + 2]! * b[i + 2]!;
    s3 += a[i + 3]! * b[i + 3]!;
  }
  for (; i < n; i++) s0 += a[i]! * b[i]!;
  return s0 + s1 + s2 + s3;
}

/**
 * Products with an L-BFGS history kept as one float32 matrix h [rows, n] (steps, then gradient
 * changes): the only work of L-BFGS that grows with its memory. A long memory over thousands of
 * unknowns makes these two products cost as much as a small render in plain JavaScript, so the
 * encoder hands them to onnxruntime (`OrtHistoryProducts`); `jsHistoryProducts` is the fallback.
 */
export interface HistoryProducts {
  /** h v^T for k vectors v [k, n]: out[r * k + j] = sum_i h[r, i] v[j, i]. */
  project(h: Float32Array, rows: number, n: number, v: Float32Array, k: number): Promise<ArrayLike<number>>;
  /** c^T h: out[i] = sum_r c[r] h[r, i]. */
  combine(h: Float32Array, rows: number, n: number, c: Float32Array): Promise<ArrayLike<number>>;
}

export const jsHistoryProducts: HistoryProducts = {
  async project(h, rows, n, v, k) {
    const out = new Float64Array(rows * k);
    for (let r = 0; r < rows; r++) {
      const row = h.subarray(r * n, (r + 1) * n);
      for (let j = 0; j < k; j++) out[r * k + j] = dot(row, v.subarray(j * n, (j + 1) * n));
    }
    return out;
  },
  async combine(h, rows, n, c) {
    const out = new Float64Array(n);
    for (let r = 0; r < rows; r++) {
      const a = c[r]!;
      if (a === 0) continue;
      const o = r * n;
      for (let i = 0; i < n; i++) out[i]! += a * h[o + i]!;
    }
    return out;
  }
};

/** A CompactLbfgs's history, as a job saves it to resume later. */
export interface CompactLbfgsState {
  h: Float32Array;
  sy: Float64Array;
  yy: Float64Array;
  order: number[];
  added: number;
  sg: Float64Array;
  yg: Float64Array;
  gamma: number;
}

/**
 * Where lbfgsMinimise stands between two steps: enough to go on exactly as it would have (the
 * point x itself is the caller's array, saved with this).
 */
export interface LbfgsState {
  f: number;
  /** The gradient at x, in the scaled variables. */
  g: Float64Array;
  first: boolean;
  evaluations: number;
  trail: { evals: number; f: number }[];
  history: CompactLbfgsState;
}

/**
 * The L-BFGS inverse-Hessian approximation in its compact form (Byrd, Nocedal and Schnabel,
 * 1994): H = gamma I + [S, gamma Y] M [S, gamma Y]^T, with the small matrices S^T Y and Y^T Y
 * kept up to date pair by pair. The same H as the two-loop recursion, but with the history
 * touched by two matrix products per step instead of 4 m vector operations.
 */
export class CompactLbfgs {
  /** Rows 0..m-1: steps s; rows m..2m-1: gradient changes y; slot t % m holds pair t. */
  readonly h: Float32Array;
  /** s_a . y_b and y_a . y_b by slot [m, m]. */
  private readonly sy: Float64Array;
  private readonly yy: Float64Array;
  /** Slots in the order their pairs were added, oldest first. */
  private order: number[] = [];
  private added = 0;
  /** s . g and y . g of the gradient of the last update (`measured`), by slot. */
  private sg: Float64Array;
  private yg: Float64Array;
  private measured: Float64Array | null = null;
  /** apply()'s R and Y^T Y in the pairs' order, reused from step to step. */
  private readonly R: Float64Array;
  private readonly YY: Float64Array;
  gamma = 1;

  constructor(
    readonly n: number,
    readonly m: number,
    private readonly products: HistoryProducts
  ) {
    this.h = new Float32Array(2 * m * n);
    this.sy = new Float64Array(m * m);
    this.yy = new Float64Array(m * m);
    this.sg = new Float64Array(m);
    this.yg = new Float64Array(m);
    this.R = new Float64Array(m * m);
    this.YY = new Float64Array(m * m);
  }

  get size(): number {
    return this.order.length;
  }

  /** Everything update() and apply() read, copied (the scratch matrices are rebuilt on use). */
  snapshot(): CompactLbfgsState {
    return { h: this.h.slice(), sy: this.sy.slice(), yy: this.yy.slice(), order: [...this.order], added: this.added, sg: this.sg.slice(), yg: this.yg.slice(), gamma: this.gamma };
  }

  /** Back to a snapshot of a history of the same shape; `measured` is the gradient its last update measured. */
  restore(s: CompactLbfgsState, measured: Float64Array): void {
    const { n, m } = this;
    if (s.h.length !== 2 * m * n || s.sy.length !== m * m || s.yy.length !== m * m || s.sg.length !== m || s.yg.length !== m || measured.length !== n) {
      throw new Error(`an L-BFGS history of ${s.sg.length} pairs over ${s.h.length / Math.max(1, 2 * s.sg.length)} unknowns does not fit ${m} over ${n}`);
    }
    if (s.order.length > m || s.order.some((a) => !Number.isInteger(a) || a < 0 || a >= m)) throw new Error('a damaged L-BFGS history (its pair order)');
    this.h.set(s.h);
    this.sy.set(s.sy);
    this.yy.set(s.yy);
    this.sg.set(s.sg);
    this.yg.set(s.yg);
    this.order = [...s.order];
    this.added = s.added;
    this.gamma = s.gamma;
    this.measured = measured;
  }

  /** Forgets every pair. Their rows stay in h, but no product reads them again (their coefficients are 0). */
  reset(): void {
    this.order = [];
  }

  /**
   * Adds the pair (s, y), unless null (a step that failed the curvature condition), then
   * measures the history against the new gradient g: one product of the history with [g, s, y].
   */
  async update(g: Float64Array, s: Float64Array | null, y: Float64Array | null): Promise<void> {
    const { n, m } = this;
    let slot = -1;
    if (s && y) {
      slot = this.added++ % m;
      if (this.order.length === m) this.order.shift();
      this.order.push(slot);
      this.h.set(s, slot * n);
      this.h.set(y, (m + slot) * n);
    }
    this.measured = g;
    if (!this.order.length) return;
    // All 2m rows every time (rows not yet filled are zero): one shape, one onnxruntime session.
    const k = slot >= 0 ? 3 : 1;
    const v = new Float32Array(k * n);
    v.set(g);
    if (slot >= 0) {
      v.set(s!, n);
      v.set(y!, 2 * n);
    }
    const p = await this.products.project(this.h, 2 * m, n, v, k);
    for (const a of this.order) {
      this.sg[a] = p[a * k]!;
      this.yg[a] = p[(m + a) * k]!;
    }
    if (slot >= 0) {
      for (const a of this.order) {
        // s_a . y_new, s_new . y_a, y_a . y_new
        this.sy[a * m + slot] = p[a * k + 2]!;
        this.sy[slot * m + a] = p[(m + a) * k + 1]!;
        this.yy[a * m + slot] = this.yy[slot * m + a] = p[(m + a) * k + 2]!;
      }
      this.gamma = this.sy[slot * m + slot]! / this.yy[slot * m + slot]!;
    }
  }

  /** H g, g being the gradient given to the last update (gamma g alone without history). */
  async apply(g: Float64Array): Promise<Float64Array> {
    const { n, m, order, R, YY } = this;
    const k = order.length;
    const q = new Float64Array(n);
    for (let i = 0; i < n; i++) q[i] = this.gamma * g[i]!;
    if (!k) return q;
    // The products S^T g and Y^T g come from update(): for another g they would be wrong.
    if (g !== this.measured) throw new Error('CompactLbfgs.apply: g is not the gradient of the last update');
    // R (upper triangular, R_ij = s_i . y_j for i <= j) and Y^T Y in the pairs' order, oldest first.
    for (let i = 0; i < k; i++) {
      const a = order[i]! * m;
      for (let j = 0; j < k; j++) {
        if (j >= i) R[i * k + j] = this.sy[a + order[j]!]!;
        YY[i * k + j] = this.yy[a + order[j]!]!;
      }
    }
    // p = R^-1 (S^T g).
    const pv = new Float64Array(k);
    for (let i = k - 1; i >= 0; i--) {
      let t = this.sg[order[i]!]!;
      for (let j = i + 1; j < k; j++) t -= R[i * k + j]! * pv[j]!;
      pv[i] = t / R[i * k + i]!;
    }
    // w = (D + gamma Y^T Y) p - gamma Y^T g, then u = R^-T w.
    const u = new Float64Array(k);
    for (let i = 0; i < k; i++) {
      let t = 0;
      for (let j = 0; j < k; j++) t += YY[i * k + j]! * pv[j]!;
      u[i] = R[i * k + i]! * pv[i]! + this.gamma * (t - this.yg[order[i]!]!);
    }
    for (let i = 0; i < k; i++) {
      let t = u[i]!;
      for (let j = 0; j < i; j++) t -= R[j * k + i]! * u[j]!;
      u[i] = t / R[i * k + i]!;
    }
    // H g = gamma g + S u - gamma Y p.
    const c = new Float32Array(2 * m);
    for (let i = 0; i < k; i++) {
      c[order[i]!] = u[i]!;
      c[m + order[i]!] = -this.gamma * pv[i]!;
    }
    const sum = await this.products.combine(this.h, 2 * m, n, c);
    for (let i = 0; i < n; i++) q[i]! += sum[i]!;
    return q;
  }
}

/**
 * Limited-memory BFGS with a backtracking (Armijo) line search, for the identity stages: a
 * deterministic, smooth problem of thousands of unknowns where it needs far fewer loss and
 * gradient runs than Adam. `evaluate` returns the loss and its gradient at x; `scale` is a
 * per-unknown scaling of the variables (the optimiser works on x / scale).
 */
export async function lbfgsMinimise(
  x: Float32Array,
  evaluate: (x: Float32Array) => Promise<{ f: number; g: Float32Array }>,
  o: {
    maxEvaluations: number;
    memory?: number;
    firstStep: number;
    scale?: (i: number) => number;
    onEvaluation?: (i: number, f: number) => void;
    /** Stop once the loss fell by less than the fraction `relTol` over the last `evaluations` evaluations. */
    plateau?: { evaluations: number; relTol: number };
    /** Where the products with the history run (plain JavaScript by default). */
    products?: HistoryProducts;
    /** Go on from a state that `onStep` gave (with x where it was then) instead of starting at x. */
    resume?: LbfgsState;
    /**
     * Called before each step with a function that copies the state (cheap to call when the
     * state is not wanted): a job saves it to resume after a crash.
     */
    onStep?: (state: () => LbfgsState) => void | Promise<void>;
  }
): Promise<number> {
  const n = x.length;
  const m = o.memory ?? 10;
  const sc = new Float64Array(n);
  for (let i = 0; i < n; i++) sc[i] = o.scale ? o.scale(i) : 1;
  const hist = new CompactLbfgs(n, m, o.products ?? jsHistoryProducts);
  let evals = 0;
  const run = async (z: Float32Array) => {
    const r = await evaluate(z);
    o.onEvaluation?.(evals, r.f);
    evals++;
    // Gradient with respect to the scaled variables u = x / scale: g_u = g * scale.
    const g = new Float64Array(n);
    for (let i = 0; i < n; i++) g[i] = r.g[i]! * sc[i]!;
    return { f: r.f, g };
  };
  let cur: { f: number; g: Float64Array<ArrayBufferLike> };
  let first = true;
  // The loss after each accepted step, with the evaluations spent by then (the plateau rule).
  let trail: { evals: number; f: number }[] = [];
  if (o.resume) {
    const r = o.resume;
    if (r.g.length !== n) throw new Error(`an L-BFGS state over ${r.g.length} unknowns does not fit ${n}`);
    cur = { f: r.f, g: Float64Array.from(r.g) };
    hist.restore(r.history, cur.g);
    first = r.first;
    evals = r.evaluations;
    trail = r.trail.map((t) => ({ ...t }));
  } else {
    cur = await run(x);
  }
  while (evals < o.maxEvaluations) {
    if (o.onStep) {
      const at = cur;
      const f0 = first;
      const e0 = evals;
      await o.onStep(() => ({ f: at.f, g: Float64Array.from(at.g), first: f0, evaluations: e0, trail: trail.map((t) => ({ ...t })), history: hist.snapshot() }));
    }
    if (!Number.isFinite(cur.f) || !cur.g.every(Number.isFinite)) break;
    if (o.plateau) {
      trail.push({ evals, f: cur.f });
      // Drop what is older than needed: the first entry is the latest one a window back.
      while (trail.length > 1 && trail[1]!.evals <= evals - o.plateau.evaluations) trail.shift();
      const then = trail[0]!;
      if (then.evals <= evals - o.plateau.evaluations && cur.f > (1 - o.plateau.relTol) * then.f) break;
    }
    // d = -H g; without history a gradient step whose largest move is firstStep.
    if (!hist.size) {
      let gmax = 0;
      for (let i = 0; i < n; i++) gmax = Math.max(gmax, Math.abs(cur.g[i]!));
      hist.gamma = gmax > 0 ? o.firstStep / gmax : 1;
    }
    const q = await hist.apply(cur.g);
    const gd = -dot(cur.g, q);
    if (!(gd < 0)) {
      // Not a descent direction: forget the history and take a scaled gradient step.
      hist.reset();
      if (first) break;
      first = true;
      continue;
    }
    first = false;
    // Backtracking line search on the step d = -q (scaled variables).
    let t = 1;
    let accepted: { f: number; g: Float64Array<ArrayBufferLike>; z: Float32Array } | null = null;
    while (evals < o.maxEvaluations) {
      const z = new Float32Array(n);
      for (let i = 0; i < n; i++) z[i] = x[i]! - t * q[i]! * sc[i]!;
      const next = await run(z);
      if (Number.isFinite(next.f) && next.f <= cur.f + 1e-4 * t * gd) {
        accepted = { ...next, z };
        break;
      }
      t *= 0.3;
    }
    if (!accepted) break;
    const s = new Float64Array(n);
    const y = new Float64Array(n);
    let sy = 0;
    for (let i = 0; i < n; i++) {
      s[i] = (accepted.z[i]! - x[i]!) / sc[i]!;
      y[i] = accepted.g[i]! - cur.g[i]!;
      sy += s[i]! * y[i]!;
    }
    x.set(accepted.z);
    cur = { f: accepted.f, g: accepted.g };
    await (sy > 1e-12 ? hist.update(cur.g, s, y) : hist.update(cur.g, null, null));
  }
  return cur.f;
}
