// Adam with per-element learning rates and a cosine decay, on Float32Arrays.
export class Adam {
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  private t = 0;
  constructor(
    readonly size: number,
    private readonly lr: (i: number) => number,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly eps = 1e-8
  ) {
    this.m = new Float32Array(size);
    this.v = new Float32Array(size);
  }

  /** The moments and step count, for a job that saves its state to resume later. */
  snapshot(): { t: number; m: Float32Array; v: Float32Array } {
    return { t: this.t, m: Float32Array.from(this.m), v: Float32Array.from(this.v) };
  }

  restore(s: { t: number; m: Float32Array; v: Float32Array }): void {
    if (s.m.length !== this.size || s.v.length !== this.size) throw new Error(`Adam state of ${s.m.length} values does not fit ${this.size}`);
    this.t = s.t;
    this.m.set(s.m);
    this.v.set(s.v);
  }

  /** One step in place; `scale` multiplies every learning rate (for schedules). */
  step(x: Float32Array, grad: Float32Array, scale = 1): void {
    this.t++;
    const b1 = 1 - this.beta1 ** this.t;
    const b2 = 1 - this.beta2 ** this.t;
    for (let i = 0; i < this.size; i++) {
      const g = grad[i]!;
      const m = (this.m[i] = this.beta1 * this.m[i]! + (1 - this.beta1) * g);
      const v = (this.v[i] = this.beta2 * this.v[i]! + (1 - this.beta2) * g * g);
      x[i]! -= (scale * this.lr(i) * (m / b1)) / (Math.sqrt(v / b2) + this.eps);
    }
  }
}

/** Cosine decay from 1 to `floor` over n steps, with a short linear warm-up. */
export function cosineSchedule(step: number, n: number, floor = 0.05, warmup = 0.05): number {
  const w = Math.max(1, Math.round(n * warmup));
  if (step < w) return (step + 1) / w;
  const t = (step - w) / Math.max(1, n - w);
  return floor + (1 - floor) * 0.5 * (1 + Math.cos(Math.PI * t));
}
