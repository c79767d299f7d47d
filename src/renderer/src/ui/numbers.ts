/** Rounds to the nearest step from min and keeps the value inside [min, max]. */
export function clampToStep(v: number, min: number, max: number, step: number): number {
  const stepped = Math.round((v - min) / step) * step + min;
  const fixed = Number(stepped.toFixed(10));
  return Math.min(max, Math.max(min, fixed));
}

/** Decimals a step needs: 1 -> 0, 0.05 -> 2. */
export function decimalsOf(step: number): number {
  const s = String(step);
  const dot = s.indexOf('.');
  return dot < 0 ? 0 : s.length - dot - 1;
}

/** A 0..1 fraction as a whole percentage (clamped), or null when unknown. */
export function percentOf(value: number | null): number | null {
  return value === null || !Number.isFinite(value) ? null : Math.round(Math.min(1, Math.max(0, value)) * 100);
}
