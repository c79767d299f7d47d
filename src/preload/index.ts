// Exposes exactly the IPC contract on window.stylecast. The API is built from
// the contract's lists, so a channel that is not in the contract cannot be
// reached, and the renderer never sees ipcRenderer or an IPC event object.
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import { isEventName, isInvokeName, validateRequest, type StylecastApi } from '../shared/contract';

const api: StylecastApi = {
  invoke(name, ...args) {
    if (!isInvokeName(name)) return Promise.reject(new Error(`"${String(name)}" is not a Stylecast API method`));
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

  pathForFile(file) {
    return webUtils.getPathForFile(file);
  }
};

contextBridge.exposeInMainWorld('stylecast', api);
