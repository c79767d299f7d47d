// Cancellation is typed so callers test `err.code === 'CANCELLED'` (or
// `isCancelled(err)`), never the message text.

export class CancelledError extends Error {
  readonly code = 'CANCELLED' as const;
  constructor(message = 'The operation was cancelled.') {
    super(message);
    this.name = 'CancelledError';
  }
}

export function isCancelled(err: unknown): err is CancelledError {
  return err instanceof CancelledError || (err as { code?: unknown } | null)?.code === 'CANCELLED';
}

/** Throws a CancelledError when the signal has fired; a string or Error reason becomes its message. */
export function throwIfAborted(signal?: AbortSignal): void {
  if (!signal?.aborted) return;
  throw cancelledFrom(signal);
}

export function cancelledFrom(signal: AbortSignal): CancelledError {
  const reason: unknown = signal.reason;
  if (reason instanceof CancelledError) return reason;
  // AbortController.abort() with no argument gives a DOMException 'AbortError' reason: use our default text.
  if (typeof reason === 'string' && reason) return new CancelledError(reason);
  if (reason instanceof Error && reason.name !== 'AbortError' && reason.message) {
    return new CancelledError(reason.message);
  }
  return new CancelledError();
}
