import { UsageError } from './errors';

/** A whole number written in decimal ("", " ", "0x10" and "1e3" are not: Number() would take them). */
export function int(v: string, flag: string, min = Number.MIN_SAFE_INTEGER): number {
  const n = /^\s*[+-]?\d+\s*$/.test(String(v)) ? Number(v) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`${flag} must be an integer${min > Number.MIN_SAFE_INTEGER ? ` >= ${min}` : ''}, got "${v}"`);
  return n;
}

/** A decimal number, at least `min` when given ("" and "0x10" are not numbers here). */
export function num(v: string, flag: string, min?: number): number {
  const n = /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i.test(String(v)) ? Number(v) : Number.NaN;
  if (!Number.isFinite(n)) throw new UsageError(`${flag} must be a number, got "${v}"`);
  if (min !== undefined && n < min) throw new UsageError(`${flag} must be at least ${min}, got "${v}"`);
  return n;
}

/** "a:b" (end exclusive) -> { start, count }. */
export function parseRange(v: string, flag: string): { start: number; count: number } {
  const m = /^(\d+):(\d+)$/.exec(v);
  if (!m || Number(m[2]) <= Number(m[1])) throw new UsageError(`${flag} must be a:b with a < b (frames a to b-1), got "${v}"`);
  return { start: Number(m[1]), count: Number(m[2]) - Number(m[1]) };
}
