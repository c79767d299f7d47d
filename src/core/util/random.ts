// Seeded pseudo-random numbers (mulberry32 + Box-Muller), so models and tests are reproducible.
export class Rng {
  private state: number;
  private spare: number | null = null;
  constructor(seed: number) {
    this.state = (seed >>> 0) ^ 0x9e3779b9;
  }
  uniform(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
  normals(n: number, scale = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.normal() * scale;
    return out;
  }
  /** A unit vector of length n. */
  direction(n: number): Float32Array {
    const d = this.normals(n);
    let s = 0;
    for (const v of d) s += v * v;
    const inv = 1 / Math.sqrt(s);
    for (let i = 0; i < n; i++) d[i]! *= inv;
    return d;
  }
}
