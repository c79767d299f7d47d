// Exposes exactly the IPC contract on window.stylecast. The API is built from
// the contract's lists, so a channel that is not in the contract cannot be
// reached, and the renderer never sees ipcRenderer or an IPC event object.
// The one preload-only method (file:openDropped) takes its path from Electron,
// never from the page.
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import { isEventName, isPageInvokeName, validateRequest, type StylecastApi } from '../shared/contract';

const api: StylecastApi = {
  invoke(name, ...args) {
    if (!isPageInvokeName(name)) return Promise.reject(new Error(`"${String(name)}" is not a Stylecast API method`));
    try {
      // Main validates again; checking here too gives the caller a clear error
      // without a round trip.
      validateRequest(name, args[0]);
    } catch (e) {
      return Promise.reject(e as Error);
    }
    return ipcRenderer.invoke(name, ...args);
  },

  on(name, listener) {
    if (!isEventName(name)) throw new Error(`"${String(name)}" is not a Stylecast API event`);
    if (typeof listener !== 'function') throw new Error(`stylecast.on("${name}"): the listener must be a function`);
    const forward = (_event: IpcRendererEvent, payload: unknown): void => (listener as (p: unknown) => void)(payload);
    ipcRenderer.on(name, forward);
    return () => {
      ipcRenderer.removeListener(name, forward);
    };
  },

  async openDroppedFile(file) {
    // Electron answers '' for a File the page made itself or one with no place on disk.
    const path = webUtils.getPathForFile(file);
    if (!path) return null;
    return (await ipcRenderer.invoke('file:openDropped', { path })) as string;
  }
};

contextBridge.exposeInMainWorld('stylecast', api);
