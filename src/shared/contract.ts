// The one IPC contract between main and renderer. Preload exposes exactly these
// channels and main registers a handler for each, both generated from the lists
// below; main validates every request (the renderer is untrusted) and every
// response and event it sends (to catch its own bugs at the boundary).
import {
  expectAbsolutePath,
  expectArray,
  expectBoolean,
  expectNonEmptyString,
  expectNothing,
  expectNullable,
  expectNumberIn,
  expectObject,
  expectOneOf,
  expectPositiveInteger,
  expectString,
  type Infer,
  type Validator
} from './validate';

export { ContractError } from './validate';

/** Video containers the app opens (lower case, with the dot). */
export const VIDEO_EXTENSIONS = ['.mp4', '.mov', '.mkv', '.webm'] as const;
/** Project file extension; the project schema itself lives in core/project. */
export const PROJECT_EXTENSION = '.stylecast';
export const MAX_RECENT_PROJECTS = 10;

/** The last component of a POSIX or Windows path. */
export function fileName(path: string): string {
  return path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
}

export function fileExtension(path: string): string {
  const base = fileName(path);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot).toLowerCase() : '';
}

export function isVideoPath(path: string): boolean {
  return (VIDEO_EXTENSIONS as readonly string[]).includes(fileExtension(path));
}

// ---- payload shapes --------------------------------------------------------

const device = expectOneOf('cpu', 'cuda');

const appInfo = expectObject({
  version: expectNonEmptyString,
  modelsDir: expectString,
  device,
  platform: expectNonEmptyString
});

const modelSummary = expectObject({
  id: expectNonEmptyString,
  name: expectNonEmptyString,
  resolution: expectPositiveInteger,
  /** The bundle folder. */
  path: expectAbsolutePath
});

const recentProject = expectObject({
  path: expectAbsolutePath,
  name: expectNonEmptyString,
  kind: expectOneOf('video', 'project'),
  /** ISO 8601 time it was last opened. */
  openedAt: expectNonEmptyString,
  /** The file was not found when the list was read. */
  missing: expectBoolean
});

const pathRequest = expectObject({ path: expectAbsolutePath });

const jobProgress = expectObject({
  jobId: expectNonEmptyString,
  stage: expectNonEmptyString,
  fraction: expectNumberIn(0, 1),
  /** Seconds left, or null while unknown. */
  etaSec: expectNullable(expectNumberIn(0, Number.MAX_SAFE_INTEGER)),
  message: expectString
});

export const MENU_COMMANDS = ['open-video', 'open-project', 'open-recent'] as const;

const menuCommand = expectObject({
  command: expectOneOf(...MENU_COMMANDS),
  /** Set for open-recent. */
  path: expectNullable(expectAbsolutePath)
});

export type Device = Infer<typeof device>;
export type AppInfo = Infer<typeof appInfo>;
export type ModelSummary = Infer<typeof modelSummary>;
export type RecentProject = Infer<typeof recentProject>;
export type JobProgress = Infer<typeof jobProgress>;
export type MenuCommand = Infer<typeof menuCommand>;

// ---- the contract ----------------------------------------------------------

interface MethodSpec<Req, Res> {
  request: Validator<Req>;
  response: Validator<Res>;
}

const method = <Req, Res>(request: Validator<Req>, response: Validator<Res>): MethodSpec<Req, Res> => ({ request, response });

/** Renderer -> main request/response calls (ipcRenderer.invoke / ipcMain.handle). */
export const invokeContract = {
  'app:info': method(expectNothing, appInfo),
  'models:list': method(expectNothing, expectArray(modelSummary)),
  /** Shows the native open dialog; null when cancelled. */
  'dialog:openVideo': method(expectNothing, expectNullable(expectAbsolutePath)),
  'dialog:openProject': method(expectNothing, expectNullable(expectAbsolutePath)),
  'recent:list': method(expectNothing, expectArray(recentProject, MAX_RECENT_PROJECTS)),
  /** Puts a file at the top of the recent list; returns the new list. */
  'recent:add': method(pathRequest, expectArray(recentProject, MAX_RECENT_PROJECTS))
} as const;

/** Main -> renderer notifications (webContents.send / ipcRenderer.on). */
export const eventContract = {
  'job:progress': jobProgress,
  /** An application-menu item the renderer acts on, so menu and UI share one code path. */
  'menu:command': menuCommand
} as const;

export type InvokeName = keyof typeof invokeContract;
export type EventName = keyof typeof eventContract;

type Spec<N extends InvokeName> = (typeof invokeContract)[N];
export type InvokeRequest<N extends InvokeName> = Spec<N> extends MethodSpec<infer Req, unknown> ? Req : never;
export type InvokeResponse<N extends InvokeName> = Spec<N> extends MethodSpec<unknown, infer Res> ? Res : never;
export type EventPayload<E extends EventName> = Infer<(typeof eventContract)[E]>;

/** Methods without a payload are called with no argument. */
export type InvokeArgs<N extends InvokeName> = InvokeRequest<N> extends undefined ? [] : [request: InvokeRequest<N>];

export const INVOKE_NAMES = Object.keys(invokeContract) as InvokeName[];
export const EVENT_NAMES = Object.keys(eventContract) as EventName[];

export const isInvokeName = (name: unknown): name is InvokeName => typeof name === 'string' && Object.hasOwn(invokeContract, name);
export const isEventName = (name: unknown): name is EventName => typeof name === 'string' && Object.hasOwn(eventContract, name);

export function validateRequest<N extends InvokeName>(name: N, payload: unknown): InvokeRequest<N> {
  return invokeContract[name].request(payload, `${name} payload`) as InvokeRequest<N>;
}

export function validateResponse<N extends InvokeName>(name: N, payload: unknown): InvokeResponse<N> {
  return invokeContract[name].response(payload, `${name} result`) as InvokeResponse<N>;
}

export function validateEvent<E extends EventName>(name: E, payload: unknown): EventPayload<E> {
  return eventContract[name](payload, `${name} event`) as EventPayload<E>;
}

/** What preload exposes on `window.stylecast`. */
export interface StylecastApi {
  invoke<N extends InvokeName>(name: N, ...args: InvokeArgs<N>): Promise<InvokeResponse<N>>;
  /** Subscribes to a main-process event; returns the unsubscribe function. */
  on<E extends EventName>(name: E, listener: (payload: EventPayload<E>) => void): () => void;
  /** The file-system path of a dropped File (File.path is gone in sandboxed renderers). */
  pathForFile(file: File): string;
}
