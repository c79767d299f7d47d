// A CoreHost for tests and the browser bridge: dialogs answer what the test
// queued, events are recorded (and forwarded), recent projects live in memory,
// and jobs run in Node child processes.
import { addRecent, type StoredRecent } from '../../src/main/recent';
import { createCoreApi, type CoreHost } from '../../src/main/core-api';
import { appUrlMatcher, registerHandlers, type InvokeEventLike } from '../../src/main/ipc';
import { nodeJobTransport } from '../../src/main/jobs/node-transport';
import type { EventName } from '../../src/shared/contract';
import type { Catalog } from '../../src/core/model/manager';

export type DialogKind = 'openVideo' | 'openProject' | 'openImage' | 'save' | 'openCheckpoint';

export interface RecordedEvent {
  name: EventName;
  payload: unknown;
}

export class ScriptedHost implements CoreHost<unknown> {
  readonly version = '0.0.0-test';
  readonly events: RecordedEvent[] = [];
  readonly shown: string[] = [];
  readonly dialogAnswers = new Map<DialogKind, (string | null)[]>();
  readonly saveRequests: { kind: 'video' | 'project' | 'copy'; defaultPath: string }[] = [];
  unsaved = false;
  private recentList: StoredRecent[] = [];
  private readonly listeners = new Set<(e: RecordedEvent) => void>();
  readonly jobTransport = nodeJobTransport();
  /** The model catalogue the core API uses (default: the repository's). */
  catalog?: () => Catalog;

  constructor(
    readonly modelsDir: string,
    readonly mediaBase = 'http://media.invalid/'
  ) {}

  /** The next answer of a dialog (null = the user cancelled). */
  answer(kind: DialogKind, path: string | null): void {
    this.dialogAnswers.set(kind, [...(this.dialogAnswers.get(kind) ?? []), path]);
  }

  private next(kind: DialogKind): Promise<string | null> {
    const queue = this.dialogAnswers.get(kind) ?? [];
    if (queue.length === 0) return Promise.reject(new Error(`the test queued no answer for the ${kind} dialog`));
    return Promise.resolve(queue.shift()!);
  }

  /** Answers of main's confirmation dialogs (true = the user agreed), and what was asked. */
  readonly confirmAnswers: boolean[] = [];
  readonly confirmRequests: { message: string; detail: string; confirm: string }[] = [];

  dialogs = {
    confirm: (_e: unknown, q: { message: string; detail: string; confirm: string }) => {
      this.confirmRequests.push(q);
      const answer = this.confirmAnswers.shift();
      if (answer === undefined) return Promise.reject(new Error(`the test queued no answer for the confirmation "${q.message}"`));
      return Promise.resolve(answer);
    },
    openVideo: () => this.next('openVideo'),
    openProject: () => this.next('openProject'),
    openImage: () => this.next('openImage'),
    openCheckpoint: () => this.next('openCheckpoint'),
    save: (_e: unknown, kind: 'video' | 'project' | 'copy', defaultPath: string) => {
      this.saveRequests.push({ kind, defaultPath });
      return this.next('save');
    }
  };

  send(name: EventName, payload: unknown): void {
    const e = { name, payload };
    this.events.push(e);
    for (const l of this.listeners) l(e);
  }

  onEvent(listener: (e: RecordedEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  showItem(path: string): void {
    this.shown.push(path);
  }

  mediaUrl(token: string): string {
    return `${this.mediaBase}${token}`;
  }

  recent = {
    list: () => this.recentList,
    add: (path: string) => (this.recentList = addRecent(this.recentList, path, new Date()))
  };

  setUnsavedChanges(unsaved: boolean): void {
    this.unsaved = unsaved;
  }

  /** Resolves with the job:done payload of `jobId`. */
  jobDone(jobId: string, timeoutMs = 300_000): Promise<{ status: string; message: string; path: string | null }> {
    type Done = { jobId: string; status: string; message: string; path: string | null };
    const found = this.events.find((e) => e.name === 'job:done' && (e.payload as Done).jobId === jobId);
    if (found) return Promise.resolve(found.payload as Done);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`job ${jobId} did not end within ${timeoutMs} ms`)), timeoutMs);
      const off = this.onEvent((e) => {
        if (e.name === 'job:done' && (e.payload as Done).jobId === jobId) {
          clearTimeout(timer);
          off();
          resolve(e.payload as Done);
        }
      });
    });
  }

  eventsOf<T>(name: EventName, jobId?: string): T[] {
    return this.events.filter((e) => e.name === name && (jobId === undefined || (e.payload as { jobId?: string }).jobId === jobId)).map((e) => e.payload as T);
  }
}

/** What ipcMain.handle registrations receive, and ipcRenderer.invoke from the app page would do. */
export class FakeIpcMain {
  constructor(readonly senderUrl = FakeIpcMain.APP_URL) {}
  readonly listeners = new Map<string, (event: { senderFrame: { url: string } | null }, ...args: unknown[]) => unknown>();
  handle(channel: string, listener: (event: { senderFrame: { url: string } | null }, ...args: unknown[]) => unknown): void {
    this.listeners.set(channel, listener);
  }
  removeHandler(channel: string): void {
    this.listeners.delete(channel);
  }
  async invoke(channel: string, ...args: unknown[]): Promise<unknown> {
    const listener = this.listeners.get(channel);
    if (!listener) throw new Error(`No handler registered for '${channel}'`);
    return listener({ senderFrame: { url: this.senderUrl } }, ...args);
  }
  static readonly APP_URL = 'file:///opt/stylecast/out/renderer/index.html';
}

/** The core API behind a FakeIpcMain, called as the window calls it (every payload validated by the contract). */
export function coreOverIpc(modelsDir: string) {
  const host = new ScriptedHost(modelsDir);
  const api = createCoreApi<InvokeEventLike>(host);
  const ipc = new FakeIpcMain();
  registerHandlers(ipc, api.handlers, { isTrustedSender: appUrlMatcher(FakeIpcMain.APP_URL) });
  const call = <T = unknown>(name: string, payload?: unknown): Promise<T> => (payload === undefined ? ipc.invoke(name) : ipc.invoke(name, payload)) as Promise<T>;
  return { host, api, ipc, call };
}
