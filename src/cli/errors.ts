// The CLI's one rule for failure: a one-line reason on stderr and a non-zero exit.
export class UsageError extends Error {
  readonly code = 'USAGE';
}

export function fail(err: unknown): never {
  const e = err as { message?: string; code?: string };
  const msg = (e?.message ?? String(err)).split('\n')[0];
  process.stderr.write(`stylecast: error: ${msg}\n`);
  if (process.env.STYLECAST_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  process.exit(e?.code === 'USAGE' ? 2 : 1);
}

export function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}

export function printJson(obj: unknown): void {
  process.stdout.write(`${JSON.stringify(obj, null, 2)}\n`);
}
