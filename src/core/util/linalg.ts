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

/** y += a x. */
function axpy(y: Float64Array, a: number, x: Float64Array): void {
  for (let i = 0; i < y.length; i++) y[i]! += a * x[i]!;
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
  }
): Promise<number> {
  const n = x.length;
  const m = o.memory ?? 10;
  const sc = new Float64Array(n);
  for (let i = 0; i < n; i++) sc[i] = o.scale ? o.scale(i) : 1;
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rhos: number[] = [];
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
  let cur: { f: number; g: Float64Array<ArrayBufferLike> } = await run(x);
  let first = true;
  // The loss after each accepted step, with the evaluations spent by then (the plateau rule).
  const trail: { evals: number; f: number }[] = [];
  while (evals < o.maxEvaluations) {
    if (!Number.isFinite(cur.f) || !cur.g.every(Number.isFinite)) break;
    if (o.plateau) {
      trail.push({ evals, f: cur.f });
      // Drop what is older than needed: the first entry is the latest one a window back.
      while (trail.length > 1 && trail[1]!.evals <= evals - o.plateau.evaluations) trail.shift();
      const then = trail[0]!;
      if (then.evals <= evals - o.plateau.evaluations && cur.f > (1 - o.plateau.relTol) * then.f) break;
    }
    // Two-loop recursion: d = -H g.
    // With a memory of hundreds of pairs this loop costs as much as a small render, hence dot() and axpy().
    const q = Float64Array.from(cur.g);
    const alpha: number[] = [];
    for (let k = S.length - 1; k >= 0; k--) {
      const a = dot(S[k]!, q) * rhos[k]!;
      alpha[k] = a;
      axpy(q, -a, Y[k]!);
    }
    let gamma = 1;
    if (S.length) {
      const k = S.length - 1;
      gamma = dot(S[k]!, Y[k]!) / dot(Y[k]!, Y[k]!);
    } else {
      let gmax = 0;
      for (let i = 0; i < n; i++) gmax = Math.max(gmax, Math.abs(q[i]!));
      gamma = gmax > 0 ? o.firstStep / gmax : 1;
    }
    for (let i = 0; i < n; i++) q[i]! *= gamma;
    for (let k = 0; k < S.length; k++) {
      const b = dot(Y[k]!, q) * rhos[k]!;
      axpy(q, alpha[k]! - b, S[k]!);
    }
    const gd = -dot(cur.g, q);
    if (!(gd < 0)) {
      // Not a descent direction: forget the history and take a scaled gradient step.
      S.length = Y.length = rhos.length = 0;
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
    if (sy > 1e-12) {
      S.push(s);
      Y.push(y);
      rhos.push(1 / sy);
      if (S.length > m) {
        S.shift();
        Y.shift();
        rhos.shift();
      }
    }
  }
  return cur.f;
}
