// Registers one ipcMain handler per contract method. Every call is checked
// twice before its handler runs: the sending frame must be the app's own page,
// and the payload must pass the contract validator. Electron is not imported
// here (ipcMain comes in as a parameter) so this runs under plain Node tests.
import {
  ContractError,
  INVOKE_NAMES,
  validateEvent,
  validateRequest,
  validateResponse,
  type EventName,
  type EventPayload,
  type InvokeName,
  type InvokeRequest,
  type InvokeResponse
} from '../shared/contract';

/** The part of Electron's IpcMainInvokeEvent this module reads. */
export interface InvokeEventLike {
  readonly senderFrame: { readonly url: string } | null;
}

/** The part of Electron's ipcMain this module uses. */
export interface IpcMainLike<E extends InvokeEventLike> {
  handle(channel: string, listener: (event: E, ...args: unknown[]) => unknown): void;
  removeHandler(channel: string): void;
}

/** Methods that answer nothing may return void. */
type HandlerResult<N extends InvokeName> = InvokeResponse<N> extends undefined ? void | undefined : InvokeResponse<N>;
export type Handler<N extends InvokeName, E> = (request: InvokeRequest<N>, event: E) => HandlerResult<N> | Promise<HandlerResult<N>>;
export type Handlers<E> = { [N in InvokeName]: Handler<N, E> };

export class UntrustedSenderError extends Error {
  readonly code = 'UNTRUSTED_SENDER';
  override name = 'UntrustedSenderError';
}

export interface RegisterOptions {
  /** Whether a frame URL is the app's own page (see appUrlMatcher). */
  isTrustedSender(url: string): boolean;
}

function senderUrl(event: InvokeEventLike): string | null {
  try {
    return event.senderFrame?.url ?? null;
  } catch {
    // Electron throws when the frame was disposed while the call was in flight.
    return null;
  }
}

/** Registers every contract method; returns a function that removes them again. */
export function registerHandlers<E extends InvokeEventLike>(ipcMain: IpcMainLike<E>, handlers: Handlers<E>, options: RegisterOptions): () => void {
  for (const name of INVOKE_NAMES) {
    const handler = handlers[name] as Handler<InvokeName, E> | undefined;
    if (typeof handler !== 'function') throw new Error(`registerHandlers: no handler for contract method "${name}"`);
    ipcMain.handle(name, async (event, ...args) => {
      const url = senderUrl(event);
      if (url === null || !options.isTrustedSender(url)) {
        throw new UntrustedSenderError(`Refused "${name}" from ${url === null ? 'a frame that no longer exists' : url}: only the Stylecast window may call the app API`);
      }
      if (args.length > 1) throw new ContractError(`${name} takes at most one payload argument, got ${args.length}`);
      const request = validateRequest(name, args[0]);
      const response = await handler(request, event);
      return validateResponse(name, response);
    });
  }
  return () => {
    for (const name of INVOKE_NAMES) ipcMain.removeHandler(name);
  };
}

/** The part of Electron's WebContents that events are sent through. */
export interface EventTargetLike {
  send(channel: string, ...args: unknown[]): void;
  isDestroyed(): boolean;
}

/** Sends a contract event after validating its payload; a closed window is skipped. */
export function sendEvent<E extends EventName>(target: EventTargetLike, name: E, payload: EventPayload<E>): void {
  const valid = validateEvent(name, payload);
  if (!target.isDestroyed()) target.send(name, valid);
}

/**
 * Matches frame URLs against the URL the window loaded: the same origin for the
 * dev server, the same local file (empty host) for a packaged build (query and hash ignored).
 */
export function appUrlMatcher(appUrl: string): (url: string) => boolean {
  const app = new URL(appUrl);
  return (url) => {
    let candidate: URL;
    try {
      candidate = new URL(url);
    } catch {
      return false;
    }
    // file://host/<the same path> is a remote (SMB/UNC) file on Windows, which leaks the
    // user's credentials to that host when loaded: only the empty host is the app.
    if (app.protocol === 'file:') return candidate.protocol === 'file:' && candidate.host === '' && app.host === '' && candidate.pathname === app.pathname;
    if (app.protocol === 'http:' || app.protocol === 'https:') return candidate.origin === app.origin;
    return false;
  };
}
