import { describe, it, expect } from 'vitest';
import { INVOKE_NAMES, type RecentProject } from '../../src/shared/contract';
import { appUrlMatcher, registerHandlers, sendEvent, type Handlers, type InvokeEventLike, type IpcMainLike } from '../../src/main/ipc';
import { guardWebContents, type GuardedContents } from '../../src/main/navigation-guard';

const APP_URL = 'file:///opt/stylecast/out/renderer/index.html';

class FakeIpcMain implements IpcMainLike<InvokeEventLike> {
  readonly listeners = new Map<string, (event: InvokeEventLike, ...args: unknown[]) => unknown>();
  handle(channel: string, listener: (event: InvokeEventLike, ...args: unknown[]) => unknown): void {
    if (this.listeners.has(channel)) throw new Error(`second handler for ${channel}`);
    this.listeners.set(channel, listener);
  }
  removeHandler(channel: string): void {
    this.listeners.delete(channel);
  }
  /** What ipcRenderer.invoke(channel, ...args) from a frame at `url` would do. */
  async invoke(channel: string, url: string | null, ...args: unknown[]): Promise<unknown> {
    const listener = this.listeners.get(channel);
    if (!listener) throw new Error(`No handler registered for '${channel}'`);
    return listener({ senderFrame: url === null ? null : { url } }, ...args);
  }
}

const recentEntry: RecentProject = { path: '/videos/talk.mp4', name: 'talk.mp4', kind: 'video', openedAt: '2025-01-02T03:04:05.000Z', missing: false };

function setup(overrides: Partial<Handlers<InvokeEventLike>> = {}) {
  const calls: { name: string; request: unknown }[] = [];
  const unused = Object.fromEntries(
    INVOKE_NAMES.map((n) => [
      n,
      () => {
        throw new Error(`${n} is not used in this test`);
      }
    ])
  ) as unknown as Handlers<InvokeEventLike>;
  const handlers: Handlers<InvokeEventLike> = {
    ...unused,
    'app:info': () => ({ version: '0.1.0', modelsDir: '/models', device: 'cpu', platform: 'linux' }),
    'models:list': () => [],
    'dialog:openVideo': () => null,
    'dialog:openProject': () => null,
    'recent:list': () => [],
    'recent:add': (request) => {
      calls.push({ name: 'recent:add', request });
      return [{ ...recentEntry, path: request.path }];
    },
    ...overrides
  };
  const ipc = new FakeIpcMain();
  const unregister = registerHandlers(ipc, handlers, { isTrustedSender: appUrlMatcher(APP_URL) });
  return { ipc, calls, unregister };
}

describe('registerHandlers', () => {
  it('registers one handler per contract method and removes them again', () => {
    const { ipc, unregister } = setup();
    expect([...ipc.listeners.keys()].sort()).toEqual([...INVOKE_NAMES].sort());
    unregister();
    expect(ipc.listeners.size).toBe(0);
  });

  it('passes a valid payload to the handler and returns its result', async () => {
    const { ipc, calls } = setup();
    const result = await ipc.invoke('recent:add', APP_URL, { path: '/videos/interview.mov' });
    expect(calls).toEqual([{ name: 'recent:add', request: { path: '/videos/interview.mov' } }]);
    expect(result).toEqual([{ ...recentEntry, path: '/videos/interview.mov' }]);
  });

  it('answers a method without payload', async () => {
    const { ipc } = setup();
    await expect(ipc.invoke('app:info', `${APP_URL}#/start`)).resolves.toEqual({ version: '0.1.0', modelsDir: '/models', device: 'cpu', platform: 'linux' });
  });

  it('rejects an invalid payload with an error naming the field, without calling the handler', async () => {
    const { ipc, calls } = setup();
    await expect(ipc.invoke('recent:add', APP_URL, { path: 42 })).rejects.toThrow('recent:add payload.path must be an absolute file path, got 42');
    await expect(ipc.invoke('recent:add', APP_URL, { path: 'relative/clip.mp4' })).rejects.toThrow('recent:add payload.path must be an absolute file path');
    await expect(ipc.invoke('recent:add', APP_URL, { path: '/a.mp4', extra: true })).rejects.toThrow('recent:add payload has an unexpected field "extra"');
    await expect(ipc.invoke('recent:add', APP_URL)).rejects.toThrow('recent:add payload must be an object, got undefined');
    await expect(ipc.invoke('recent:add', APP_URL, { path: '/a.mp4' }, 'second')).rejects.toThrow('recent:add takes at most one payload argument, got 2');
    await expect(ipc.invoke('models:list', APP_URL, { sneaky: 1 })).rejects.toThrow('models:list payload must be absent');
    expect(calls).toEqual([]);
  });

  it('validates a fine-tune request: steps and rank are integers in range, the project an absolute path', async () => {
    const started: unknown[] = [];
    const { ipc } = setup({
      'tune:start': (request) => {
        started.push(request);
        return { jobId: 'tune-1' };
      },
      'tune:estimate': () => ({ secondsPerStep: 1.5, secondsPerRender: 0.1, framesPerStep: 4, localityPerStep: 2, encoded: 32, tuned: 24, heldOut: 8, deltaBytes: 151_518, maxRank: 8 })
    });
    const good = { project: '/p/talk.stylecast', steps: 600, rank: 8 };
    const bad: [unknown, string][] = [
      [{ ...good, steps: 0 }, 'tune:start payload.steps must be an integer from 1 to 20000, got 0'],
      [{ ...good, steps: 20_001 }, 'tune:start payload.steps must be an integer from 1 to 20000, got 20001'],
      [{ ...good, steps: 1.5 }, 'tune:start payload.steps must be an integer from 1 to 20000, got 1.5'],
      [{ ...good, steps: '600' }, 'tune:start payload.steps must be an integer from 1 to 20000, got "600"'],
      [{ ...good, rank: 0 }, 'tune:start payload.rank must be an integer from 1 to 64, got 0'],
      [{ ...good, rank: 65 }, 'tune:start payload.rank must be an integer from 1 to 64, got 65'],
      [{ ...good, rank: Number.NaN }, 'tune:start payload.rank must be an integer from 1 to 64, got NaN'],
      [{ ...good, project: 'talk.stylecast' }, 'tune:start payload.project must be an absolute file path'],
      [{ project: good.project, steps: 600 }, 'tune:start payload.rank must be an integer from 1 to 64, got undefined'],
      [{ ...good, lr: 0.5 }, 'tune:start payload has an unexpected field "lr"']
    ];
    for (const [payload, message] of bad) await expect(ipc.invoke('tune:start', APP_URL, payload)).rejects.toThrow(message);
    expect(started).toEqual([]);
    await expect(ipc.invoke('tune:start', APP_URL, good)).resolves.toEqual({ jobId: 'tune-1' });
    expect(started).toEqual([good]);
    await expect(ipc.invoke('tune:estimate', APP_URL, { project: good.project, rank: 100 })).rejects.toThrow('tune:estimate payload.rank must be an integer from 1 to 64, got 100');
    await expect(ipc.invoke('tune:estimate', APP_URL, { project: good.project, rank: 8 })).resolves.toMatchObject({ secondsPerStep: 1.5, maxRank: 8 });
    // The viewer's before/after flag is required and boolean.
    const render = { project: good.project, frame: 0, params: new Array(35).fill(0), size: null };
    await expect(ipc.invoke('render:frame', APP_URL, render)).rejects.toThrow('render:frame payload.untuned must be true or false, got undefined');
    await expect(ipc.invoke('render:frame', APP_URL, { ...render, untuned: 'yes' })).rejects.toThrow('render:frame payload.untuned must be true or false, got "yes"');
    // Finite as a double, Infinity as the float32 the renderer takes: refused.
    const huge = new Array(35).fill(0);
    huge[7] = 1e39;
    await expect(ipc.invoke('render:frame', APP_URL, { ...render, params: huge, untuned: false })).rejects.toThrow('render:frame payload.params[7] must be a number from -1000000 to 1000000, got 1e+39');
  });

  it('rejects calls from a frame that is not the app page', async () => {
    const { ipc, calls } = setup();
    await expect(ipc.invoke('recent:add', 'https://evil.example/', { path: '/a.mp4' })).rejects.toThrow(
      'Refused "recent:add" from https://evil.example/: only the Stylecast window may call the app API'
    );
    await expect(ipc.invoke('recent:add', 'file:///tmp/other.html', { path: '/a.mp4' })).rejects.toThrow('Refused "recent:add" from file:///tmp/other.html');
    await expect(ipc.invoke('recent:add', null, { path: '/a.mp4' })).rejects.toThrow('from a frame that no longer exists');
    expect(calls).toEqual([]);
  });

  it('rejects a handler result that breaks the contract', async () => {
    const { ipc } = setup({ 'models:list': () => [{ id: 'm', name: 'model', resolution: 0, path: '/models/m' }] });
    await expect(ipc.invoke('models:list', APP_URL)).rejects.toThrow('models:list result[0].resolution must be a positive integer, got 0');
  });
});

describe('appUrlMatcher', () => {
  it('accepts the same dev-server origin only', () => {
    const isApp = appUrlMatcher('http://localhost:5173/');
    expect(isApp('http://localhost:5173/index.html?x=1')).toBe(true);
    expect(isApp('http://localhost:5174/')).toBe(false);
    expect(isApp('http://127.0.0.1:5173/')).toBe(false);
    expect(isApp('not a url')).toBe(false);
  });

  it('accepts the same file, ignoring query and hash', () => {
    const isApp = appUrlMatcher(APP_URL);
    expect(isApp(`${APP_URL}?a=1#b`)).toBe(true);
    expect(isApp('file:///opt/stylecast/out/renderer/other.html')).toBe(false);
    expect(isApp('devtools://devtools/bundled/inspector.html')).toBe(false);
  });

  it('refuses the same path on another host (file://host/ is SMB on Windows)', () => {
    const isApp = appUrlMatcher(APP_URL);
    expect(isApp('file://attacker.example/opt/stylecast/out/renderer/index.html')).toBe(false);
    expect(isApp('file:///opt/stylecast/out/renderer/index.html')).toBe(true);
  });
});

describe('guardWebContents', () => {
  /** Fires a forged navigation at the guard and says whether it was blocked. */
  function contents() {
    const listeners = new Map<string, (e: { url: string; preventDefault(): void }) => void>();
    let opener: ((d: { url: string }) => { action: string }) | null = null;
    const fake = {
      setWindowOpenHandler: (h: (d: { url: string }) => { action: 'deny' }) => void (opener = h),
      on: (name: string, l: (e: { url: string; preventDefault(): void }) => void) => void listeners.set(name, l)
    };
    guardWebContents(fake as unknown as GuardedContents, appUrlMatcher(APP_URL));
    const blocked = (name: string, url: string): boolean => {
      let prevented = false;
      listeners.get(name)!({ url, preventDefault: () => (prevented = true) });
      return prevented;
    };
    return { blocked, open: (url: string) => opener!({ url }).action };
  }

  it('blocks a sub-frame navigating to another host or file, on will-frame-navigate as on will-navigate', () => {
    const c = contents();
    for (const name of ['will-navigate', 'will-frame-navigate', 'will-redirect']) {
      expect(c.blocked(name, 'file://evil-host/opt/stylecast/out/renderer/index.html')).toBe(true);
      expect(c.blocked(name, 'https://example.com/')).toBe(true);
      expect(c.blocked(name, `${APP_URL}#editor`)).toBe(false);
    }
    expect(c.open('https://example.com/')).toBe('deny');
  });
});

describe('sendEvent', () => {
  it('sends a valid event and refuses an invalid one', () => {
    const sent: unknown[][] = [];
    const target = { send: (...args: unknown[]) => void sent.push(args), isDestroyed: () => false };
    const progress = { jobId: 'j1', kind: 'encode', stage: 'frames', fraction: 0.25, etaSec: 12, message: 'frame 25 of 100', frame: 25, of: 100, loss: 0.01 } as const;
    sendEvent(target, 'job:progress', progress);
    expect(sent).toEqual([['job:progress', progress]]);
    expect(() => sendEvent(target, 'job:progress', { ...progress, fraction: 1.5 })).toThrow(
      'job:progress event.fraction must be a number from 0 to 1, got 1.5'
    );
    expect(sent).toHaveLength(1);
  });
});
