import { UsageError } from './errors';

export function int(v: string, flag: string, min = Number.MIN_SAFE_INTEGER): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${flag} must be an integer${min > Number.MIN_SAFE_INTEGER ? ` >= ${min}` : ''}, got "${v}"`);
  return n;
}

export function num(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`${flag} must be a number, got "${v}"`);
  return n;
}

/** "a:b" (end exclusive) -> { start, count }. */
export function parseRange(v: string, flag: string): { start: number; count: number } {
  const m = /^(\d+):(\d+)$/.exec(v);
  if (!m || Number(m[2]) <= Number(m[1])) throw new UsageError(`${flag} must be a:b with a < b (frames a to b-1), got "${v}"`);
  return { start: Number(m[1]), count: Number(m[2]) - Number(m[1]) };
}
