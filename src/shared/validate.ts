// Small runtime validators for IPC payloads. The renderer is untrusted, so main
// checks every payload against these before a handler sees it. Each validator
// returns the value typed, or throws a ContractError naming the offending field.

export class ContractError extends Error {
  readonly code = 'CONTRACT';
  override name = 'ContractError';
}

/** Returns `value` typed as T, or throws a ContractError that names `path`. */
export type Validator<T> = (value: unknown, path: string) => T;
export type Infer<V> = V extends Validator<infer T> ? T : never;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value.length > 40 ? `a string of ${value.length} characters` : `"${value}"`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value === 'object' ? 'an object' : typeof value;
}

function fail(path: string, expected: string, got: unknown): never {
  throw new ContractError(`${path} must be ${expected}, got ${describe(got)}`);
}

export const expectNothing: Validator<undefined> = (v, path) => {
  if (v !== undefined) fail(path, 'absent (this call takes no payload)', v);
  return undefined;
};

export const expectString: Validator<string> = (v, path) => {
  if (typeof v !== 'string') fail(path, 'a string', v);
  return v;
};

export const expectNonEmptyString: Validator<string> = (v, path) => {
  if (typeof v !== 'string' || v.trim() === '') fail(path, 'a non-empty string', v);
  return v;
};

export const expectBoolean: Validator<boolean> = (v, path) => {
  if (typeof v !== 'boolean') fail(path, 'true or false', v);
  return v;
};

export const expectFiniteNumber: Validator<number> = (v, path) => {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(path, 'a finite number', v);
  return v;
};

export function expectNumberIn(min: number, max: number): Validator<number> {
  return (v, path) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) fail(path, `a number from ${min} to ${max}`, v);
    return v;
  };
}

export const expectPositiveInteger: Validator<number> = (v, path) => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) fail(path, 'a positive integer', v);
  return v;
};

const MAX_PATH_LENGTH = 4096;

/**
 * An absolute POSIX or Windows path. Parsed by hand because this module also
 * runs in the renderer, which has no node:path.
 */
export const expectAbsolutePath: Validator<string> = (v, path) => {
  if (typeof v !== 'string') fail(path, 'an absolute file path', v);
  if (v.length > MAX_PATH_LENGTH || v.includes('\0')) fail(path, `a file path under ${MAX_PATH_LENGTH} characters without NUL bytes`, v);
  const absolute = v.startsWith('/') || /^[A-Za-z]:[\\/]/.test(v) || v.startsWith('\\\\');
  if (!absolute) fail(path, 'an absolute file path', v);
  return v;
};

export function expectOneOf<const T extends readonly string[]>(...options: T): Validator<T[number]> {
  return (v, path) => {
    if (typeof v !== 'string' || !options.includes(v)) fail(path, `one of ${options.map((o) => `"${o}"`).join(', ')}`, v);
    return v as T[number];
  };
}

export function expectNullable<T>(inner: Validator<T>): Validator<T | null> {
  return (v, path) => (v === null ? null : inner(v, path));
}

export function expectArray<T>(item: Validator<T>, maxLength = 10_000): Validator<T[]> {
  return (v, path) => {
    if (!Array.isArray(v)) fail(path, 'an array', v);
    if (v.length > maxLength) fail(path, `an array of at most ${maxLength} items`, `an array of ${v.length}`);
    return v.map((x, i) => item(x, `${path}[${i}]`));
  };
}

type Shape = Record<string, Validator<unknown>>;
export type ShapeOf<S extends Shape> = { [K in keyof S]: Infer<S[K]> };

/**
 * A plain object with exactly these keys. Unknown keys are rejected rather than
 * dropped so that a renderer/main version mismatch shows up at once.
 */
export function expectObject<S extends Shape>(shape: S): Validator<ShapeOf<S>> {
  return (v, path) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, 'an object', v);
    const proto = Object.getPrototypeOf(v) as unknown;
    if (proto !== Object.prototype && proto !== null) fail(path, 'a plain object', v);
    const record = v as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (!Object.hasOwn(shape, key)) throw new ContractError(`${path} has an unexpected field "${key}"`);
    }
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(shape)) out[key] = shape[key]!(record[key], `${path}.${key}`);
    return out as ShapeOf<S>;
  };
}

/** An integer in [min, max]. */
export function expectIntegerIn(min: number, max: number): Validator<number> {
  return (v, path) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail(path, `an integer from ${min} to ${max}`, v);
    return v;
  };
}

/** An array of finite numbers with a length in [minLength, maxLength]. */
/** Finite numbers, at most `maxAbs` in size (values that become float32 must stay finite there: below 3.4e38). */
export function expectNumberArray(minLength: number, maxLength: number, maxAbs = Number.MAX_VALUE): Validator<number[]> {
  return (v, path) => {
    if (!Array.isArray(v)) fail(path, 'an array of numbers', v);
    if (v.length < minLength || v.length > maxLength) fail(path, `an array of ${minLength === maxLength ? minLength : `${minLength} to ${maxLength}`} numbers`, `an array of ${v.length}`);
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      if (typeof x !== 'number' || !Number.isFinite(x)) fail(`${path}[${i}]`, 'a finite number', x);
      if (Math.abs(x) > maxAbs) fail(`${path}[${i}]`, `a number from ${-maxAbs} to ${maxAbs}`, x);
    }
    return v as number[];
  };
}

/**
 * Plain JSON data (null, booleans, finite numbers, strings, arrays, plain
 * objects) of bounded depth and size. The value is checked, not trusted: a
 * module that owns the shape (for example the timeline) parses it further.
 */
export function expectJson(maxDepth = 32, maxNodes = 2_000_000): Validator<unknown> {
  return (v, path) => {
    let nodes = 0;
    const walk = (x: unknown, depth: number, at: string): void => {
      if (++nodes > maxNodes) fail(path, `JSON data of at most ${maxNodes} values`, 'more');
      if (depth > maxDepth) fail(at, `JSON data nested at most ${maxDepth} deep`, x);
      if (x === null || typeof x === 'boolean' || typeof x === 'string') return;
      if (typeof x === 'number') {
        if (!Number.isFinite(x)) fail(at, 'a finite number', x);
        return;
      }
      if (Array.isArray(x)) {
        x.forEach((y, i) => walk(y, depth + 1, `${at}[${i}]`));
        return;
      }
      if (typeof x === 'object') {
        const proto = Object.getPrototypeOf(x) as unknown;
        if (proto !== Object.prototype && proto !== null) fail(at, 'a plain object', x);
        for (const [k, y] of Object.entries(x as Record<string, unknown>)) {
          if (k === '__proto__' || k === 'constructor' || k === 'prototype') throw new ContractError(`${at} has a forbidden key "${k}"`);
          walk(y, depth + 1, `${at}.${k}`);
        }
        return;
      }
      fail(at, 'JSON data', x);
    };
    walk(v, 0, path);
    return v;
  };
}
