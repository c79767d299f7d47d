import type { StylecastApi } from '../../shared/contract';

declare global {
  interface Window {
    /** Set by the preload script (src/preload/index.ts); absent when the page runs anywhere else. */
    readonly stylecast: StylecastApi;
  }
}

export {};
