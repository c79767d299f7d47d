// The preload script runs against a mocked 'electron': it must expose only the
// contract's channels and never hand the renderer an IPC event object.
import { describe, it, expect, vi, beforeAll } from 'vitest';
import type { StylecastApi } from '../../src/shared/contract';

const ipc = vi.hoisted(() => ({
  invoked: [] as unknown[][],
  listeners: new Map<string, ((event: unknown, payload: unknown) => void)[]>(),
  exposed: new Map<string, unknown>()
}));

vi.mock('electron', () => ({
  contextBridge: { exposeInMainWorld: (key: string, value: unknown) => ipc.exposed.set(key, value) },
  ipcRenderer: {
    invoke: async (...args: unknown[]) => {
      ipc.invoked.push(args);
      return 'answer';
    },
    on: (channel: string, listener: (event: unknown, payload: unknown) => void) => {
      ipc.listeners.set(channel, [...(ipc.listeners.get(channel) ?? []), listener]);
    },
    removeListener: (channel: string, listener: unknown) => {
      ipc.listeners.set(channel, (ipc.listeners.get(channel) ?? []).filter((l) => l !== listener));
    }
  },
  webUtils: { getPathForFile: (file: { name: string }) => (file.name ? `/dropped/${file.name}` : '') }
}));

let api: StylecastApi;
beforeAll(async () => {
  await import('../../src/preload/index');
  api = ipc.exposed.get('stylecast') as StylecastApi;
});

describe('preload', () => {
  it('exposes one object with invoke, on and openDroppedFile, nothing else', () => {
    expect([...ipc.exposed.keys()]).toEqual(['stylecast']);
    expect(Object.keys(api).sort()).toEqual(['invoke', 'on', 'openDroppedFile']);
  });

  it('forwards a contract method to its channel', async () => {
    await expect(api.invoke('recent:add', { path: '/v/a.mp4' })).resolves.toBe('answer');
    await expect(api.invoke('models:list')).resolves.toBe('answer');
    expect(ipc.invoked).toEqual([['recent:add', { path: '/v/a.mp4' }], ['models:list']]);
  });

  it('refuses channels outside the contract and invalid payloads before sending', async () => {
    ipc.invoked.length = 0;
    const raw = api as unknown as { invoke(name: string, ...args: unknown[]): Promise<unknown> };
    await expect(raw.invoke('fs:readFile', '/etc/passwd')).rejects.toThrow('"fs:readFile" is not a Stylecast API method');
    await expect(raw.invoke('recent:add', { path: 'clip.mp4' })).rejects.toThrow('recent:add payload.path must be an absolute file path, got "clip.mp4"');
    expect(ipc.invoked).toEqual([]);
    expect(() => (api as unknown as { on(name: string, cb: () => void): void }).on('anything', () => {})).toThrow('"anything" is not a Stylecast API event');
  });

  it('delivers event payloads without the IPC event and unsubscribes', () => {
    const received: unknown[][] = [];
    const off = api.on('job:progress', (...args: unknown[]) => received.push(args));
    const payload = { jobId: 'j', stage: 'Encoding', fraction: 0.5, etaSec: null, message: '' };
    for (const l of ipc.listeners.get('job:progress')!) l({ sender: 'ipc internals' }, payload);
    off();
    expect(received).toEqual([[payload]]);
    expect(ipc.listeners.get('job:progress')).toEqual([]);
  });

  it('opens a dropped file with the path Electron gives, and the page cannot name one', async () => {
    ipc.invoked.length = 0;
    await expect(api.openDroppedFile({ name: 'talk.mov' } as File)).resolves.toBe('answer');
    // A File the page made itself has no path: nothing is sent.
    await expect(api.openDroppedFile({ name: '' } as File)).resolves.toBeNull();
    const raw = api as unknown as { invoke(name: string, ...args: unknown[]): Promise<unknown> };
    await expect(raw.invoke('file:openDropped', { path: '/etc/passwd' })).rejects.toThrow('"file:openDropped" is not a Stylecast API method');
    expect(ipc.invoked).toEqual([['file:openDropped', { path: '/dropped/talk.mov' }]]);
  });
});
