// Small dense linear algebra for the per-frame Gauss-Newton solver: 35 unknowns, so
// plain loops over Float64Arrays are the right tool.

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

/**
 * Damped BFGS update of a curvature estimate H (in place) from a step s and the change of
 * gradient y along it (Powell's damping keeps H positive definite when s.y is small or negative).
 */
export function bfgsUpdate(h: Float64Array, s: Float64Array, y: Float64Array, n: number): void {
  const hs = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let v = 0;
    for (let j = 0; j < n; j++) v += h[i * n + j]! * s[j]!;
    hs[i] = v;
  }
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
  let s = 0;
  for (let i = 0; i < n; i++) {
    let v = 0;
    for (let j = 0; j < n; j++) v += h[i * n + j]! * x[j]!;
    s += x[i]! * v;
  }
  return s;
}
